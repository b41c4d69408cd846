"""The transports that run a server built by `build_server`: stdio, streamable HTTP and SSE.

HTTP and SSE take an optional `InboundAuth` (the hook inbound auth plugs into): with it, every request
needs a bearer token its verifier accepts, and the caller's identity reaches the provider's calls.
Without it they serve only a loopback host, and only when asked to (`--no-auth`, see `check_exposure`).
Both answer only the Host names they were bound to (DNS rebinding protection), plus those given in
`allowed_hosts` ("*" turns the check off, for a server behind a proxy that has its own).
"""

from __future__ import annotations

import contextlib
import ipaddress
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, nullcontext

import anyio
import uvicorn
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.sse import SseServerTransport
from mcp.server.stdio import stdio_server
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .._core.errors import ConfigurationError
from .._core.seams import InboundAuth
from .metrics import Metrics
from .operations import Readiness, RequestIdMiddleware, operations_routes
from .server import ProviderServer
from .stdio import AnsweringMalformed, stdio_pipes

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
HTTP_PATH = "/mcp"
SSE_PATH = "/sse"
SSE_MESSAGES_PATH = "/messages/"
ANY_HOST = "*"
# URLs exactly as configured: an issuer is compared as a string (RFC 8414), so no "/" may be added to it.
_EXACT_URL = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, inbound: InboundAuth | None, *, no_auth: bool) -> None:
    """Refuse to serve without inbound auth, unless bound to loopback with `--no-auth`."""
    if is_loopback(host) and (no_auth or inbound is not None):
        return
    if no_auth:
        raise ConfigurationError(f"--no-auth is only allowed on a loopback host (127.0.0.1, localhost, ::1), "
                                 f"not {host}")
    if inbound is None:
        raise ConfigurationError(
            f"refusing to serve on {host} without inbound auth: set SPECBRIDGE_SERVER_TOKEN (clients then send "
            f"'Authorization: Bearer <token>') or configure OAuth (SPECBRIDGE_AUTH_ISSUER), or bind 127.0.0.1 "
            f"with --no-auth")


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def transport_security(host: str, port: int, allowed_hosts: Sequence[str] = ()) -> TransportSecuritySettings:
    """Host/Origin checks that accept the loopback names, the bound `host:port` and `allowed_hosts`
    (`name` or `name:port`)."""
    if ANY_HOST in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", _host_port(host, port)]
    hosts += [name if ":" in name else f"{name}:*" for name in allowed_hosts]
    hosts += [name for name in allowed_hosts if ":" not in name]  # a default port leaves the Host without one
    origins = [f"{scheme}://{name}" for name in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


def _middleware(inbound: InboundAuth | None) -> list[Middleware]:
    ids = [Middleware(RequestIdMiddleware)]
    if inbound is None:
        return ids
    return [*ids, Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(inbound.verifier)),
            Middleware(AuthContextMiddleware)]


class _Started:
    """Whether the app's lifespan has started the provider; with the caller's checks, the readiness."""

    def __init__(self, ready: Readiness | None) -> None:
        self.started = False
        self._ready = ready

    async def problems(self) -> list[str]:
        problems = [] if self.started else ["the server is starting: its connectors are not loaded yet"]
        return problems + (await self._ready() if self._ready is not None else [])


def _operations(started: _Started, metrics: Metrics | None, inbound: InboundAuth | None) -> list[BaseRoute]:
    return operations_routes(started.problems, metrics, lambda app: _protected(app, inbound))


def _protected(app: ASGIApp, inbound: InboundAuth | None) -> ASGIApp:
    if inbound is None:
        return app
    metadata_url = (build_resource_metadata_url(_EXACT_URL.validate_python(inbound.resource_server_url))
                    if inbound.resource_server_url else None)
    return RequireAuthMiddleware(app, list(inbound.required_scopes), metadata_url)


def _metadata_routes(inbound: InboundAuth | None) -> list[BaseRoute]:
    if inbound is None or not inbound.resource_server_url:
        return []
    return list(create_protected_resource_routes(
        resource_url=_EXACT_URL.validate_python(inbound.resource_server_url),
        authorization_servers=[_EXACT_URL.validate_python(url) for url in inbound.authorization_servers],
        scopes_supported=list(inbound.required_scopes) or None))


def build_http_app(server: ProviderServer, *, host: str = "127.0.0.1", port: int = 8000,
                   inbound: InboundAuth | None = None, allowed_hosts: Sequence[str] = (),
                   path: str = HTTP_PATH, ready: Readiness | None = None, metrics: Metrics | None = None,
                   stateless: bool = False, json_response: bool = False) -> Starlette:
    """The streamable HTTP app serving `server` at `path`, with /healthz, /readyz (`ready`: the caller's own
    checks) and /metrics (when given `metrics`). `stateless`: no session for clients of protocol versions
    before 2026-07-28 either, so any replica answers any of their requests (they then get no notifications
    from the server, such as a changed tool list). `json_response`: a POSTed request is answered with one JSON
    body rather than an SSE stream (notifications tied to the request are then dropped; this server sends none,
    and a changed tool list still reaches clients on their GET stream)."""
    manager = StreamableHTTPSessionManager(app=server, stateless=stateless, json_response=json_response,
                                           security_settings=transport_security(host, port, allowed_hosts))
    routes: list[BaseRoute] = [Route(path, endpoint=_protected(StreamableHTTPASGIApp(manager), inbound))]
    started = _Started(ready)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with manager.run():  # enters the server's lifespan: the provider runs as long as the app
            started.started = True
            yield

    return Starlette(routes=routes + _metadata_routes(inbound) + _operations(started, metrics, inbound),
                     middleware=_middleware(inbound), lifespan=lifespan)


