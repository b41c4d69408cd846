"""`serve`: run the MCP server over stdio (the default), streamable HTTP or SSE."""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
from typing import Protocol, runtime_checkable

from .._core.seams import ToolProvider
from .._mechanisms.fast_io import fast_io
from .._mechanisms.lane import Lane
from .._mechanisms.lifetime import ProviderLifetime
from .._mechanisms.pipes import claimed_stdio
from .._mechanisms.stdio_lane import serve_lane
from ._context import CliContext

STATELESS_ENV = "SPECBRIDGE_HTTP_STATELESS"


@runtime_checkable
class FixedTools(Protocol):
    """A provider whose tools never change, listed by `tools_json()`: the stdio lane can serve it."""

    def tools_json(self) -> bytes: ...


class ServeCommand:
    name = "serve"
    help = "run the MCP server (stdio by default; streamable HTTP or SSE with --transport)"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--transport", choices=("stdio", "http", "sse"), default="stdio",
                            help="stdio (default), http (streamable HTTP at /mcp) or sse (at /sse)")
        parser.add_argument("--host", default="127.0.0.1", help="address to bind for http/sse (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port for http/sse (default 8000)")
        parser.add_argument("--no-auth", action="store_true",
                            help="serve http/sse without inbound auth (only allowed on a loopback host)")
        parser.add_argument("--allowed-host", action="append", default=[], metavar="HOST[:PORT]",
                            help="another Host name clients may use (repeatable; '*' for any, behind a proxy)")

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        provider = cli.provider()
        if args.transport == "stdio":
            return _serve_stdio(provider, cli)
        # Imported here: the stdio lane serves without uvicorn, starlette and the SDK's HTTP transports.
        import anyio

        from .._assembly.connectors import inbound_auth
        from .._assembly.state import readiness, state_for
        from .._mechanisms.transports import (
            HTTP_PATH,
            SSE_PATH,
            build_http_app,
            build_sse_app,
            check_exposure,
            listen,
            serve_app,
        )

        server = cli.server(provider)
        fast = fast_io(cli.environ)
        _freeze()
        inbound = None if args.no_auth else inbound_auth(provider.name, cli.environ)
        check_exposure(args.host, inbound, no_auth=args.no_auth)
        state = state_for(cli.environ)
        ready = readiness(cli.environ, state)
        if args.transport == "http":
            stateless = cli.environ.get(STATELESS_ENV, "").strip().lower() in ("1", "true", "yes", "on")
            app = build_http_app(server, host=args.host, port=args.port, inbound=inbound,
                                 allowed_hosts=args.allowed_host, ready=ready, metrics=state.metrics,
                                 stateless=stateless, json_response=fast)
            path = HTTP_PATH
        else:
            app = build_sse_app(server, host=args.host, port=args.port, inbound=inbound,
                                allowed_hosts=args.allowed_host, ready=ready, metrics=state.metrics)
            path = SSE_PATH
        access = "bearer token required" if inbound is not None else "no inbound auth: local clients only"
        sock = listen(args.host, args.port)  # bound first: "serving" is said only once it is true
        cli.note(f"{provider.name}: serving MCP on http://{args.host}:{args.port}{path} ({access})")
        anyio.run(functools.partial(serve_app, app, sock=sock, fast=fast))
        return 0


def _freeze() -> None:
    # What exists now (modules, the package's operations, the server) lives as long as the process:
    # frozen, the cyclic collector stops scanning it at each full collection, from the first tools/list on.
    gc.freeze()


def _serve_stdio(provider: ToolProvider, cli: CliContext) -> int:
    """The stdio lane for a fixed tool set on pipes (`SPECBRIDGE_FAST_IO`, on by default); else the SDK's
    server on its stdio transport."""
    fast = fast_io(cli.environ)
    if fast and isinstance(provider, FixedTools):
        with claimed_stdio() as wires:
            if wires is not None:
                lifetime = ProviderLifetime(provider)
                lane = Lane(provider, provider.tools_json(), cli.card(provider))
                _freeze()
                asyncio.run(serve_lane(lane, lifetime, functools.partial(cli.server, provider, lifetime), wires))
                return 0
    import anyio

    from .._mechanisms.transports import serve_stdio

    server = cli.server(provider)
    _freeze()
    anyio.run(functools.partial(serve_stdio, server, fast=fast))
    return 0
