"""Boundary 3: connectors `a` (scheme `b_bearer`) and `a_b` (scheme `bearer`), generated and installed with pip
side by side (dist-info and entry points), served by `specbridge-gateway` as its own process: each sends only its own
token, the old shared variable name is never read where it is ambiguous, and two connectors that would serve
the same tool name stop the gateway before it starts, naming both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from specbridge_runtime._mechanisms.audit import NoAudit
from specbridge_runtime._providers.gateway import ConnectorEntry, GatewayProvider

from tests.security.conftest import Peer, PeerFactory, assert_absent, call_tools
from tests.support import installed_package

pytestmark = pytest.mark.timeout(180)

SPECS = Path(__file__).parent / "specs"
GATEWAY = ("-c", "import sys; from specbridge_runtime.contract import gateway_main; sys.exit(gateway_main())")
TOKEN_A, TOKEN_A_B = "token-of-a-0123456789abcdef", "token-of-a-b-0123456789abcdef"
LEGACY = "TEAM_A_B_BEARER_TOKEN"  # what both connectors read before the separator
LEGACY_VALUE = "legacy-shared-value-0123456789abcdef"


def install(folder: Path = SPECS) -> str:
    """Packages `a` and `a_b` generated from their definitions and installed with pip side by side (dist-info
    and entry points); the PYTHONPATH that holds both."""
    return os.pathsep.join(str(installed_package(folder / f"{name}.json")) for name in ("a", "a_b"))


def gateway_environ(tmp_path: Path, site: str, upstream: Peer, **variables: str) -> dict[str, str]:
    (tmp_path / "gateway.yaml").write_text("name: team\nconnectors:\n  - package: a\n  - package: a_b\n")
    return {"PATH": os.environ["PATH"], "PYTHONPATH": site, "SPECBRIDGE_HOME": str(tmp_path / "home"),
            "SPECBRIDGE_AUDIT": "off", "A_BASE_URL": upstream.url, "A_B_BASE_URL": upstream.url, **variables}


async def call_gateway(tmp_path: Path, environ: dict[str, str], log: Path, *tools: str) -> list[str]:
    server = StdioServerParameters(command=sys.executable, args=[*GATEWAY, str(tmp_path / "gateway.yaml")],
                                   env=environ)
    texts = []
    with log.open("a") as errlog:
        async with Client(stdio_client(server, errlog=errlog), cache=None) as client:
            for tool in tools:
                result = await client.call_tool(tool, {})
                texts.append(("ERROR " if result.is_error else "") + result.content[0].text)
    return texts


@pytest.fixture
def upstream(peers: PeerFactory) -> Peer:
    return peers("upstream")


async def test_each_connector_sends_only_its_own_token(tmp_path: Path, upstream: Peer) -> None:
    environ = gateway_environ(tmp_path, install(), upstream, TEAM__A__B_BEARER_TOKEN=TOKEN_A,
                              TEAM__A_B__BEARER_TOKEN=TOKEN_A_B, **{LEGACY: LEGACY_VALUE})
    log = tmp_path / "gateway.log"
    texts = await call_gateway(tmp_path, environ, log, "a_ping", "a_b_pong")
    assert not any(text.startswith("ERROR") for text in texts), texts
    assert [headers["authorization"] for headers in upstream.headers()] == [f"Bearer {TOKEN_A}",
                                                                             f"Bearer {TOKEN_A_B}"]
    assert_absent([LEGACY_VALUE], upstream=json.dumps(upstream.requests()), log=log.read_text())


async def test_the_ambiguous_old_name_is_read_by_neither(tmp_path: Path, upstream: Peer) -> None:
    log = tmp_path / "gateway.log"
    environ = gateway_environ(tmp_path, install(), upstream, **{LEGACY: LEGACY_VALUE})
    texts = await call_gateway(tmp_path, environ, log, "a_ping", "a_b_pong")
    assert all(text.startswith("ERROR") for text in texts), texts
    assert "TEAM__A__B_BEARER_TOKEN" in texts[0] and "TEAM__A_B__BEARER_TOKEN" in texts[1]
    assert upstream.requests() == []
    logged = log.read_text()
    assert f"{LEGACY} is not read for connector team.a: connector team.a_b could mean it too" in logged
    assert_absent([LEGACY_VALUE], results=" ".join(texts), log=logged)


async def test_the_old_name_still_works_with_a_warning_where_it_is_unambiguous(tmp_path: Path,
                                                                               upstream: Peer) -> None:
    alone = installed_package(SPECS / "a.json")  # package `a` installed without `a_b`
    log = tmp_path / "a.log"
    environ = {"SPECBRIDGE_HOME": str(tmp_path / "home"), "SPECBRIDGE_AUDIT": "off", "A_BASE_URL": upstream.url,
               "A_B_BEARER_TOKEN": TOKEN_A}
    (result,) = await call_tools(alone, "a_mcp", environ, log, [("a_ping", {})])
    assert not result.is_error and upstream.headers()[0]["authorization"] == f"Bearer {TOKEN_A}"
    assert "A_B_BEARER_TOKEN is deprecated (connector a): rename it to A__B_BEARER_TOKEN" in log.read_text()

    both = {**environ, "PYTHONPATH": install()}  # now `a_b` is installed too
    (refused,) = await call_tools(alone, "a_mcp", both, log, [("a_ping", {})])
    assert refused.is_error and "A__B_BEARER_TOKEN" in refused.content[0].text
    assert len(upstream.requests()) == 1


def test_two_connectors_serving_the_same_tool_name_stop_the_gateway(tmp_path: Path, upstream: Peer) -> None:
    environ = gateway_environ(tmp_path, install(SPECS / "clash"), upstream)  # both serve `a_b_ping`
    for command in (["tools"], ["serve"]):
        done = subprocess.run([sys.executable, *GATEWAY, str(tmp_path / "gateway.yaml"), *command],
                              capture_output=True, text=True, timeout=60, check=False, stdin=subprocess.DEVNULL,
                              env=environ)
        assert done.returncode == 1
        assert "gateway team does not start: connectors a and a_b would both serve the tool 'a_b_ping'" in done.stderr
        assert "Traceback" not in done.stderr
    assert upstream.requests() == []


class _Listed:
    """A connector whose tools are known only when listed (as an upstream MCP server's are)."""

    def __init__(self, name: str, tools: list[str]) -> None:
        self.name, self.tools, self.calls = name, tools, 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def on_tools_changed(self, callback: object) -> None: ...

    async def list_tools(self) -> list[types.Tool]:
        return [types.Tool(name=name, input_schema={"type": "object"}) for name in self.tools]

    async def call_tool(self, name: str, arguments: object) -> types.CallToolResult:
        self.calls += 1
        return types.CallToolResult(content=[types.TextContent(type="text", text=self.name)])


async def test_a_clash_known_only_when_listed_is_withheld_from_both(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "gateway.yaml").write_text("name: team\nconnectors:\n  - definition: a.json\n"
                                           "  - definition: a_b.json\n")
    members = {"definition:a.json": _Listed("a", ["a_b_ping", "a_other"]),
               "definition:a_b.json": _Listed("a_b", ["a_b_ping"])}

    def load(entry: ConnectorEntry, seams: object) -> tuple[str, Any]:
        member = members[entry.key]
        return member.name, member

    gateway = GatewayProvider(tmp_path / "gateway.yaml", {}, loader=load, audit=NoAudit())
    await gateway.start()
    try:
        assert [tool.name for tool in await gateway.list_tools()] == ["a_other"]
        refused = await gateway.call_tool("a_b_ping", {})
        assert refused.is_error and "connectors a and a_b would both serve the tool 'a_b_ping'" in (
            refused.content[0].text)
        assert not (await gateway.call_tool("a_other", {})).is_error
    finally:
        await gateway.stop()
    assert [member.calls for member in members.values()] == [1, 0]
    assert "connectors a and a_b would both serve the tool 'a_b_ping'" in caplog.text
