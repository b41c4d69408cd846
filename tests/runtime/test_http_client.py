"""The REST provider's HTTP client (`specbridge_runtime._mechanisms.http.upstream_client`: with
SPECBRIDGE_FAST_IO on, HTTP/1.1 on asyncio parsed by httptools; off, httpx2's own transport; every test runs on
both) against real loopback servers: keep-alive within httpx2's limits, a connection the server closed (or
wrote to) while idle is not reused, large bodies both ways, the size limit held while the body streams in,
httpx2's timeouts and errors, TLS verified (the CA trusted as SSL_CERT_FILE says, as httpx2 does, and the
server's name), and a proxy named by the environment."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
from pathlib import Path

import httpx2
import pytest
from cryptography import x509
from specbridge_runtime._mechanisms.http import DEFAULT_LIMITS, HttpxUpstream, upstream_client
from specbridge_runtime._mechanisms.http11 import BodyTooLarge, Http11Pool

from tests.runtime.loopback import LoopbackServer, certificates, fetch, read_head, serving

pytestmark = pytest.mark.usefixtures("no_proxies")


def test_the_switch_picks_the_client() -> None:
    assert isinstance(upstream_client(timeout_s=1), Http11Pool)
    assert isinstance(upstream_client(timeout_s=1, fast=False), HttpxUpstream)
    mock = httpx2.MockTransport(lambda request: httpx2.Response(200))  # a test's transport is always used
    assert isinstance(upstream_client(timeout_s=1, transport=mock), HttpxUpstream)


async def test_connections_are_kept_alive_and_not_reused_once_the_server_closed_them(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=0.2)
    async with serving(upstream) as url:
        client = upstream_client(timeout_s=10, fast=fast)
        for _ in range(3):
            assert (await fetch(client, "GET", f"{url}/kept"))[1] == b"ok"
        assert upstream.connections == 1
        await asyncio.sleep(0.6)  # the server has closed the idle connection
        assert (await fetch(client, "GET", f"{url}/after"))[1] == b"ok"  # on a new connection, without an error
        assert upstream.connections == 2
        await client.aclose()


async def test_a_connection_the_server_wrote_to_while_idle_is_not_reused(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)

    async def answer_then_babble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if upstream.connections == 1:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await asyncio.sleep(0.1)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale")  # answers nothing asked
            await asyncio.sleep(5)
        else:
            await upstream.handle(reader, writer)

    async with serving(upstream, handler=answer_then_babble) as url:
        client = upstream_client(timeout_s=10, fast=fast)
        assert (await fetch(client, "GET", f"{url}/first"))[1] == b"ok"
        await asyncio.sleep(0.3)
        assert (await fetch(client, "GET", f"{url}/second"))[1] == b"ok"  # not "stale"
        await client.aclose()
    assert upstream.connections == 2


async def test_the_pool_keeps_httpx2s_limits(fast: bool) -> None:
    assert httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0) == DEFAULT_LIMITS
    upstream = LoopbackServer(idle_s=10)

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await read_head(reader)
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    limits = httpx2.Limits(max_connections=3, max_keepalive_connections=1, keepalive_expiry=0.3)
    async with serving(upstream, handler=slow) as url:
        client = upstream_client(timeout_s=10, fast=fast, limits=limits)
        answers = await asyncio.gather(*(fetch(client, "GET", f"{url}/{n}") for n in range(9)))
        assert [body for _, body in answers] == [b"ok"] * 9
        assert upstream.connections == upstream.most_open == 3  # never more than max_connections at once
        await asyncio.sleep(0.1)
        assert upstream.open == 1  # one kept idle; the others were closed
        assert (await fetch(client, "GET", f"{url}/kept"))[1] == b"ok"
        assert upstream.connections == 3
        await asyncio.sleep(0.5)  # past keepalive_expiry
        assert (await fetch(client, "GET", f"{url}/expired"))[1] == b"ok"
        assert upstream.connections == 4
        await client.aclose()


async def test_a_full_pool_is_a_pool_timeout(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=10)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    async with serving(upstream, handler=silent) as url:
        client = upstream_client(timeout_s=10, fast=fast, limits=httpx2.Limits(max_connections=1))
        waiting = asyncio.create_task(fetch(client, "GET", f"{url}/holds-the-only-connection"))
        await asyncio.sleep(0.2)
        with pytest.raises(httpx2.PoolTimeout):
            await fetch(client, "GET", f"{url}/waits", extensions={"timeout": {
                "connect": 5.0, "read": 5.0, "write": 5.0, "pool": 0.2}})
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)
        await client.aclose()


async def test_large_bodies_stream_both_ways(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)
    big = bytes(range(256)) * 16384  # 4 MiB

    async def send_big(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(big))
        for start in range(0, len(big), 100_000):
            writer.write(big[start:start + 100_000])
            await writer.drain()
        await asyncio.sleep(5)

    client = upstream_client(timeout_s=30, fast=fast)
    async with serving(upstream) as url:
        assert (await fetch(client, "POST", f"{url}/upload", content=big * 2))[1] == str(2 * len(big)).encode()
    async with serving(LoopbackServer(idle_s=5), handler=send_big) as url:
        assert (await fetch(client, "GET", f"{url}/download"))[1] == big
    await client.aclose()


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_the_size_limit_holds_while_the_body_streams_in(fast: bool, framing: str) -> None:
    limit, total, piece = 2 * 1024 * 1024, 40 * 1024 * 1024, b"x" * 65536
    sent: list[int] = []

    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        framed = b"transfer-encoding: chunked" if framing == "chunked" else b"content-length: %d" % total
        writer.write(b"HTTP/1.1 200 OK\r\n%s\r\n\r\n" % framed)
        sent.append(0)
        while sent[0] < total:
            writer.write(b"%x\r\n%s\r\n" % (len(piece), piece) if framing == "chunked" else piece)
            sent[0] += len(piece)
            await writer.drain()

    async with serving(LoopbackServer(idle_s=5), handler=endless) as url:
        client = upstream_client(timeout_s=30, fast=fast)
        tracemalloc.start()
        try:
            with pytest.raises(BodyTooLarge):
                await fetch(client, "GET", f"{url}/big", max_body=limit)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        await client.aclose()
    assert peak < limit + 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    if framing == "chunked":  # a declared length over the limit is refused before any of the body is read
        assert sent[0] < total  # not read further: the server could not send it all


async def test_an_encoded_body_is_decoded_within_the_limit(fast: bool) -> None:
    small, bomb = gzip.compress(b'{"ok": true}'), gzip.compress(bytes(50 * 1024 * 1024))  # 50 MB of zeros

    async def gzipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            request = await read_head(reader)
            body = bomb if b"/bomb" in request.split(b"\r\n", 1)[0] else small
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n%s"
                         % (len(body), body))
            await writer.drain()

    async with serving(LoopbackServer(idle_s=5), handler=gzipped) as url:
        client = upstream_client(timeout_s=10, fast=fast)
        assert (await fetch(client, "GET", f"{url}/small"))[1] == b'{"ok": true}'
        with pytest.raises(BodyTooLarge):
            await fetch(client, "GET", f"{url}/bomb", max_body=1024 * 1024)
        await client.aclose()


async def test_timeouts_and_failures_are_httpx2_errors(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)  # reads nothing, answers nothing

    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly this")
        await writer.drain()

    async with serving(upstream, handler=silent) as url:
        client = upstream_client(timeout_s=0.3, fast=fast)
        with pytest.raises(httpx2.ReadTimeout):
            await fetch(client, "GET", f"{url}/slow")
        with pytest.raises(httpx2.WriteTimeout):
            await fetch(client, "POST", f"{url}/unread", content=b"x" * 64_000_000)
        await client.aclose()
    async with serving(upstream, handler=cut_short) as url:
        client = upstream_client(timeout_s=5, fast=fast)
        with pytest.raises(httpx2.RemoteProtocolError):
            await fetch(client, "GET", f"{url}/short")
        port = int(url.rsplit(":", 1)[1])
    with pytest.raises(httpx2.ConnectError):
        await fetch(client, "GET", f"http://127.0.0.1:{port}/gone")  # nothing listens there any more
    await client.aclose()


async def test_tls_is_verified_and_served_over_kept_connections(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    ca_file, tls = certificates(tmp_path)
    upstream = LoopbackServer(idle_s=5)
    async with serving(upstream, tls) as url:
        client = upstream_client(timeout_s=10, fast=fast)
        with pytest.raises(httpx2.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await fetch(client, "GET", f"{url}/untrusted")
        await client.aclose()
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
        client = upstream_client(timeout_s=10, fast=fast)
        first = await fetch(client, "GET", f"{url}/trusted")
        second = await fetch(client, "GET", f"{url}/again")
        await client.aclose()
    assert first[1] == second[1] == b"ok"
    assert upstream.request_lines[-2:] == [b"GET /trusted HTTP/1.1", b"GET /again HTTP/1.1"]
    assert upstream.connections == 1  # kept for both requests (the refused handshake never got this far)


async def test_a_certificate_for_another_name_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          fast: bool) -> None:
    ca_file, tls = certificates(tmp_path, [x509.DNSName("api.example.test")])  # a trusted CA, another name
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    async with serving(LoopbackServer(idle_s=5), tls) as url:
        client = upstream_client(timeout_s=10, fast=fast)
        with pytest.raises(httpx2.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED.*mismatch"):
            await fetch(client, "GET", f"{url}/elsewhere")
        await client.aclose()


async def test_a_proxy_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, fast: bool) -> None:
    proxy = LoopbackServer(idle_s=5)
    async with serving(proxy) as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        client = upstream_client(timeout_s=10, fast=fast)
        assert (await fetch(client, "GET", "http://api.example.test/items?a=1"))[1] == b"ok"
        await client.aclose()
    assert proxy.request_lines == [b"GET http://api.example.test/items?a=1 HTTP/1.1"]
