"""The HTTP client a REST provider sends its calls with: httpx2 over HTTP/1.1 with keep-alive, with
httpx2's default limits and TLS settings, on connections that are asyncio protocols (or, when the
environment names a proxy, httpx2's own transports, which honour it).

httpcore2's default backend runs every connection through anyio streams: each read and write enters a
cancel scope and a checkpoint and pauses and resumes the socket's reading, and each time a request enters
or leaves the pool, every idle connection is asked whether the server closed it, which rebuilds the
socket's attribute table and polls the socket. Here a connection is a plain `asyncio.Protocol` that keeps
what arrives until httpcore2 reads it: a read is a buffer slice, a write a transport write, the idle
question a look at that buffer (asyncio reads every connection all the time, so a close or stray bytes from
the server are already there). Timeouts and errors are httpcore2's: `ConnectTimeout`/`ConnectError` when
connecting or starting TLS, `ReadTimeout`/`ReadError`, `WriteTimeout`/`WriteError`, which httpx2 maps as
for its own backend.
"""

from __future__ import annotations

import asyncio
import ssl
import urllib.request
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from contextlib import AbstractAsyncContextManager, contextmanager, nullcontext
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpcore2
import httpx2

# httpx2's default limits (`httpx2.AsyncClient(limits=...)`): at most 100 connections, 20 kept idle for 5 s.
DEFAULT_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)
# Received bytes held before the socket's reading is paused until httpcore2 catches up.
_READ_LIMIT = 1 << 18
# How long connecting tries one address before also trying the next (anyio's happy eyeballs delay).
_HAPPY_EYEBALLS_DELAY_S = 0.25


class _Connection(asyncio.Protocol):
    """What one connection received and not yet handed over, whether the server ended it, and whether its
    transport's write buffer is full."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.received = bytearray()
        self.ended = False  # the server sent its end (FIN or TLS close_notify), or the connection is gone
        self.error: Exception | None = None
        self._reading_paused = False
        self._writing_paused = False
        self._data_waiter: asyncio.Future[None] | None = None  # a read waiting for bytes
        self._drain_waiter: asyncio.Future[None] | None = None  # a write waiting for the buffer to drain

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.received += data
        if len(self.received) > _READ_LIMIT and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
        _wake(self._data_waiter)

    def eof_received(self) -> bool:
        self.ended = True
        _wake(self._data_waiter)
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.error = exc
        _wake(self._data_waiter)
        _wake(self._drain_waiter)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        _wake(self._drain_waiter)

    async def read(self, max_bytes: int) -> bytes:
        while not self.received:
            if self.ended:
                if self.error is not None:
                    raise self.error
                return b""
            self._data_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._data_waiter
            finally:
                self._data_waiter = None
        data = bytes(self.received[:max_bytes])
        del self.received[:max_bytes]
        if self._reading_paused and len(self.received) <= _READ_LIMIT // 2 and self.transport is not None:
            self._reading_paused = False
            self.transport.resume_reading()
        return data

    async def write(self, data: bytes) -> None:
        if self.ended or self.transport is None or self.transport.is_closing():
            raise self.error or ConnectionResetError("the connection is closed")
        self.transport.write(data)
        while self._writing_paused and not self.ended:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            try:
                await self._drain_waiter
            finally:
                self._drain_waiter = None
        if self.error is not None:
            raise self.error


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


def _deadline(timeout: float | None) -> AbstractAsyncContextManager[Any]:
    return asyncio.timeout(timeout) if timeout is not None else nullcontext()


class _Stream(httpcore2.AsyncNetworkStream):
    """One connection as httpcore2 uses it."""

    def __init__(self, transport: asyncio.Transport, connection: _Connection) -> None:
        self._transport = transport
        self._connection = connection
        connection.transport = transport

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with _deadline(timeout):
                return await self._connection.read(max_bytes)
        except TimeoutError as error:
            raise httpcore2.ReadTimeout(error) from error
        except OSError as error:
            raise httpcore2.ReadError(error) from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with _deadline(timeout):
                await self._connection.write(buffer)
        except TimeoutError as error:
            raise httpcore2.WriteTimeout(error) from error
        except OSError as error:
            raise httpcore2.WriteError(error) from error

    async def aclose(self) -> None:
        # At once, like httpcore2's anyio streams: nothing is left to send, and no TLS close_notify is awaited.
        self._transport.abort()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore2.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with _deadline(timeout):
                secure = await loop.start_tls(self._transport, self._connection, ssl_context,
                                              server_hostname=server_hostname)
        except BaseException as error:
            self._transport.abort()
            if isinstance(error, TimeoutError):
                raise httpcore2.ConnectTimeout(error) from error
            if isinstance(error, OSError):  # ssl.SSLError included
                raise httpcore2.ConnectError(error) from error
            raise
        if secure is None:  # the connection closed during the handshake
            raise httpcore2.ConnectError("the connection closed during the TLS handshake")
        assert isinstance(secure, asyncio.Transport)
        return _Stream(secure, self._connection)

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            # httpcore2's question about an idle connection: anything from the server now means it is done.
            return bool(self._connection.received) or self._connection.ended or self._transport.is_closing()
        if info == "ssl_object":
            return self._transport.get_extra_info("ssl_object")
        if info == "socket":
            return self._transport.get_extra_info("socket")
        if info in ("client_addr", "server_addr"):
            address = self._transport.get_extra_info("sockname" if info == "client_addr" else "peername")
            return tuple(address[:2]) if address is not None else None
        return None


class _AsyncioBackend(httpcore2.AnyIOBackend):
    """TCP connections as `_Stream`s; anything else (Unix sockets, another event loop) as httpcore2 does."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: Iterable[httpcore2.SOCKET_OPTION] | None = None,
                          ) -> httpcore2.AsyncNetworkStream:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not asyncio (trio)
            return await super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            async with _deadline(timeout):
                transport, connection = await loop.create_connection(
                    _Connection, host, port, local_addr=(local_address, 0) if local_address else None,
                    happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY_S)
        except TimeoutError as error:
            raise httpcore2.ConnectTimeout(error) from error
        except OSError as error:
            raise httpcore2.ConnectError(error) from error
        sock = transport.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        assert isinstance(transport, asyncio.Transport)
        return _Stream(transport, connection)