class _SseConnection:
    """The GET endpoint: one SSE stream is one MCP connection. A foreign Host or Origin is answered here
    (the SDK logs one line saying which), before the SDK's transport, which would raise after answering."""

    def __init__(self, server: ProviderServer, transport: SseServerTransport,
                 security: TransportSecuritySettings) -> None:
        self._server = server
        self._transport = transport
        self._security = TransportSecurityMiddleware(security)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = await self._security.validate_request(Request(scope, receive), is_post=False)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        async with self._transport.connect_sse(scope, receive, send) as (read_stream, write_stream):
            await self._server.run(read_stream, write_stream, self._server.create_initialization_options())


def build_sse_app(server: ProviderServer, *, host: str = "127.0.0.1", port: int = 8000,
                  inbound: InboundAuth | None = None, allowed_hosts: Sequence[str] = (), sse_path: str = SSE_PATH,
                  messages_path: str = SSE_MESSAGES_PATH, ready: Readiness | None = None,
                  metrics: Metrics | None = None) -> Starlette:
    """The SSE app: clients GET `sse_path` for the stream and POST their messages under `messages_path`."""
    security = transport_security(host, port, allowed_hosts)
    transport = SseServerTransport(messages_path, security_settings=security)
    routes: list[BaseRoute] = [
        Route(sse_path, endpoint=_protected(_SseConnection(server, transport, security), inbound), methods=["GET"]),
        Mount(messages_path, app=_protected(transport.handle_post_message, inbound)),
    ]

    started = _Started(ready)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with server.lifespan(server):  # one provider for all connections, not one per connection
            started.started = True
            yield

    return Starlette(routes=routes + _metadata_routes(inbound) + _operations(started, metrics, inbound),
                     middleware=_middleware(inbound), lifespan=lifespan)


async def serve_stdio(server: ProviderServer, *, fast: bool = True) -> None:
    """Serve one client on stdin/stdout: the SDK's stdio transport, on the event loop's own pipes (`fast`)
    or on the SDK's own file wrappers."""
    pipes = stdio_pipes() if fast else nullcontext((None, None))
    async with pipes as (stdin, stdout):
        await serve_stdio_streams(server, stdin, stdout)


async def serve_stdio_streams(server: ProviderServer, stdin: anyio.AsyncFile[str] | None,
                              stdout: anyio.AsyncFile[str] | None) -> None:
    """The SDK's stdio transport on these text streams (None: the process's own). A line that is not a
    JSON-RPC message gets its error answer."""
    async with stdio_server(stdin, stdout) as (read_stream, write_stream):
        await server.run(AnsweringMalformed(read_stream, write_stream), write_stream,
                         server.create_initialization_options())


DRAIN_S = 30.0


class _GracefulServer(uvicorn.Server):
    """uvicorn, except that SIGTERM and SIGINT end `serve()` normally once the calls in flight finished
    (uvicorn raises the signal again afterwards, which kills the process before it flushes its audit), so
    the process exits 0 after its exit handlers ran."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound and listening on `host:port`, before anything says the server is up; raises
    `ConfigurationError` when the address cannot be used (already in use, not this machine's)."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        made = socket.create_server((host.strip("[]"), port), family=family, backlog=2048)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigurationError(f"cannot listen on {_host_port(host, port)}: {reason}; choose another --port "
                                 "or stop what uses it") from None
    # Named a TCP socket (`create_server` leaves its protocol 0), so that asyncio sets TCP_NODELAY on each
    # connection it accepts, as it does on the sockets it makes itself: with Nagle's algorithm on, a response
    # written in two parts (head, then body or events) waits for the client's delayed ACK, about 40 ms.
    return socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP, fileno=made.detach())


class _TrimmedHeaderValues:
    """httptools (llhttp) leaves the spaces and tabs that end a header value in it, where RFC 9110 (5.5) and
    h11 leave them out: trimmed here, so every check (Host, Origin, Mcp-Name, ...) reads the same value."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan" and any(value[-1:] in (b" ", b"\t") for _, value in scope["headers"]):
            scope = {**scope, "headers": [(name, value.rstrip(b" \t")) for name, value in scope["headers"]]}
        await self.app(scope, receive, send)


async def serve_app(app: Starlette, *, sock: socket.socket, log_level: str = "warning",
                    drain_s: float = DRAIN_S, fast: bool = True) -> None:
    """Run an HTTP or SSE app with uvicorn on `sock` (see `listen`) until SIGTERM or SIGINT: then stop
    accepting connections, let the calls in flight finish (at most `drain_s` seconds) and return. `fast`:
    uvicorn's HTTP/1.1 parser on httptools (llhttp); else its pure-Python h11 one."""
    config = uvicorn.Config(_TrimmedHeaderValues(app) if fast else app, log_level=log_level.lower(),
                            access_log=False, lifespan="on", log_config=None, http="httptools" if fast else "h11",
                            timeout_graceful_shutdown=max(1, round(drain_s)))
    await _GracefulServer(config).serve(sockets=[sock])
