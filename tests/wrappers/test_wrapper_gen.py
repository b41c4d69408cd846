"""`specbridge gen` on mcp_registry and custom definitions: which entry of a server.json runs and how,
secrets as references only, and the generated package itself (ruff, mypy --strict, and a real MCP client
calling the PyPI reference server `mcp-server-time` through it over stdio)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from specbridge.cli import main
from specbridge.definition import definition_from_data
from specbridge.server_json import ServerDetail, expand_placeholders
from specbridge.wrapper import registry_connector, wrapper_connector
from specbridge_runtime._core.descriptors import RemoteUpstream, StdioUpstream

from tests.support import REPO, SHARED

FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = SHARED / "registry"


def example(name: str, version: str = "0.20.0") -> ServerDetail:
    document, _ = expand_placeholders(json.loads((EXAMPLES / name).read_text()), version, name)
    return ServerDetail.model_validate(document)


def registry_definition(**fields: Any) -> Any:
    read = definition_from_data({"type": "mcp_registry", "registry_name": "io.github.x/y", **fields}, "def.json")
    assert read.definition is not None, read.diagnostics
    return read.definition


@pytest.mark.corpus
def test_npm_package_runs_with_npx_and_its_secret_is_a_reference() -> None:
    result = registry_connector(registry_definition(), example("example.registry-docs.with-package.server.json"),
                                "def.json")
    upstream = result.connector.upstream
    assert upstream == StdioUpstream(command="npx", args=("-y", "@modelcontextprotocol/server-weather@1.0.0",
                                                          "--port", "8080"),
                                     env=(("API_KEY", "vault:api_key"),))


@pytest.mark.corpus
def test_pypi_package_is_a_pinned_dependency_run_from_this_environment() -> None:
    result = registry_connector(registry_definition(variables={"region": "eu-west-1"}),
                                example("example.awslabs.ecs-mcp-server.server.json"), "def.json")
    connector = result.connector
    assert connector.requirements == ("mcp-proxy-for-aws==1.1.1",)
    assert connector.upstream.python_script
    assert connector.upstream.command == "mcp-proxy-for-aws"
    # {region} filled in from the definition; the optional --profile keeps its default.
    assert connector.upstream.args == ("https://ecs-mcp.eu-west-1.api.aws/mcp", "--service", "ecs-mcp",
                                       "--profile", "default", "--region", "eu-west-1")


@pytest.mark.corpus
def test_oci_image_runs_with_docker_and_keeps_the_secret_off_the_command_line() -> None:
    definition = registry_definition(auth={"type": "bearer", "token": "vault:github_token"})
    result = registry_connector(definition, example("example.github-mcp-server.server.json"), "def.json")
    upstream = result.connector.upstream
    assert upstream.command == "docker"
    assert upstream.args == ("run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN",
                             "ghcr.io/github/github-mcp-server:0.20.0")
    assert upstream.env == (("GITHUB_PERSONAL_ACCESS_TOKEN", "vault:github_token"),)
    assert [d.code for d in result.diagnostics] == ["SB708"]


@pytest.mark.corpus
def test_remote_gets_its_url_variables_and_the_definition_auth() -> None:
    definition = registry_definition(auth={"type": "bearer", "token": "env:WEATHER_TOKEN"},
                                     variables={"host": "weather.internal"})
    result = registry_connector(definition, example("example.registry-docs.with-remote.server.json"), "def.json")
    upstream = result.connector.upstream
    assert isinstance(upstream, RemoteUpstream)
    assert (upstream.url, upstream.transport, upstream.headers) == ("https://weather.internal/mcp",
                                                                    "streamable_http", ())
    assert upstream.auth is not None and upstream.auth.secrets == (("token", "env:WEATHER_TOKEN"),)


@pytest.mark.corpus
def test_a_plain_secret_in_the_definition_is_refused() -> None:
    definition = registry_definition(env={"API_KEY": "sk-live-1234567890"})
    result = registry_connector(definition, example("example.registry-docs.with-package.server.json"), "def.json")
    assert result.connector is None
    assert [d.code for d in result.diagnostics] == ["SB203"]
    assert "sk-live" not in " ".join(d.message for d in result.diagnostics)


def test_a_required_value_that_is_missing_is_an_error() -> None:
    server = ServerDetail.model_validate({
        "name": "io.github.x/y", "description": "d", "version": "1.0.0",
        "packages": [{"registryType": "npm", "identifier": "pkg", "version": "1.0.0", "transport": {"type": "stdio"},
                      "packageArguments": [{"type": "positional", "valueHint": "root", "isRequired": True}]}]})
    result = registry_connector(registry_definition(), server, "def.json")
    assert result.connector is None and [d.code for d in result.diagnostics] == ["SB707"]
    fixed = registry_connector(registry_definition(variables={"root": "/data"}), server, "def.json")
    assert fixed.connector.upstream.args == ("-y", "pkg@1.0.0", "/data")


@pytest.mark.parametrize(("kind", "url", "transport"), [
    ("http", "https://analytics.example.com/mcp", "streamable_http"),
    ("sse", "https://analytics.example.com/sse", "sse"),
    ("websocket", "wss://analytics.example.com/ws", "websocket"),
])
def test_custom_definitions_for_each_transport(kind: str, url: str, transport: str) -> None:
    read = definition_from_data({
        "type": "custom", "name": "Analytics Backend",
        "transport": {"type": kind, "url": url, "headers": [{"name": "X-API-Key", "value": "vault:api_key"}]},
        "auth": {"type": "bearer", "token": "env:ANALYTICS_TOKEN"}}, "def.json")
    result = wrapper_connector(read.definition, "def.json")
    connector = result.connector
    assert connector.name == "analytics_backend"
    assert connector.upstream == RemoteUpstream(url=url, transport=transport,
                                                headers=(("X-API-Key", "vault:api_key"),),
                                                auth=connector.upstream.auth)
    assert connector.upstream.auth.type == "bearer"


def run(*command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.timeout(180)
async def test_generated_time_wrapper_runs_the_pypi_server_for_a_real_client(
        registry_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECBRIDGE_REGISTRY_URL", registry_url)
    out = tmp_path / "time"
    assert main(["gen", str(FIXTURES / "time.definition.json"), "-o", str(out)]) == 0
    assert main(["gen", str(FIXTURES / "time.definition.json"), "-o", str(out), "--check"]) == 0

    pyproject = (out / "pyproject.toml").read_text()
    assert '"mcp-server-time==2026.10.19"' in pyproject
    assert '"time-mcp" = "time_mcp.connector:main"' in pyproject
    assert '[project.entry-points."specbridge.connectors"]' in pyproject
    assert {"README.md", "specbridge.lock", "src/time_mcp/connector.py", "tests/test_wrapper.py"} <= {
        path.relative_to(out).as_posix() for path in out.rglob("*") if path.is_file()}

    lint = run(sys.executable, "-m", "ruff", "check", ".", cwd=out)
    assert lint.returncode == 0, lint.stdout
    types = run(sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(REPO / ".mypy_cache"), "src", "tests",
                cwd=out)
    assert types.returncode == 0, types.stdout
    own_tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=out,
                               capture_output=True, text=True, timeout=120, check=False,
                               env={**os.environ, "PYTHONPATH": str(out / "src")})
    assert own_tests.returncode == 0, own_tests.stdout

    server = StdioServerParameters(command=sys.executable, args=["-m", "time_mcp"], env={
        "PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": str(tmp_path / "home"), "SPECBRIDGE_AUDIT": "off"})
    async with Client(server, cache=None) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(tools) == {"time_get_current_time", "time_convert_time"}
        assert tools["time_get_current_time"].annotations.read_only_hint is True
        result = await client.call_tool("time_get_current_time", {"timezone": "Asia/Tokyo"})
        converted = await client.call_tool("time_convert_time", {
            "source_timezone": "Europe/Paris", "time": "12:00", "target_timezone": "UTC"})
    assert not result.is_error
    assert result.structured_content["timezone"] == "Asia/Tokyo"
    assert result.structured_content["datetime"].endswith("+09:00")
    assert not converted.is_error
    assert converted.structured_content["target"]["datetime"].startswith(
        converted.structured_content["source"]["datetime"][:10])


def test_check_says_whether_the_upstream_answers(registry_url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECBRIDGE_REGISTRY_URL", registry_url)
    definition = tmp_path / "offline.json"
    definition.write_text(json.dumps({"type": "custom", "name": "offline",
                                      "transport": {"type": "http", "url": "http://127.0.0.1:9/mcp"}}))
    for source, out in ((FIXTURES / "time.definition.json", tmp_path / "time"), (definition, tmp_path / "offline")):
        assert main(["gen", str(source), "-o", str(out)]) == 0
    environ = {**os.environ, "SPECBRIDGE_HOME": str(tmp_path / "home"), "SPECBRIDGE_AUDIT": "off"}

    def check(package: str, out: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", package, "check", "--timeout", "10"], capture_output=True,
                              text=True, timeout=60, check=False, env={**environ, "PYTHONPATH": str(out / "src")})

    good = check("time_mcp", tmp_path / "time")
    assert good.returncode == 0, good.stderr
    assert "time: Connection OK" in good.stdout and "2 tools" in good.stdout
    bad = check("offline_mcp", tmp_path / "offline")
    assert bad.returncode == 1
    assert "offline: Connection Failed" in bad.stderr and "127.0.0.1:9" in bad.stderr
