"""`--tools dynamic` as a user runs it: a package generated from a definition, started as `python -m
<package>` over stdio and driven by the mcp SDK client, calling a real HTTP server on 127.0.0.1. It lists
the three tools plus the operations `include` names; search finds operations by what they do; a call goes
through validation, auth, the operation's own rate limit and the audit, which names the operation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters
from specbridge import cli

from tests.generator_back.conftest import run_tool
from tests.support import REPO

TOKEN = "upstream-token-for-the-dynamic-test"
META = ("notes_search_operations", "notes_describe_operation", "notes_call_operation")


class Upstream:
    """An HTTP server answering every request with a JSON note and recording method, path and auth."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, str]] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                self.rfile.read(length)
                upstream.requests.append((self.command, self.path, self.headers.get("authorization", "")))
                body = json.dumps({"id": "n1", "title": "hello"}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Upstream:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dynamic")
    definition = {
        "type": "rest", "name": "notes", "openapi": str(REPO / "specs" / "notes-openapi-3.1.yaml"),
        "tools": "dynamic", "include": ["getNote"], "auth": {"type": "bearer", "token": "env:NOTES_TOKEN"},
        "limits": {"operations": {"createNote": {"rate": "1/h"}}},
    }
    (folder / "notes.json").write_text(json.dumps(definition))
    out = folder / "notes"
    assert cli.main(["gen", str(folder / "notes.json"), "-o", str(out)]) == 0
    return out


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    with Upstream() as server:
        yield server


def test_the_package_lists_direct_tools_and_ships_every_operation(package: Path) -> None:
    source = package / "src" / "notes_mcp"
    assert [tool["name"] for tool in json.loads((source / "tools.json").read_text())] == ["notes_get_note"]
    operations = json.loads((source / "operations.json").read_text())["operations"]
    assert len(operations) == 10 and {"notes_create_note", "notes_delete_note"} <= {op["name"] for op in operations}


def test_the_package_is_clean_and_passes_its_own_tests(package: Path) -> None:
    assert run_tool("ruff", "check", "--no-cache", ".", cwd=package).returncode == 0
    typed = run_tool("mypy", "--strict", "--no-incremental", cwd=package)
    assert typed.returncode == 0, typed.stdout
    env = {**os.environ, "PYTHONPATH": str(package / "src")}
    # What serves it, alone or in a gateway, is the SearchProvider around its RestProvider.
    code = ("from specbridge_runtime import SearchProvider, build_provider; import notes_mcp.connector as c; "
            "print(type(build_provider(c.PACKAGE, {})).__name__)")
    built = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120,
                           check=False)
    assert built.stdout.strip() == "SearchProvider", built.stderr
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=package,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "4 passed" in tested.stdout


async def test_search_describe_and_call_over_stdio(package: Path, upstream: Upstream, tmp_path: Path) -> None:
    environ = {**os.environ, "PYTHONPATH": str(package / "src"), "SPECBRIDGE_HOME": str(tmp_path),
               "SPECBRIDGE_AUDIT": "jsonl", "NOTES_BASE_URL": upstream.url, "NOTES_TOKEN": TOKEN,
               "SPECBRIDGE_LOG_LEVEL": "WARNING"}
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "notes_mcp", "serve"], env=environ)
    with anyio.fail_after(90):
        async with Client(parameters, cache=None) as client:
            tools = (await client.list_tools()).tools
            assert [tool.name for tool in tools] == [*META, "notes_get_note"]

            found = await client.call_tool("notes_search_operations", {"query": "create a note", "limit": 3})
            assert not found.is_error
            operations: list[dict[str, Any]] = found.structured_content["operations"]
            assert operations[0] == {"name": "notes_create_note", "method": "POST", "path": "/notes",
                                     "summary": "Create a note"}
            assert len(operations) == 3 and "notes_create_note" in found.content[0].text

            nothing = await client.call_tool("notes_search_operations", {"query": "quantum entanglement"})
            assert nothing.structured_content == {"operations": []} and "No operation" in nothing.content[0].text
            too_many = await client.call_tool("notes_search_operations", {"query": "notes", "limit": 0})
            assert too_many.is_error and "limit" in too_many.content[0].text

            described = await client.call_tool("notes_describe_operation", {"name": "notes_create_note"})
            shipped = json.loads((package / "src/notes_mcp/operations.json").read_text())["operations"]
            schema = next(op["inputSchema"] for op in shipped if op["name"] == "notes_create_note")
            assert described.structured_content["inputSchema"] == schema
            assert schema["required"] == ["title"]

            # Validated by the operation's model before anything is sent.
            invalid = await client.call_tool("notes_call_operation", {"name": "notes_create_note",
                                                                      "arguments": {"title": ""}})
            assert invalid.is_error and "title" in invalid.content[0].text
            unknown = await client.call_tool("notes_call_operation", {"name": "notes_drop_tables"})
            assert unknown.is_error and "notes_search_operations" in unknown.content[0].text
            assert upstream.requests == []

            created = await client.call_tool("notes_call_operation", {"name": "notes_create_note",
                                                                      "arguments": {"title": "hello"}})
            assert not created.is_error, created.content
            assert created.structured_content == {"id": "n1", "title": "hello"}
            assert upstream.requests == [("POST", "/notes", f"Bearer {TOKEN}")]

            # The operation's own rate limit (1/h) holds through call_operation; other operations still run.
            again = await client.call_tool("notes_call_operation", {"name": "notes_create_note",
                                                                    "arguments": {"title": "again"}})
            assert again.is_error and "rate" in again.content[0].text.lower()
            listed = await client.call_tool("notes_call_operation", {"name": "notes_list_notes", "arguments": {}})
            assert not listed.is_error

            # An operation not listed is not a tool of its own; a listed one is.
            direct = await client.call_tool("notes_delete_note", {"noteId": "n1"})
            assert direct.is_error and "notes_call_operation" in direct.content[0].text
            fetched = await client.call_tool("notes_get_note", {"noteId": "n1"})
            assert not fetched.is_error
    assert [request[:2] for request in upstream.requests] == [("POST", "/notes"), ("GET", "/notes"),
                                                               ("GET", "/notes/n1")]
    records = [json.loads(line) for path in sorted((tmp_path / "audit").glob("*.jsonl"))
               for line in path.read_text().splitlines()]
    assert [(record["tool"], record["status"]) for record in records] == [
        ("notes_create_note", "invalid_arguments"), ("notes_create_note", "ok"),
        ("notes_create_note", "rate_limited"), ("notes_list_notes", "ok"), ("notes_get_note", "ok")]
    assert TOKEN not in json.dumps(records)
