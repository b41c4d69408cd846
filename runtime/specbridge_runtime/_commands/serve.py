"""`serve`: run the MCP server over stdio (the default), streamable HTTP or SSE."""

from __future__ import annotations

import argparse
import functools
import gc

import anyio

from .._assembly.connectors import inbound_auth
from .._assembly.state import readiness, state_for
from .._mechanisms.fast_io import fast_io
from .._mechanisms.transports import (
    HTTP_PATH,
    SSE_PATH,
    build_http_app,
    build_sse_app,
    check_exposure,
    listen,
    serve_app,
    serve_stdio,
)
from ._context import CliContext

STATELESS_ENV = "SPECBRIDGE_HTTP_STATELESS"


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
        server = cli.server(provider)
        # What exists now (modules, the package's operations, the server) lives as long as the process:
        # frozen, the cyclic collector stops scanning it at each full collection, from the first tools/list on.
        gc.freeze()
        if args.transport == "stdio":
            anyio.run(functools.partial(serve_stdio, server, fast=fast_io(cli.environ)))
            return 0
        inbound = None if args.no_auth else inbound_auth(provider.name, cli.environ)
        check_exposure(args.host, inbound, no_auth=args.no_auth)
        state = state_for(cli.environ)
        ready = readiness(cli.environ, state)
        if args.transport == "http":
            stateless = cli.environ.get(STATELESS_ENV, "").strip().lower() in ("1", "true", "yes", "on")
            app = build_http_app(server, host=args.host, port=args.port, inbound=inbound,
                                 allowed_hosts=args.allowed_host, ready=ready, metrics=state.metrics,
                                 stateless=stateless)
            path = HTTP_PATH
        else:
            app = build_sse_app(server, host=args.host, port=args.port, inbound=inbound,
                                allowed_hosts=args.allowed_host, ready=ready, metrics=state.metrics)
            path = SSE_PATH
        access = "bearer token required" if inbound is not None else "no inbound auth: local clients only"
        sock = listen(args.host, args.port)  # bound first: "serving" is said only once it is true
        cli.note(f"{provider.name}: serving MCP on http://{args.host}:{args.port}{path} ({access})")
        anyio.run(functools.partial(serve_app, app, sock=sock))
        return 0
