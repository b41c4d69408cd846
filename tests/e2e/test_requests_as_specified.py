"""What a generated server sends, seen by a real HTTP server on 127.0.0.1 that records each request: a
cloud-style spec whose path keys carry the query (`/#Action=CreateGroup&Version=...`) and whose operations
all say `security: []`, behind a definition that sets basic auth and lets one operation go without.
(Prism cannot route such keys, so the recording server is the judge here.)"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from tests.e2e.conftest import generate_and_install

SPEC = {
    "openapi": "3.0.0", "info": {"title": "IAM-like", "version": "2010-05-08"},
    "servers": [{"url": "https://iam.example.com"}], "security": [],
    "paths": {
        "/#Action=CreateGroup&Version=2010-05-08": {"get": {
            "operationId": "CreateGroup", "security": [],
            "parameters": [
                {"name": "Action", "in": "query", "required": True,
                 "schema": {"type": "string", "enum": ["CreateGroup"]}},
                {"name": "GroupName", "in": "query", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "ok", "content": {"text/xml": {"schema": {"type": "string"}}}}}}},
        "/?Action=ListGroups": {"get": {
            "operationId": "ListGroups", "security": [],
            "responses": {"200": {"description": "ok", "content": {"text/xml": {"schema": {"type": "string"}}}}}}},
    },
}
DEFINITION = {"type": "rest", "name": "iam", "openapi": "spec.json",
              "auth": {"type": "basic", "username": "admin", "password": "vault:password"},
              "operations": [{"name": "ListGroups", "auth": "none"}]}


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, object]]]]:
    seen: list[dict[str, object]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}})
            body = b"<ok/>"
            self.send_response(200)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


async def test_fixed_query_accept_and_the_definitions_auth_reach_the_api(
        tmp_path: Path, recorder: tuple[str, list[dict[str, object]]]) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(SPEC))
    (tmp_path / "iam.json").write_text(json.dumps(DEFINITION))
    package = generate_and_install(str(tmp_path / "iam.json"), tmp_path / "out" / "iam", "iam")
    url, seen = recorder
    params = package.stdio(tmp_path, IAM_BASE_URL=url, IAM__PASSWORD="s3cret")
    async with Client(params, cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"iam_create_group", "iam_list_groups"}
        assert set(tools["iam_create_group"].input_schema["properties"]) == {"GroupName"}  # the key fixes Action
        for name, arguments in (("iam_create_group", {"GroupName": "admins"}), ("iam_list_groups", {})):
            result = await client.call_tool(name, arguments)
            texts = [block.text for block in result.content if isinstance(block, types.TextContent)]
            assert not result.is_error, texts
    create, listing = seen
    assert create["path"] == "/?Action=CreateGroup&Version=2010-05-08&GroupName=admins"
    create_headers = create["headers"]
    assert isinstance(create_headers, dict)
    assert create_headers["authorization"] == "Basic " + base64.b64encode(b"admin:s3cret").decode()
    assert create_headers["accept"] == "text/xml"
    assert listing["path"] == "/?Action=ListGroups"
    listing_headers = listing["headers"]
    assert isinstance(listing_headers, dict)
    assert "authorization" not in listing_headers  # its operation entry says `"auth": "none"`
