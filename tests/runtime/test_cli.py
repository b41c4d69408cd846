"""The package's command line as a user runs it: `python -m <package>` in a subprocess, serving stdio and
streamable HTTP to the SDK's clients, listing tools, and one-line errors for user mistakes."""

import json
import os
import subprocess
import sys

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.runtime.conftest import SBFIXTURE_SRC
from tests.support import free_port, stop, wait_for_port

SERVER_TOKEN = "a-server-token-of-some-length"


@pytest.fixture
def environ(tmp_path, httpbin_url):
    return {**os.environ, "PYTHONPATH": str(SBFIXTURE_SRC), "SPECBRIDGE_HOME": str(tmp_path),
            "SBFIXTURE_BASE_URL": httpbin_url, "SPECBRIDGE_LOG_LEVEL": "WARNING",
            "SBFIXTURE_SECRET": "header-secret-value"}


def _run(args, environ, timeout=60):
    return subprocess.run([sys.executable, "-m", "sbfixture_mcp", *args], env=environ, capture_output=True,
                          text=True, timeout=timeout)


async def test_stdio_serves_an_sdk_client(environ):
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "sbfixture_mcp", "serve"], env=environ)
    with anyio.fail_after(60):
        async with Client(parameters, cache=None) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("sbfixture_get_anything", {"item_id": "a b", "q": "x"})
    assert len(tools) == 13
    assert not result.is_error
    assert result.structured_content["url"].endswith("/anything/a%20b?q=x")


async def test_the_command_alone_serves_stdio(environ):
    parameters = StdioServerParameters(command=sys.executable, args=["-m", "sbfixture_mcp"], env=environ)
    with anyio.fail_after(60):
        async with Client(parameters, mode="legacy", cache=None) as client:
            assert client.server_info.name == "sbfixture"
            assert client.server_info.version == "1.0.0"


async def test_http_serves_an_sdk_client_with_the_server_token(environ):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sbfixture_mcp", "serve", "--transport", "http", "--port", str(port)],
        env={**environ, "SPECBRIDGE_SERVER_TOKEN": SERVER_TOKEN}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process=process)
        url = f"http://127.0.0.1:{port}/mcp"
        async with httpx2.AsyncClient() as anonymous:
            refused = await anonymous.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                           headers={"accept": "application/json, text/event-stream"})
        assert refused.status_code == 401
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {SERVER_TOKEN}"})
        with anyio.fail_after(30):
            async with http, Client(streamable_http_client(url, http_client=http), cache=None) as client:
                result = await client.call_tool("sbfixture_get_headers", {})
        assert result.structured_content["headers"]["X-Static"] == "static-value"
    finally:
        stop(process)
    assert SERVER_TOKEN not in process.stderr.read().decode()


def test_tools_lists_name_title_endpoint_and_annotations(environ):
    done = _run(["tools", "--json"], environ)
    assert done.returncode == 0, done.stderr
    tools = {tool["name"]: tool for tool in json.loads(done.stdout)}
    assert tools["sbfixture_delete_item"] == {
        "name": "sbfixture_delete_item", "title": "Delete item", "method": "DELETE", "path": "/items/{item_id}",
        "annotations": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": True,
                        "openWorldHint": True}}
    table = _run(["tools"], environ).stdout.splitlines()
    assert len(table) == 13
    assert any(line.startswith("sbfixture_image_png") and "GET /image/png" in line and "read-only" in line
               for line in table)


@pytest.mark.parametrize(("args", "message"), [
    (["serve", "--transport", "http", "--host", "0.0.0.0"], "without inbound auth"),
    (["serve", "--transport", "sse", "--host", "0.0.0.0", "--no-auth"], "only allowed on a loopback host"),
])
def test_user_errors_are_one_line_without_traceback(environ, args, message):
    done = _run(args, environ)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0
    assert done.stdout == ""


def test_a_bad_option_is_a_usage_error(environ):
    done = _run(["serve", "--transport", "carrier-pigeon"], environ)
    assert done.returncode == 2 and "invalid choice" in done.stderr and "Traceback" not in done.stderr
