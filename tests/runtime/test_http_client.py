"""The REST provider's HTTP client (`specbridge_runtime._mechanisms.http`: httpx2 on asyncio connections, and
with SPECBRIDGE_FAST_IO=0 httpx2's own transport; every test runs on both) against real loopback servers:
keep-alive, a connection the server closed (or wrote to) while idle is not reused, large bodies both ways,
httpx2's timeouts and errors, TLS verified (trusting what SSL_CERT_FILE names, as httpx2 does), and a proxy
named by the environment."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from specbridge_runtime._mechanisms.http import http_client

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


class Upstream:
    """An HTTP/1.1 server on 127.0.0.1 that answers every request `ok`, keeps connections alive, and closes
    one that stays idle longer than `idle_s`; it records the connections and request lines it saw."""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self.connections = 0
        self.request_lines: list[bytes] = []
        self.handlers: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.idle_s)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            self.request_lines.append(head.split(b"\r\n", 1)[0])
            length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                           if line.startswith(b"content-length:")), 0)
            received = await reader.readexactly(length)
            body = str(len(received)).encode() if length else b"ok"
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(upstream: Upstream, tls: ssl.SSLContext | None = None,
                  handler: Handler | None = None) -> AsyncIterator[str]:
    """`upstream` on 127.0.0.1 (its connections answered by `handler` instead of `upstream.handle` if given)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        upstream.handlers.add(task)
        upstream.connections += 1
        try:
            await (handler or upstream.handle)(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        for handler in upstream.handlers:
            handler.cancel()
        await asyncio.gather(*upstream.handlers, return_exceptions=True)


@pytest.fixture(params=[True, False], ids=["fast-io", "stock-io"])
def fast(request: pytest.FixtureRequest) -> bool:
    """`SPECBRIDGE_FAST_IO` on (the runtime's asyncio connections) or off (httpx2's own transport)."""
    return bool(request.param)


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


async def test_connections_are_kept_alive_and_not_reused_once_the_server_closed_them(fast: bool) -> None:
    upstream = Upstream(idle_s=0.2)
    async with serving(upstream) as url, http_client(timeout_s=10, fast=fast) as client:
        for _ in range(3):
            assert (await client.get(f"{url}/kept")).text == "ok"
        assert upstream.connections == 1
        await asyncio.sleep(0.6)  # the server has closed the idle connection
        assert (await client.get(f"{url}/after")).text == "ok"  # on a new connection, without an error
        assert upstream.connections == 2


async def test_a_connection_the_server_wrote_to_while_idle_is_not_reused(fast: bool) -> None:
    upstream = Upstream(idle_s=5)

    async def answer_then_babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if upstream.connections == 1:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await asyncio.sleep(0.1)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale")  # answers nothing asked
            await asyncio.sleep(5)
        else:
            await upstream.handle(reader, writer)

    async with serving(upstream, handler=answer_then_babble) as url, http_client(timeout_s=10, fast=fast) as client:
        assert (await client.get(f"{url}/first")).text == "ok"
        await asyncio.sleep(0.3)
        assert (await client.get(f"{url}/second")).text == "ok"  # not "stale"
    assert upstream.connections == 2


async def test_large_bodies_stream_both_ways(fast: bool) -> None:
    upstream = Upstream(idle_s=5)
    big = bytes(range(256)) * 16384  # 4 MiB

    async def send_big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big))
        for start in range(0, len(big), 100_000):
            writer.write(big[start:start + 100_000])
            await writer.drain()
        await asyncio.sleep(5)

    async with serving(upstream) as url, http_client(timeout_s=30, fast=fast) as client:
        assert (await client.post(f"{url}/upload", content=big * 2)).text == str(2 * len(big))
    async with (serving(Upstream(idle_s=5), handler=send_big) as url, http_client(timeout_s=30, fast=fast) as client,
                client.stream("GET", f"{url}/download") as response):
        received = b"".join([chunk async for chunk in response.aiter_raw(7919)])  # read slowly, in small bits
    assert received == big


async def test_timeouts_and_failures_are_httpx2_errors(fast: bool) -> None:
    upstream = Upstream(idle_s=5)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # reads nothing, answers nothing

    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        await writer.drain()

    async with serving(upstream, handler=silent) as url, http_client(timeout_s=0.3, fast=fast) as client:
        with pytest.raises(httpx2.ReadTimeout):
            await client.get(f"{url}/slow")
        with pytest.raises(httpx2.WriteTimeout):
            await client.post(f"{url}/unread", content=b"x" * 64_000_000)
    async with serving(upstream, handler=cut_short) as url, http_client(timeout_s=5, fast=fast) as client:
        with pytest.raises(httpx2.RemoteProtocolError):
            await client.get(f"{url}/short")
        port = int(url.rsplit(":", 1)[1])
    async with http_client(timeout_s=5, fast=fast) as client:
        with pytest.raises(httpx2.ConnectError):
            await client.get(f"http://127.0.0.1:{port}/gone")  # nothing listens there any more


def certificates(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A CA certificate file, and a server context with a certificate for 127.0.0.1 that the CA signed."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "specbridge test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    server = (x509.CertificateBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                             critical=False)
              .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
    ca_file, chain, key = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(chain, key)
    return ca_file, context


async def test_tls_is_verified_and_served_over_kept_connections(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    ca_file, tls = certificates(tmp_path)
    upstream = Upstream(idle_s=5)
    async with serving(upstream, tls) as url:
        async with http_client(timeout_s=10, fast=fast) as client:
            with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await client.get(f"{url}/untrusted")
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        async with http_client(timeout_s=10, fast=fast) as client:
            first = await client.get(f"{url}/trusted")
            second = await client.get(f"{url}/again")
    assert first.text == second.text == "ok"
    assert first.extensions["network_stream"].get_extra_info("ssl_object") is not None
    assert upstream.request_lines[-2:] == [b"GET /trusted HTTP/1.1", b"GET /again HTTP/1.1"]
    assert upstream.connections == 1  # kept for both requests (the refused handshake never got this far)


async def test_a_proxy_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    proxy = Upstream(idle_s=5)
    async with serving(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        async with http_client(timeout_s=10, fast=fast) as client:
            assert (await client.get("http://api.example.test/items?a=1")).text == "ok"
    assert proxy.request_lines == [b"GET http://api.example.test/items?a=1 HTTP/1.1"]
