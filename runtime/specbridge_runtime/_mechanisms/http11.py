"""HTTP/1.1 exchanges with an upstream API on asyncio protocols, responses parsed by httptools (llhttp, the
C parser uvicorn uses): the lean path of `SPECBRIDGE_FAST_IO` (see `http.py`).

A REST call needs one whole response, its body bounded by the size limit, so a connection here does one
thing: write the request (an `httpx2.Request`, as `build_request` and `UpstreamAuth.apply` made it) and
collect the response as it arrives, then hand back an `httpx2.Response` with its body. The guarantees of
httpx2 over httpcore2 and h11 are kept, each tested in `tests/runtime/test_http_client.py`:

- keep-alive with httpx2's limits (`max_connections`, `max_keepalive_connections` idle, `keepalive_expiry`
  seconds), reusing the most recently used connection; one the server closed or wrote to while idle is
  never reused. A request on a kept connection that the server closes just then is not resent here: it
  fails like any broken exchange (`RemoteProtocolError`/`ReadError`), and the retry policy resends it only
  when the operation is idempotent (as with httpcore2);
- httpx2's timeouts from the request's `timeout` extension (connect, read: between received bytes, write,
  pool) and its errors: `ConnectError`/`ConnectTimeout` (TLS included, with httpx2's default SSL context),
  `ReadTimeout`, `WriteTimeout`, `PoolTimeout`, `ReadError`, `WriteError`, `RemoteProtocolError` for a
  malformed or cut-off answer, `LocalProtocolError` for a header the request may not carry;
- Content-Length, chunked and close-delimited bodies, no body for HEAD, 1xx, 204 and 304, `Connection:
  close`; a response head is at most `MAX_HEAD_BYTES`, a body at most the caller's limit (`BodyTooLarge`,
  nothing more is held), and a `Content-Encoding` is decoded by httpx2 within the same limit.
"""

from __future__ import annotations

import asyncio
import math
import re
import ssl
import sys
from collections import deque
from collections.abc import Callable

import httptools
import httpx2

# What h11 (httpcore2's parser) accepts for a response head before it gives up.
MAX_HEAD_BYTES = 100 * 1024
# Request bodies up to this size go out in the same write as the head.
_JOIN_BODY_BYTES = 64 * 1024
_DEFAULT_PORTS = {b"http": 80, b"https": 443}
_NOT_TOKEN = re.compile(rb"[^!#$%&'*+.^_`|~0-9A-Za-z-]")
_NOT_FIELD_VALUE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_TARGET = re.compile(rb"[\x00-\x20\x7f]")
_WAITING, _HEAD, _BODY, _DONE = range(4)


class BodyTooLarge(Exception):
    """The response body (declared or received) is over the caller's limit; it was not read further."""


