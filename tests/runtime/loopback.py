"""Loopback HTTP/1.1 servers for the tests of the REST provider's HTTP client (`test_http_client.py`,
`test_http_framing.py`): raw asyncio, so they can answer byte by byte as a test needs, and a way to send one
request through either client (`SPECBRIDGE_FAST_IO` on: httptools on asyncio; off: httpx2's own transport)."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from specbridge_runtime._mechanisms.http import Upstream

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
LIMIT = 10 * 1024 * 1024  # the default size limit of a response


async def read_head(reader: asyncio.StreamReader) -> bytes:
    """One request's head and body (by its Content-Length) as the bytes that came."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.lower().split(b"\r\n")
                   if line.startswith(b"content-length:")), 0)
    return head + await reader.readexactly(length)


class LoopbackServer:
    """An HTTP/1.1 server on 127.0.0.1 that answers every request `ok` (or the size of the body it got),
    keeps connections alive, and closes one that stays idle longer than `idle_s`; it records the
    connections, the requests (whole, as received) and their request lines."""

    def __init__(self, idle_s: float) -> None:
        self.idle_s = idle_s
        self.connections = 0
        self.open = 0  # connections open now
        self.most_open = 0
        self.requests: list[bytes] = []
        self.handlers: set[asyncio.Task[None]] = set()

    @property
    def request_lines(self) -> list[bytes]:
        return [request.split(b"\r\n", 1)[0] for request in self.requests]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                request = await asyncio.wait_for(read_head(reader), self.idle_s)
            except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                return
            self.requests.append(request)
            body_size = len(request.split(b"\r\n\r\n", 1)[1])
            body = str(body_size).encode() if body_size else b"ok"
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(upstream: LoopbackServer, tls: ssl.SSLContext | None = None,
                  handler: Handler | None = None) -> AsyncIterator[str]:
    """`upstream` on 127.0.0.1 (its connections answered by `handler` instead of `upstream.handle` if given)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        upstream.handlers.add(task)
        upstream.connections += 1
        upstream.open += 1
        upstream.most_open = max(upstream.most_open, upstream.open)
        try:
            await (handler or upstream.handle)(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: what some tests do on purpose
        finally:
            upstream.open -= 1
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.close()
        for task in upstream.handlers:
            task.cancel()
        await asyncio.gather(*upstream.handlers, return_exceptions=True)


async def fetch(client: Upstream, method: str, url: str, *, max_body: int = LIMIT,
                **request: object) -> tuple[httpx2.Response, bytes]:
    """One request through `client`, as the REST provider sends it (`request`: `httpx2.Request`'s arguments)."""
    return await client.send(httpx2.Request(method, url, **request), max_body=max_body)  # type: ignore[arg-type]


LOOPBACK = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))


def certificates(directory: Path, names: Sequence[x509.GeneralName] = (LOOPBACK,)) -> tuple[Path, ssl.SSLContext]:
    """A CA certificate file, and a server context with a certificate for `names` (127.0.0.1) that the CA
    signed."""
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
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "specbridge test server")]))
              .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(hours=1))
              .add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
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
