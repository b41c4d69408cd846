"""An MCP Registry of the tests' own: the `/v0.1` read API over real server.json documents (the shared
examples and our fixtures), served on 127.0.0.1 by uvicorn in a thread."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import SHARED, free_port

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = sorted((SHARED / "registry").glob("example.*.server.json"))
OUR_DOCUMENTS = [FIXTURES / "time.server.json", FIXTURES / "time-old.server.json"]
OFFICIAL = "io.modelcontextprotocol.registry/official"
MAX_PAGE = 2  # small, so a search of a handful of servers follows the cursor


def registry_entries(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The documents as registry entries; the highest version of each name is the latest."""
    documents = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    latest: dict[str, str] = {}
    for document in documents:
        if document["version"] > latest.get(document["name"], ""):
            latest[document["name"]] = document["version"]
    return [{"server": document, "_meta": {OFFICIAL: {
        "status": "active", "publishedAt": "2026-01-01T00:00:00Z",
        "isLatest": latest[document["name"]] == document["version"]}}} for document in documents]


def registry_app(entries: list[dict[str, Any]]) -> Starlette:
    ordered = sorted(entries, key=lambda entry: (entry["server"]["name"], entry["server"]["version"]))

    async def servers(request: Request) -> JSONResponse:
        text = request.query_params.get("search", "").lower()
        found = [entry for entry in ordered if text in entry["server"]["name"].lower()]
        if request.query_params.get("version") == "latest":
            found = [entry for entry in found if entry["_meta"][OFFICIAL]["isLatest"]]
        start = int(request.query_params.get("cursor") or 0)
        limit = min(int(request.query_params.get("limit") or 30), MAX_PAGE)
        page = found[start:start + limit]
        metadata: dict[str, Any] = {"count": len(page)}
        if start + limit < len(found):
            metadata["nextCursor"] = str(start + limit)
        return JSONResponse({"servers": page, "metadata": metadata})

    async def version(request: Request) -> JSONResponse:
        name, wanted = request.path_params["name"], request.path_params["version"]
        for entry in ordered:
            server = entry["server"]
            if server["name"] == name and (server["version"] == wanted
                                           or (wanted == "latest" and entry["_meta"][OFFICIAL]["isLatest"])):
                return JSONResponse(entry)
        return JSONResponse({"title": "Not Found", "status": 404}, status_code=404)

    return Starlette(routes=[
        Route("/v0.1/servers", servers),
        Route("/v0.1/servers/{name:path}/versions/{version}", version),
    ])


@contextmanager
def running_registry(paths: Sequence[Path] = (*EXAMPLES, *OUR_DOCUMENTS)) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(registry_app(registry_entries(paths)), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("the test registry did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
