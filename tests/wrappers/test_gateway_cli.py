"""`specbridge-gateway` tried as a new user would: an inbound token that is not set yet does not stop `creds`,
and serving says which token is missing; a token naming a connector the gateway does not have is refused
at load; `serve` on a port in use says so instead of claiming to serve; `usage` counts the calls made
through the gateway; a connector's secret is set as its hint says (`--connector`). Real processes, no
traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.support import REPO, free_port, installed_package, serving

GATEWAY = [sys.executable, "-c", "from specbridge_runtime._gateway_cli import main; main()"]


@pytest.fixture(scope="module")
def site() -> Path:
    return installed_package(Path(__file__).parent / "specs" / "httpbin.json")


def gateway(tmp_path: Path, site: Path, yaml: str, *args: str, stdin: str = "",
            **environ: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "gw.yaml").write_text(yaml)
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
           "SPECBRIDGE_HOME": str(tmp_path / "home"), **environ}
    done = subprocess.run([*GATEWAY, str(tmp_path / "gw.yaml"), *args], env=env, cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert "Traceback" not in done.stderr, done.stderr
    return done


UNSET_TOKEN = """\
name: team
connectors:
  - package: httpbin
tokens:
  - caller: agent-a
    token: env:UNSET_AGENT_TOKEN
"""


def test_a_token_not_set_yet_leaves_creds_usable_and_serving_names_it(tmp_path: Path, site: Path) -> None:
    assert gateway(tmp_path, site, UNSET_TOKEN, "creds", "list").returncode == 0
    stored = gateway(tmp_path, site, UNSET_TOKEN, "creds", "set", "some_secret", stdin="value-0123456789")
    assert stored.returncode == 0, stored.stderr
    served = gateway(tmp_path, site, UNSET_TOKEN, "serve", "--transport", "http", "--port", str(free_port()))
    assert served.returncode == 1
    assert "the token of caller agent-a (env:UNSET_AGENT_TOKEN) cannot be read" in served.stderr
    assert "UNSET_AGENT_TOKEN is not set" in served.stderr and "serving MCP" not in served.stderr


def test_a_token_naming_an_unknown_connector_is_refused_at_load(tmp_path: Path, site: Path) -> None:
    yaml = UNSET_TOKEN.replace("env:UNSET_AGENT_TOKEN", "env:AGENT_TOKEN") + "    connectors: [httbin]\n"
    for args in (("tools",), ("serve", "--transport", "http", "--port", str(free_port()))):
        refused = gateway(tmp_path, site, yaml, *args, AGENT_TOKEN="agent-token-0123456789")
        assert refused.returncode == 1
        assert "the token of agent-a names connector 'httbin', which this gateway does not have" in refused.stderr
        assert "(it has httpbin)" in refused.stderr


def test_serve_on_a_port_in_use_says_so_and_never_claims_to_serve(tmp_path: Path, site: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        refused = gateway(tmp_path, site, "name: team\nconnectors:\n  - package: httpbin\n", "serve", "--transport",
                          "http", "--no-auth", "--port", str(port))
    assert refused.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in refused.stderr and "in use" in refused.stderr
    assert "serving MCP" not in refused.stderr


async def test_usage_counts_the_calls_made_through_the_gateway(tmp_path: Path, site: Path) -> None:
    yaml = "name: team\nconnectors:\n  - package: httpbin\n"
    (tmp_path / "gw.yaml").write_text(yaml)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
           "SPECBRIDGE_HOME": str(tmp_path / "home"), "HTTPBIN_BASE_URL": f"http://127.0.0.1:{free_port()}"}
    command = [*GATEWAY, str(tmp_path / "gw.yaml"), "serve", "--transport", "http", "--no-auth", "--port", str(port)]
    with serving(command, port, env=env, cwd=REPO):
        async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp"), cache=None) as client:
            for _ in range(2):  # the upstream is down: both fail, both are audited
                assert (await client.call_tool("httpbin_anything", {})).is_error
    usage = json.loads(gateway(tmp_path, site, yaml, "usage", "--json").stdout)
    assert usage["connector"] == "team"
    assert [(tool["tool"], tool["calls"], tool["errors"]) for tool in usage["tools"]] == [("httpbin_anything", 2, 2)]


async def test_a_connectors_secret_is_set_the_way_its_hint_says(tmp_path: Path) -> None:
    site = installed_package(Path(__file__).parent / "specs" / "secured.json")
    yaml = "name: team\nconnectors:\n  - package: secured\n"
    (tmp_path / "gw.yaml").write_text(yaml)

    async def call() -> str:
        port = free_port()
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(site), str(REPO)]),
               "SPECBRIDGE_HOME": str(tmp_path / "home"), "SECURED_BASE_URL": f"http://127.0.0.1:{free_port()}"}
        command = [*GATEWAY, str(tmp_path / "gw.yaml"), "serve", "--transport", "http", "--no-auth", "--port",
                   str(port)]
        with serving(command, port, env=env, cwd=REPO):
            async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp"), cache=None) as client:
                result = await client.call_tool("secured_anything", {})
        assert result.is_error
        return " ".join(block.text for block in result.content if isinstance(block, types.TextContent))

    hint = "specbridge-gateway <team gateway file> creds set api_token --connector secured"
    assert hint in await call()
    stored = gateway(tmp_path, site, yaml, "creds", "set", "api_token", "--connector", "secured",
                     stdin="token-0123456789abcdef")
    assert stored.returncode == 0, stored.stderr
    listed = gateway(tmp_path, site, yaml, "creds", "list", "--connector", "secured")
    assert "api_token" in listed.stdout and "abcdef" in listed.stdout
    assert "connection failed" in await call()  # the secret is found: the call goes on to the (absent) upstream
    unknown = gateway(tmp_path, site, yaml, "creds", "list", "--connector", "securd")
    assert unknown.returncode == 1 and "has no connector 'securd' (it has secured)" in unknown.stderr


def test_the_stores_named_in_the_gateway_file_are_used_and_a_missing_one_is_named(tmp_path: Path, site: Path) -> None:
    yaml = "name: team\nconnectors:\n  - package: httpbin\ndatabase_url: vault:database_url\n"
    missing = gateway(tmp_path, site, yaml, "tools")
    assert missing.returncode == 1 and "database_url (vault:database_url) cannot be read" in missing.stderr
    # creds works meanwhile (to store that very URL), in this home's vault; then every command uses it.
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/absent"
    assert gateway(tmp_path, site, yaml, "creds", "set", "database_url", stdin=url).returncode == 0
    used = gateway(tmp_path, site, yaml, "usage")
    assert used.returncode == 1 and "PostgreSQL at 127.0.0.1" in used.stderr and "/absent" in used.stderr