# httpcore2's errors as httpx2's, most specific first (what httpx2's own transport raises for each).
_ERRORS: tuple[tuple[type[Exception], type[httpx2.TransportError]], ...] = (
    (httpcore2.ConnectTimeout, httpx2.ConnectTimeout),
    (httpcore2.ReadTimeout, httpx2.ReadTimeout),
    (httpcore2.WriteTimeout, httpx2.WriteTimeout),
    (httpcore2.PoolTimeout, httpx2.PoolTimeout),
    (httpcore2.TimeoutException, httpx2.TimeoutException),
    (httpcore2.ConnectError, httpx2.ConnectError),
    (httpcore2.ReadError, httpx2.ReadError),
    (httpcore2.WriteError, httpx2.WriteError),
    (httpcore2.NetworkError, httpx2.NetworkError),
    (httpcore2.ProxyError, httpx2.ProxyError),
    (httpcore2.UnsupportedProtocol, httpx2.UnsupportedProtocol),
    (httpcore2.RemoteProtocolError, httpx2.RemoteProtocolError),
    (httpcore2.LocalProtocolError, httpx2.LocalProtocolError),
    (httpcore2.ProtocolError, httpx2.ProtocolError),
)


@contextmanager
def _as_httpx_errors() -> Iterator[None]:
    try:
        yield
    except Exception as error:
        mapped = next((to for source, to in _ERRORS if isinstance(error, source)), None)
        if mapped is None:
            raise
        raise mapped(str(error)) from error


class _ResponseStream(httpx2.AsyncByteStream):
    def __init__(self, stream: AsyncIterable[bytes]) -> None:
        self._stream = stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx_errors():
            async for part in self._stream:
                yield part

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is not None:
            await close()


class _AsyncioTransport(httpx2.AsyncBaseTransport):
    """An httpx2 transport over httpcore2's connection pool (public API both) on asyncio connections."""

    def __init__(self, limits: httpx2.Limits) -> None:
        self._pool = httpcore2.AsyncConnectionPool(
            ssl_context=httpx2.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_AsyncioBackend())

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.AsyncByteStream)
        url = request.url
        core = httpcore2.Request(method=request.method, headers=request.headers.raw, content=request.stream,
                                 extensions=request.extensions,
                                 url=httpcore2.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port,
                                                   target=url.raw_path))
        with _as_httpx_errors():
            response = await self._pool.handle_async_request(core)
        assert isinstance(response.stream, AsyncIterable)
        return httpx2.Response(status_code=response.status, headers=response.headers,
                               stream=_ResponseStream(response.stream), extensions=response.extensions)

    async def aclose(self) -> None:
        with _as_httpx_errors():
            await self._pool.aclose()


def http_client(*, timeout_s: float, transport: httpx2.AsyncBaseTransport | None = None,
                limits: httpx2.Limits = DEFAULT_LIMITS, fast: bool = True) -> httpx2.AsyncClient:
    """The pooled client of one provider; `transport` replaces the network (tests: a mock upstream);
    `fast=False` keeps httpx2's own transport (`SPECBRIDGE_FAST_IO=0`)."""
    if transport is None and fast and not _proxied():
        transport = _AsyncioTransport(limits)
    # Requests are built per call (no client cookies are attached); refusing all cookies also keeps the
    # client's jar from collecting every Set-Cookie of a long-running server.
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return httpx2.AsyncClient(transport=transport, limits=limits, timeout=timeout_s, follow_redirects=False,
                              cookies=no_cookies)


def _proxied() -> bool:
    """Whether the environment names a proxy: httpx2 then routes through it, but only with its own transports
    (a client given a transport ignores the environment's proxies)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
