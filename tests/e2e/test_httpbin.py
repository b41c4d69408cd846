"""The core promise end to end: httpbin (PyPI) on 127.0.0.1, a server generated from the spec httpbin
itself serves (plus one hand-written operation), installed with pip and run as its own console script over
stdio, driven by the mcp SDK client and by the MCP Inspector CLI."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client

from tests.e2e.conftest import InstalledPackage, inspector

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


@pytest.fixture
def client_params(httpbin_package: InstalledPackage, httpbin_url: str, tmp_path: Path):
    return httpbin_package.stdio(tmp_path, HTTPBIN_BASE_URL=httpbin_url)


async def test_lists_every_operation_with_valid_names(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        tools = (await client.list_tools()).tools
    names = {tool.name for tool in tools}
    assert all(TOOL_NAME.match(name) for name in names)
    assert len(names) == len(tools)
    # httpbin's spec has 78 operations; the definition adds one hand-written operation.
    assert len(tools) == 79
    assert "httpbin_echo_json" in names
    by_name = {tool.name: tool for tool in tools}
    get_tools = [t for t in tools if t.annotations and t.annotations.read_only_hint]
    assert get_tools, "GET operations are read-only"
    delete_tools = [t for t in tools if t.annotations and t.annotations.destructive_hint]
    assert delete_tools and all(t.annotations and t.annotations.idempotent_hint for t in delete_tools)
    assert by_name["httpbin_echo_json"].input_schema["required"] == ["item"]


async def test_json_body_query_and_header_reach_the_api(client_params) -> None:
    arguments = {"item": "widget", "quantity": 3, "tags": ["a", "b"], "trace": "t-1", "X-Trace-Id": "abc"}
    async with Client(client_params, cache=None) as client:
        result = await client.call_tool("httpbin_echo_json", arguments)
    assert not result.is_error, text_of(result)
    echoed = result.structured_content
    assert echoed is not None
    assert echoed["json"] == {"item": "widget", "quantity": 3, "tags": ["a", "b"]}
    assert echoed["args"] == {"trace": "t-1"}
    assert echoed["headers"]["X-Trace-Id"] == "abc"
    assert echoed["url"].endswith("/anything/echo?trace=t-1")


async def test_invalid_argument_is_refused_naming_the_field(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        result = await client.call_tool("httpbin_echo_json", {"item": "widget", "quantity": 0})
    assert result.is_error
    assert "quantity" in text_of(result)


async def test_path_parameters_are_encoded_inside_their_segment(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        decoded = await client.call_tool("httpbin_get_base64_value", {"value": base64.b64encode(b"hi there").decode()})
        escaped = await client.call_tool("httpbin_get_anything_anything", {"anything": "../status/500?x=1#y"})
    assert not decoded.is_error and "hi there" in text_of(decoded)
    assert not escaped.is_error, text_of(escaped)
    assert escaped.structured_content is not None
    # httpbin reports the decoded path; what matters is that the request stayed on /anything (it would have
    # been a 500 from /status/500 otherwise) and that "?x=1" did not become a query string.
    assert "/anything/../status/500?x=1#y" in escaped.structured_content["url"].replace("%3F", "?").replace("%23", "#")
    assert escaped.structured_content["args"] == {}


async def test_json_response_is_structured_content_matching_its_schema(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        result = await client.call_tool("httpbin_get_uuid", {})
    assert tools["httpbin_get_uuid"].output_schema is not None
    assert not result.is_error
    assert result.structured_content is not None and re.fullmatch(r"[0-9a-f-]{36}", result.structured_content["uuid"])


async def test_image_response_is_image_content(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        result = await client.call_tool("httpbin_get_image_png", {})
    assert not result.is_error
    images = [block for block in result.content if isinstance(block, types.ImageContent)]
    assert len(images) == 1 and images[0].mime_type == "image/png"
    assert base64.b64decode(images[0].data).startswith(b"\x89PNG")


async def test_404_is_an_error_result_with_status_and_hint(client_params) -> None:
    async with Client(client_params, cache=None) as client:
        result = await client.call_tool("httpbin_get_status_codes", {"codes": "404"})
    assert result.is_error
    message = text_of(result)
    assert "404" in message and "not found" in message.lower()


def test_inspector_cli_lists_and_calls(httpbin_package: InstalledPackage, httpbin_url: str, tmp_path: Path) -> None:
    env = httpbin_package.env(tmp_path, HTTPBIN_BASE_URL=httpbin_url)
    env_flags = [flag for key, value in env.items() for flag in ("-e", f"{key}={value}")]
    command = [*env_flags, str(httpbin_package.script)]
    listed = inspector(*command, "--method", "tools/list", env=env, cwd=tmp_path)
    assert isinstance(listed, dict)
    assert len(listed["tools"]) == 79
    called = inspector(*command, "--method", "tools/call", "--tool-name", "httpbin_get_anything",
                       env=env, cwd=tmp_path)
    assert isinstance(called, dict)
    assert not called.get("isError")
    assert called["structuredContent"]["method"] == "GET"
    missing = inspector(*command, "--method", "tools/call", "--tool-name", "httpbin_get_status_codes",
                        "--tool-arg", "codes=404", env=env, cwd=tmp_path, exit_code=5)
    assert isinstance(missing, dict) and missing["isError"] is True


def test_the_committed_spec_is_what_httpbin_serves() -> None:
    """specs/ holds httpbin's own document (so a clone generates generated/httpbin on its own); it must stay
    the one the pinned httpbin serves at /spec.json."""
    import json

    from scripts.httpbin_spec import SPEC, served_spec

    assert json.loads(SPEC.read_text()) == served_spec()
