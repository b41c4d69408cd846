"""The peers an attacker controls, as real servers on 127.0.0.1, each recording every request it receives
(method, path, query, headers) as JSON lines in a file, so a test can prove what never reached them.

    python -m tests.security.peers upstream PORT RECORD [FOLDER]   an HTTP API: /echo answers 400 with the
        request's headers and query; /kernel a 404 naming a kernel id and a file; /deep 500-level JSON;
        /ok; /redirect?to=URL; /files/NAME serves NAME from FOLDER (definitions, specs)
    python -m tests.security.peers remote PORT RECORD    an MCP server (streamable HTTP at /mcp): tool `hello`,
        and tool `echo`, which fails with every header it received in its error
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import uvicorn
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

KERNEL_ID = "123e4567-e89b-12d3-a456-426614174000"
NOTEBOOK = "report_2024_01_15_final_version_2.ipynb"
DEPTH = 500


class Recorder:
    """ASGI middleware: one JSON line per HTTP request, written before the app answers."""

    def __init__(self, app: ASGIApp, record: Path) -> None:
        self.app = app
        self.record = record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            entry = {"method": scope["method"], "path": scope["path"],
                     "query": scope.get("query_string", b"").decode("latin-1"),
                     "headers": [[name.decode("latin-1"), value.decode("latin-1")]
                                 for name, value in scope["headers"]]}
            with self.record.open("a", encoding="utf-8") as file:
                file.write(json.dumps(entry) + "\n")
        await self.app(scope, receive, send)


def upstream_app(folder: Path | None) -> Starlette:
    async def echo(request: Request) -> Response:
        return JSONResponse({"error": "bad request", "headers": dict(request.headers), "query": request.url.query,
                             "url": str(request.url)}, status_code=400)

    async def kernel(_request: Request) -> Response:
        return PlainTextResponse(f"Kernel does not exist: {KERNEL_ID} (opened from {NOTEBOOK})", status_code=404)

    async def deep(_request: Request) -> Response:
        return Response('{"a":' * DEPTH + "1" + "}" * DEPTH, media_type="application/json")

    async def ok(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    async def redirect(request: Request) -> Response:
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def files(request: Request) -> Response:
        name = request.path_params["name"]
        if folder is None or "/" in name or name.startswith("."):
            return PlainTextResponse("no", status_code=404)
        return FileResponse(folder / name)

    return Starlette(routes=[Route(path, endpoint, methods=["GET", "POST"]) for path, endpoint in (
        ("/echo", echo), ("/kernel", kernel), ("/deep", deep), ("/ok", ok), ("/redirect", redirect),
        ("/files/{name}", files))])


def remote_app() -> Any:
    server = MCPServer("hostile-remote")

    @server.tool(description="Says hello.")
    def hello() -> str:
        return "hello"

    @server.tool(description="Fails, echoing every header the call arrived with.")
    def echo(ctx: Context) -> str:
        request = ctx.request_context.request
        raise ToolError(f"denied; you sent {dict(getattr(request, 'headers', {}))}")

    return server.streamable_http_app()


def main(argv: list[str]) -> None:
    mode, port, record = argv[0], int(argv[1]), Path(argv[2])
    app = upstream_app(Path(argv[3]) if len(argv) > 3 else None) if mode == "upstream" else remote_app()
    uvicorn.run(Recorder(app, record), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main(sys.argv[1:])
