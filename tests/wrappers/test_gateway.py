"""`specbridge-gateway`: a REST connector (an installed package, found by its entry point) and a wrapper (a
custom definition file) served as one MCP server over streamable HTTP, seen through the MCP Inspector CLI
(npm) and the SDK client: prefixed tools, one call of each, per-token allowlists, one shared concurrency
limit, enable/disable without a restart, and the audit naming the caller."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from tests.support import REPO, free_port, installed_package, node_tool, serving

pytestmark = pytest.mark.timeout(180)

TOKEN_A = "agent-a-token-0123456789abcdef"
TOKEN_B = "agent-b-token-0123456789abcdef"

GATEWAY_YAML = """\
name: team
concurrency: 2
connectors:
  - package: httpbin
  - definition: calc.json
    enabled: {calc_enabled}
tokens:
  - caller: agent-a
    token: env:AGENT_A_TOKEN
    connectors: [httpbin]
  - caller: agent-b
    token: env:AGENT_B_TOKEN
"""


@dataclass
class Gateway:
    url: str
    folder: Path
    home: Path

    def write_config(self, *, calc_enabled: bool) -> None:
        (self.folder / "gateway.yaml").write_text(GATEWAY_YAML.format(calc_enabled=str(calc_enabled).lower()))

    def audit(self) -> list[dict[str, Any]]:
        return [json.loads(line) for path in sorted((self.home / "audit").glob("*.jsonl"))
                for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def site() -> Path:
    """The REST connector, generated and installed (dist-info and entry point) into a folder of its own."""
    return installed_package(Path(__file__).parent / "specs" / "httpbin.json")


@pytest.fixture
def gateway(tmp_path: Path, httpbin_url: str, upstream_http: str, site: Path) -> Iterator[Gateway]:
    (tmp_path / "calc.json").write_text(json.dumps({
        "type": "custom", "name": "calc", "transport": {"type": "http", "url": upstream_http},
        "limits": {"queue_timeout_s": 0.3}}))
    port = free_port()
    running = Gateway(f"http://127.0.0.1:{port}/mcp", tmp_path, tmp_path / "home")
    running.write_config(calc_enabled=True)
    environ = {**os.environ, "AGENT_A_TOKEN": TOKEN_A, "AGENT_B_TOKEN": TOKEN_B, "HTTPBIN_BASE_URL": httpbin_url,
               "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]), "SPECBRIDGE_HOME": str(running.home),
               "SPECBRIDGE_AUDIT": "jsonl"}
    command = [sys.executable, "-c", "import sys; from specbridge.cli import main; sys.exit(main())", "gateway",
               str(tmp_path / "gateway.yaml"), "--transport", "http", "--port", str(port)]
    with serving(command, port, env=environ):
        yield running


def inspector(url: str, token: str, *arguments: str) -> Any:
    completed = subprocess.run(
        [str(node_tool("mcp-inspector")), "--cli", url, "--transport", "http",
         "--header", f"Authorization: Bearer {token}", *arguments],
        capture_output=True, text=True, timeout=60, check=False)
    return json.loads(completed.stdout or completed.stderr)  # a refusal is JSON on stderr


def tool_names(url: str, token: str) -> set[str]:
    return {tool["name"] for tool in inspector(url, token, "--method", "tools/list")["tools"]}


def sdk_client(url: str, token: str) -> Client:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30)
    return Client(streamable_http_client(url, http_client=http), cache=None)


def test_inspector_lists_prefixed_tools_and_calls_one_of_each(gateway: Gateway) -> None:
    names = tool_names(gateway.url, TOKEN_B)
    assert "httpbin_anything" in names
    assert {"calc_add", "calc_dotted_name", "calc_sleep"} <= names

    rest = inspector(gateway.url, TOKEN_B, "--method", "tools/call", "--tool-name", "httpbin_anything",
                     "--tool-arg", "q=hello")
    assert rest["isError"] is False and rest["structuredContent"]["args"] == {"q": "hello"}
    wrapped = inspector(gateway.url, TOKEN_B, "--method", "tools/call", "--tool-name", "calc_add",
                        "--tool-arg", "a=1", "b=41")
    assert wrapped["isError"] is False and wrapped["structuredContent"] == {"total": 42}

    callers = {(record["tool"], record["caller"], record["status"]) for record in _wait_for_audit(gateway, 2)}
    assert {("httpbin_anything", "agent-b", "ok"), ("calc_add", "agent-b", "ok")} <= callers


async def test_a_token_sees_and_calls_only_its_connectors(gateway: Gateway) -> None:
    assert tool_names(gateway.url, TOKEN_A) == {"httpbin_anything"}
    refused = inspector(gateway.url, TOKEN_A, "--method", "tools/call", "--tool-name", "calc_add",
                        "--tool-arg", "a=1", "b=2")
    assert refused["error"]["code"] == "tool_not_found"  # the Inspector only calls what it was shown

    async with sdk_client(gateway.url, TOKEN_A) as client:  # a client that calls without listing first
        result = await client.call_tool("calc_add", {"a": 1, "b": 2})
        allowed = await client.call_tool("httpbin_anything", {"q": "mine"})
    assert result.is_error
    assert "not available to caller agent-a" in result.content[0].text
    assert not allowed.is_error
    assert ("calc_add", "agent-a", "not_allowed") in {
        (record["tool"], record["caller"], record["status"]) for record in _wait_for_audit(gateway, 2)}

    wrong = httpx2.post(gateway.url, headers={"Authorization": "Bearer not-a-token-of-this-gateway"},
                        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    assert wrong.status_code == 401


async def test_calls_in_flight_are_limited_per_gateway(gateway: Gateway) -> None:
    async with sdk_client(gateway.url, TOKEN_B) as client:
        results: list[Any] = []

        async def sleep() -> None:
            results.append(await client.call_tool("calc_sleep", {"seconds": 1.5}))

        async with anyio.create_task_group() as tasks:
            for _ in range(3):
                tasks.start_soon(sleep)
    refused = [result for result in results if result.is_error]
    assert len(refused) == 1  # concurrency 2: the third call found no free slot within its queue wait
    assert "at most 2" in refused[0].content[0].text


async def test_connectors_are_disabled_and_enabled_without_a_restart(gateway: Gateway) -> None:
    async with sdk_client(gateway.url, TOKEN_B) as client:
        assert "calc_add" in {tool.name for tool in (await client.list_tools()).tools}
        gateway.write_config(calc_enabled=False)
        names = await _wait_for_tools(client, lambda names: "calc_add" not in names)
        assert "httpbin_anything" in names
        with pytest.raises(MCPError) as gone:  # no such tool now: the protocol error -32602
            await client.call_tool("calc_add", {"a": 1, "b": 2})
        assert gone.value.code == INVALID_PARAMS

        gateway.write_config(calc_enabled=True)
        await _wait_for_tools(client, lambda names: "calc_add" in names)
        back = await client.call_tool("calc_add", {"a": 20, "b": 22})
        assert back.structured_content == {"total": 42}


async def _wait_for_tools(client: Client, done: Any) -> set[str]:
    deadline = time.monotonic() + 15
    while True:
        names = {tool.name for tool in (await client.list_tools()).tools}
        if done(names) or time.monotonic() > deadline:
            return names
        await anyio.sleep(0.2)


def _wait_for_audit(gateway: Gateway, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 10
    records = gateway.audit()
    while len(records) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        records = gateway.audit()
    return records