async def read_within(response: httpx2.Response, limit: int) -> bytes:
    """The (decoded) body of a streamed `response`, refusing it as soon as it would exceed `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = bytearray()
    async for chunk in response.aiter_bytes():
        if len(body) + len(chunk) > limit:
            raise BodyTooLarge
        body += chunk
    return bytes(body)


class _Stop(Exception):
    """Raised in a parser callback to stop parsing: the exchange already holds its error."""


class _Connection(asyncio.Protocol):
    """One connection: at most one exchange at a time, the response fed to httptools as it arrives."""

    def __init__(self, pool: Http11Pool, key: tuple[bytes, bytes, int]) -> None:
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.usable = True  # False once the server closed it, wrote out of turn, or an exchange went wrong
        self.encoded = False  # the last response has a Content-Encoding (other than identity)
        self.idle_since = 0.0
        self._pool = pool
        self._loop = asyncio.get_running_loop()
        self._parser: httptools.HttpResponseParser | None = None  # set during an exchange only
        self._state = _WAITING
        self._head_only = False
        self._max_body = 0
        self._head_bytes = 0
        self._status = 0
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._body_bytes = 0
        self._framed = False  # Content-Length or chunked: the end is known without a close
        self._keep_alive = False
        self._error: Exception | None = None
        self._sending = False
        self._writing_paused = False
        self._wake: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._progress = 0.0  # loop time of the last byte received or write buffer drained
        self._timeout = 0.0
        self._timeout_error: type[httpx2.TimeoutException] = httpx2.ReadTimeout

    # asyncio's side

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None or self._state == _DONE:  # nothing was asked: the connection cannot be trusted
            self._lost()
            return
        self._progress = self._loop.time()
        try:
            parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx2.RemoteProtocolError("the server switched protocols, which was not asked for"))
        except httptools.HttpParserError as error:
            if self._state == _DONE:  # bytes after the whole response: it stands, the connection is spent
                self.usable = False
            elif self._error is None:  # not stopped by a callback
                self._fail(httpx2.RemoteProtocolError(f"the response is not valid HTTP/1.1: {error}"))
        if self._state <= _HEAD and self._error is None:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._fail(httpx2.RemoteProtocolError(f"the response head is over {MAX_HEAD_BYTES:,} bytes"))

    def eof_received(self) -> bool:
        self._ended(None)
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self._ended(exc)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        self._progress = self._loop.time()
        self._wakeup()

    # httptools' side

    def on_message_begin(self) -> None:
        if self._state == _DONE:  # a second response to one request
            raise _Stop

    def on_status(self, status: bytes) -> None:
        self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" or (lowered == b"transfer-encoding" and b"chunked" in value.lower()):
            self._framed = True
        elif lowered == b"content-encoding" and value.strip().lower() not in (b"", b"identity"):
            self.encoded = True

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:  # an interim response (100 Continue, 103 Early Hints)
            self._reason, self._headers, self._framed, self.encoded = b"", [], False, False
            return
        self._status = status
        self._keep_alive = self._parser.should_keep_alive()
        if self._head_only:
            self._finish()
            return
        self._state = _BODY
        declared = next((value for name, value in self._headers if name.lower() == b"content-length"), b"")
        if declared.isdigit() and int(declared) > self._max_body:
            self._fail(BodyTooLarge())
            raise _Stop

    def on_body(self, body: bytes) -> None:
        if self._state != _BODY:  # a body after the head of a HEAD response: the connection is spent
            raise _Stop
        self._body_bytes += len(body)
        if self._body_bytes > self._max_body:
            self._fail(BodyTooLarge())
            raise _Stop
        self._body.append(body)

    def on_message_complete(self) -> None:
        if self._state == _BODY:
            self._finish()

    # the exchange

    async def exchange(self, head: bytes, body: bytes, *, head_only: bool, max_body: int,
                       timeouts: dict[str, float | None]) -> tuple[int, bytes, list[tuple[bytes, bytes]], bytes]:
        """Send a request and wait for its whole response: (status, reason, headers, raw body)."""
        self._begin(head_only, max_body)
        transport = self.transport
        assert transport is not None
        try:
            self._sending = True
            if len(body) <= _JOIN_BODY_BYTES:
                transport.write(head + body)
            else:
                transport.write(head)
                transport.write(body)
            # Until the request is handed over, or the server answered without reading it all (then the
            # connection is not reused).
            await self._wait(timeouts.get("write"), httpx2.WriteTimeout,
                             lambda: not self._writing_paused or self._state == _DONE)
            self._sending = False
            await self._wait(timeouts.get("read"), httpx2.ReadTimeout, lambda: self._state == _DONE)
            raw = self._body[0] if len(self._body) == 1 else b"".join(self._body)
            return self._status, self._reason, self._headers, raw
        finally:
            # Nothing of the exchange is kept: the parser refers back to this connection, the error's
            # traceback to this frame, and an idle connection should not hold the last body.
            self._parser, self._error, self._body = None, None, []
            if self._state != _DONE or not self._keep_alive or self._writing_paused:
                self.usable = False

    def _begin(self, head_only: bool, max_body: int) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._state, self._head_only, self._max_body = _HEAD, head_only, max_body
        self._head_bytes = self._status = self._body_bytes = 0
        self._reason, self._headers, self._body = b"", [], []
        self._framed = self._keep_alive = self.encoded = False
        self._error = None
        self._progress = self._loop.time()

    async def _wait(self, timeout: float | None, timeout_error: type[httpx2.TimeoutException],
                    done: Callable[[], bool]) -> None:
        while not done() and self._error is None:
            self._wake = self._loop.create_future()
            if timeout is not None:
                self._timeout, self._timeout_error = timeout, timeout_error
                self._timer = self._loop.call_at(self._progress + timeout, self._check_time)
            try:
                await self._wake
            finally:
                self._wake = None
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
        if self._error is not None:
            raise self._error

    def _check_time(self) -> None:
        due = self._progress + self._timeout
        if self._loop.time() < due:  # bytes came meanwhile: the timeout counts from the last of them
            self._timer = self._loop.call_at(due, self._check_time)
            return
        self._timer = None
        self._fail(self._timeout_error("timed out"))

    def _finish(self) -> None:
        self._state = _DONE
        self._wakeup()

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = error
        self.usable = False
        if self.transport is not None:
            self.transport.abort()
        self._wakeup()

    def _wakeup(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    def _ended(self, exc: Exception | None) -> None:
        """The server ended the connection (FIN, TLS close, reset) or it was closed here."""
        self.usable = False
        if self._parser is None or self._state == _DONE:
            self._lost()
        elif self._error is not None:  # the exchange failed already (and closed the connection)
            return
        elif self._state == _BODY and not self._framed:  # a body delimited by the close
            self._keep_alive = False
            self._finish()
        elif exc is not None:
            self._fail((httpx2.WriteError if self._sending else httpx2.ReadError)(str(exc) or type(exc).__name__))
        elif self._state == _HEAD and not self._head_bytes and not self._reason:
            self._fail(httpx2.RemoteProtocolError("Server disconnected without sending a response."))
        else:
            self._fail(httpx2.RemoteProtocolError("the server closed the connection before the response was complete"))

    def _lost(self) -> None:
        self.usable = False
        if self.transport is not None:
            self.transport.abort()
        self._pool.forget(self)


class Http11Pool:
    """The connections of one provider, by (scheme, host, port); `send` is its one exchange.

    `limits` as httpx2's: at most `max_connections` open (a request waits for one within the pool timeout),
    `max_keepalive_connections` kept idle for `keepalive_expiry` seconds; `timeout_s` is every timeout of
    a request that does not carry httpx2's `timeout` extension."""

    def __init__(self, *, timeout_s: float, limits: httpx2.Limits) -> None:
        self._timeouts: dict[str, float | None] = httpx2.Timeout(timeout_s).as_dict()
        self._max_connections = limits.max_connections
        idle, expiry = limits.max_keepalive_connections, limits.keepalive_expiry  # None: no limit, as in httpx2
        self._max_idle = idle if idle is not None else sys.maxsize
        self._expiry = expiry if expiry is not None else math.inf
        self._idle: dict[_Connection, None] = {}  # oldest first
        self._open: set[_Connection] = set()  # every connection counted against max_connections
        self._opening = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ssl_context: ssl.SSLContext | None = None

    async def send(self, request: httpx2.Request, *, max_body: int) -> tuple[httpx2.Response, bytes]:
        """The response to `request` and its (decoded) body; raises httpx2's transport errors, or
        `BodyTooLarge` past `max_body` bytes."""
        url = request.url
        scheme = url.raw_scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx2.UnsupportedProtocol(f"the URL scheme {scheme.decode(errors='replace')!r} is not http or https")
        key = (scheme, url.raw_host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, float | None] = request.extensions.get("timeout") or self._timeouts
        head, body = _request_bytes(request, await request.aread())  # the body: bytes, or multipart parts
        connection = await self._acquire(key, timeouts)
        try:
            status, reason, headers, raw = await connection.exchange(
                head, body, head_only=request.method == "HEAD", max_body=max_body, timeouts=timeouts)
            encoded = connection.encoded
        finally:
            self._release(connection)
        response = httpx2.Response(status, headers=headers, stream=httpx2.ByteStream(raw), request=request,
                                   extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason})
        if encoded:  # httpx2's decoders, the decoded body within the same limit
            return response, await read_within(response, max_body)
        return response, raw

    async def aclose(self) -> None:
        for connection in list(self._open):
            self._close(connection)

    def forget(self, connection: _Connection) -> None:
        """An idle connection the server closed or wrote to: closed and no longer kept."""
        if connection in self._idle:
            self._close(connection)

    async def _acquire(self, key: tuple[bytes, bytes, int], timeouts: dict[str, float | None]) -> _Connection:
        loop = asyncio.get_running_loop()
        deadline = None if timeouts.get("pool") is None else loop.time() + (timeouts["pool"] or 0.0)
        while True:
            self._expire(loop.time())
            kept = next((connection for connection in reversed(self._idle) if connection.key == key), None)
            if kept is not None:
                del self._idle[kept]
                if kept.usable:
                    return kept
                self._close(kept)
                continue
            if self._max_connections is None or len(self._open) + self._opening < self._max_connections:
                return await self._connect(key, timeouts.get("connect"))
            if self._idle:  # full, but some connection to another host is only idle
                self._close(next(iter(self._idle)))
                continue
            await self._wait_for_room(deadline)

    async def _wait_for_room(self, deadline: float | None) -> None:
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException as error:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():  # woken, but leaving: the next one may go
                self._make_room()
            if isinstance(error, TimeoutError):
                raise httpx2.PoolTimeout("no connection became free within the pool timeout") from None
            raise

    async def _connect(self, key: tuple[bytes, bytes, int], timeout: float | None) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        context = self._tls() if scheme == b"https" else None
        self._opening += 1
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, key), host.decode("ascii"), port, ssl=context,
                    server_hostname=host.decode("ascii") if context is not None else None,
                    happy_eyeballs_delay=0.25)
        except BaseException as error:
            self._opening -= 1
            self._make_room()
            if isinstance(error, TimeoutError):
                raise httpx2.ConnectTimeout(f"could not connect within {timeout:g} s") from error
            if isinstance(error, OSError):  # ssl.SSLError (a certificate not trusted) included
                raise httpx2.ConnectError(str(error) or type(error).__name__) from error
            raise
        self._opening -= 1
        self._open.add(connection)
        return connection

    def _tls(self) -> ssl.SSLContext:
        # httpx2's default context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), made at the first https call.
        if self._ssl_context is None:
            self._ssl_context = httpx2.create_ssl_context()
        return self._ssl_context

    def _release(self, connection: _Connection) -> None:
        if not connection.usable or connection not in self._open:
            self._close(connection)
            return
        connection.idle_since = asyncio.get_running_loop().time()
        self._idle[connection] = None
        if any(not waiter.done() for waiter in self._waiters):  # a request waiting for room takes it
            self._make_room()
        elif len(self._idle) > self._max_idle:
            self._close(next(iter(self._idle)))

    def _expire(self, now: float) -> None:
        while self._idle:
            oldest = next(iter(self._idle))
            if now - oldest.idle_since < self._expiry:
                return
            self._close(oldest)

    def _close(self, connection: _Connection) -> None:
        connection.usable = False
        self._idle.pop(connection, None)
        if connection in self._open:
            self._open.discard(connection)
            if connection.transport is not None:
                connection.transport.abort()
            self._make_room()

    def _make_room(self) -> None:
        """Wake the first request waiting for a connection (it looks again at what is idle or free)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


def _request_bytes(request: httpx2.Request, body: bytes) -> tuple[bytes, bytes]:
    """The request line and headers as HTTP/1.1 sends them, and the body as they frame it (as it is for a
    Content-Length, else as one chunk). Refused as h11 refuses them: a header name that is not a token, a
    value with a control character (a line break would start another header), a target with a space or
    control character."""
    target = request.url.raw_path
    if _NOT_TARGET.search(target):
        raise httpx2.LocalProtocolError("the request target holds a space or control character")
    lines = [request.method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        if not name or _NOT_TOKEN.search(name):
            raise httpx2.LocalProtocolError(f"illegal header name {name!r}")
        if _NOT_FIELD_VALUE.search(value):
            raise httpx2.LocalProtocolError(f"illegal value of the header {name.decode('ascii')}")
        lines += (name, b": ", value, b"\r\n")
        chunked = chunked or name.lower() == b"transfer-encoding"
    lines.append(b"\r\n")
    if chunked:
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    return b"".join(lines), body
