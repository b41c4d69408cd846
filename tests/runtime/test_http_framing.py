"""How the REST provider's HTTP client reads and writes HTTP/1.1, on both clients (`SPECBRIDGE_FAST_IO` on:
httptools on asyncio; off: httpx2's own transport), against raw loopback servers: every way a body is framed
(and when there is none), interim responses, `Connection: close`; a malformed answer is a
`RemoteProtocolError` at once, never a hang; the bytes of a request are the same on both clients (the
provider's own requests: query, headers, User-Agent, JSON, form and multipart bodies); a header that would
split the request is refused; no cookie is kept."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable

import httpx2
import pytest
from specbridge_runtime._core.descriptors import Body, ConnectorSpec, Operation, Param
from specbridge_runtime._mechanisms.http import upstream_client
from specbridge_runtime._mechanisms.request import build_request, user_agent

from tests.runtime.loopback import LoopbackServer, fetch, read_head, serving

# What the server answers per request path; each keeps the connection open unless it says otherwise.
ANSWERS = {
    b"/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    b"/head": b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",  # what a HEAD is answered: no body
    b"/204": b"HTTP/1.1 204 No Content\r\n\r\n",
    b"/304": b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
    b"/early": b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    b"/close": b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye",
    b"/eof": b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",  # no length: the close ends it
}


pytestmark = pytest.mark.usefixtures("no_proxies")


async def answer_by_path(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        path = (await read_head(reader)).split(b" ", 2)[1]
        writer.write(ANSWERS[path])
        await writer.drain()
        if path in (b"/close", b"/eof"):
            return


async def test_every_framing_of_a_body_and_none(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)
    async with serving(upstream, handler=answer_by_path) as url:
        client = upstream_client(timeout_s=5, fast=fast)

        async def get(path: str, method: str = "GET") -> tuple[int, bytes]:
            response, body = await fetch(client, method, url + path)
            return response.status_code, body

        assert await get("/length") == (200, b"hello")
        assert await get("/chunked") == (200, b"hello world")
        assert await get("/head", "HEAD") == (200, b"")
        assert await get("/204") == (204, b"")
        assert await get("/304") == (304, b"")
        assert await get("/early") == (200, b"ok")  # the interim response is passed over
        assert upstream.connections == 1  # all on one kept connection
        assert await get("/close") == (200, b"bye")
        assert await get("/length") == (200, b"hello")
        assert upstream.connections == 2  # the server said close: a new connection
        assert await get("/eof") == (200, b"until the end")
        assert await get("/length") == (200, b"hello")
        assert upstream.connections == 3
        response, _ = await fetch(client, "GET", url + "/length")
        assert (response.http_version, response.reason_phrase) == ("HTTP/1.1", "OK")
        assert response.request.url == httpx2.URL(url + "/length")
        await client.aclose()


# Answers that are not HTTP/1.1; after each, the server keeps the connection open and says nothing more.
MALFORMED = {
    "garbage status line": b"HELLO THERE\r\nnot http at all\r\n\r\n",
    "status code not a number": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n",
    "header without a colon": b"HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\nhello",
    "two lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
    "oversized head": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (n, b"f" * 1000)
                                                       for n in range(200)),
    "switching protocols unasked": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                   b"Connection: upgrade\r\n\r\n\x81\x05hello",
}


@pytest.mark.parametrize("answer", MALFORMED.values(), ids=MALFORMED.keys())
async def test_a_malformed_answer_is_a_protocol_error_not_a_hang(fast: bool, answer: bytes) -> None:
    async def malformed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(answer)
        await writer.drain()
        await reader.read()  # until the client gives up on the connection

    async with serving(LoopbackServer(idle_s=5), handler=malformed) as url:
        client = upstream_client(timeout_s=30, fast=fast)  # a timeout would say ReadTimeout, and take 30 s
        with pytest.raises(httpx2.RemoteProtocolError):
            await fetch(client, "GET", f"{url}/bad")
        await client.aclose()


async def test_a_server_that_closes_without_an_answer(fast: bool) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)

    async with serving(LoopbackServer(idle_s=5), handler=hang_up) as url:
        client = upstream_client(timeout_s=5, fast=fast)
        with pytest.raises(httpx2.RemoteProtocolError, match="disconnected without sending a response"):
            await fetch(client, "GET", f"{url}/nothing")
        await client.aclose()


CONNECTOR = ConnectorSpec(name="shop", title="Shop", version="1.0", base_url="http://127.0.0.1")


def operations() -> list[tuple[Operation, dict[str, object]]]:
    """Requests the provider builds (`build_request`) and the arguments of each."""
    params = (Param(name="id", arg="id", location="path"), Param(name="q", arg="q", location="query"),
              Param(name="tags", arg="tags", location="query", explode=True),
              Param(name="X-Trace", arg="trace", location="header"))
    search = Operation(tool="search", method="GET", path="/items/{id}", input_model="M", accept="application/json",
                       params=params)
    create = Operation(tool="create", method="POST", path="/items", input_model="M",
                       body=Body(media_type="application/json", arg="body", required=True))
    form = Operation(tool="form", method="PUT", path="/form", input_model="M",
                     body=Body(media_type="application/x-www-form-urlencoded", arg="body"))
    upload = Operation(tool="upload", method="POST", path="/upload", input_model="M",
                       body=Body(media_type="multipart/form-data", arg="body", files=("file",)))
    return [
        (search, {"id": "a/b c", "q": "größe & more", "tags": ["x", "y"], "trace": "t-1"}),
        (create, {"body": {"name": "widget", "price": 9.99, "tags": ["ü"]}}),
        (form, {"body": {"name": "a b", "nested": {"k": "v"}}}),
        (upload, {"body": {"note": "hello", "file": "aGVsbG8gd29ybGQ="}}),
        (Operation(tool="remove", method="DELETE", path="/items/1", input_model="M"), {}),
    ]


async def test_the_request_bytes_are_the_same_on_both_clients() -> None:
    upstream = LoopbackServer(idle_s=5)
    boundary: Callable[[bytes], bytes] = lambda request: re.sub(rb"[0-9a-f]{32}", b"BOUNDARY", request)  # noqa: E731
    async with serving(upstream) as url:
        for fast in (True, False):
            client = upstream_client(timeout_s=5, fast=fast)
            for operation, arguments in operations():
                request = build_request(operation, arguments, base_url=url, static_headers=(("X-Shop", "main"),),
                                        agent=user_agent(CONNECTOR))
                await client.send(request, max_body=1024)
            await client.aclose()
    sent = [boundary(request) for request in upstream.requests]
    half = len(sent) // 2
    assert sent[:half] == sent[half:]
    search, create = sent[0].decode(), sent[1].decode()
    assert search.startswith("GET /items/a%2Fb%20c?q=gr%C3%B6%C3%9Fe%20%26%20more&tags=x&tags=y HTTP/1.1\r\n")
    assert "\r\nUser-Agent: shop-mcp/1.0 specbridge-runtime/" in search and "\r\nX-Trace: t-1\r\n" in search
    assert create.endswith('\r\n\r\n{"name":"widget","price":9.99,"tags":["ü"]}')
    assert b"Content-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n" in sent[3]


async def test_a_streamed_request_body_is_sent_chunked(fast: bool) -> None:
    received: list[bytes] = []

    async def dechunk(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        assert b"\r\ntransfer-encoding: chunked\r\n" in head.lower()
        body = b""
        while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")  # the empty trailer
        received.append(body)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()

    async def parts() -> AsyncIterator[bytes]:
        for part in (b"hello", b" ", b"world"):
            yield part

    async with serving(LoopbackServer(idle_s=5), handler=dechunk) as url:
        client = upstream_client(timeout_s=5, fast=fast)
        assert (await fetch(client, "POST", f"{url}/stream", content=parts()))[1] == b"ok"
        await client.aclose()
    assert received == [b"hello world"]


async def test_a_header_that_would_split_the_request_is_refused(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)
    async with serving(upstream) as url:
        client = upstream_client(timeout_s=5, fast=fast)
        for name, value in (("X-Note", "a\r\nInjected: yes"), ("X-Note", "a\nb"), ("Bad Name", "v")):
            with pytest.raises(httpx2.LocalProtocolError):
                await fetch(client, "GET", f"{url}/x", headers=[(name, value)])
        await client.aclose()
    assert upstream.requests == []  # nothing was sent


async def test_no_cookie_is_kept(fast: bool) -> None:
    upstream = LoopbackServer(idle_s=5)

    async def set_cookie(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            upstream.requests.append(await read_head(reader))
            writer.write(b"HTTP/1.1 200 OK\r\nSet-Cookie: session=s3cret; Path=/\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()

    async with serving(upstream, handler=set_cookie) as url:
        client = upstream_client(timeout_s=5, fast=fast)
        first, _ = await fetch(client, "GET", f"{url}/login")
        await fetch(client, "GET", f"{url}/next")
        await client.aclose()
    assert first.headers["set-cookie"] == "session=s3cret; Path=/"
    assert b"cookie" not in upstream.requests[1].lower()
