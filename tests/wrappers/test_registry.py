"""The MCP Registry client and `specbridge registry search`, against the tests' own registry on 127.0.0.1
serving the shared real server.json documents and ours."""

from __future__ import annotations

import json

import httpx2
import pytest
from specbridge.cli import main
from specbridge.registry_client import RegistryClient, registry_url
from specbridge.server_json import ServerDetail, expand_placeholders

from tests.support import SHARED

ALL_NAMES = {
    "io.github.awslabs/ecs-mcp-server", "io.github.github/github-mcp-server", "io.github.modelcontextprotocol/time",
    "io.github.user/local-weather", "io.github.user/remote-weather",
}


@pytest.mark.corpus
def test_search_follows_the_cursor_and_keeps_the_latest_versions(registry_url: str) -> None:
    with RegistryClient(registry_url) as client:
        everything = client.search("", limit=100)  # the registry pages by 2: three pages
        latest_time = client.search("time")
        all_time = client.search("time", latest_only=False)
        capped = client.search("", limit=3)
    assert everything.diagnostics == ()
    assert {entry.server.name for entry in everything.servers} == ALL_NAMES
    assert [entry.server.version for entry in latest_time.servers] == ["2026.10.19"]
    assert sorted(entry.server.version for entry in all_time.servers) == ["2025.9.25", "2026.10.19"]
    assert len(capped.servers) == 3


def test_older_next_cursor_is_followed() -> None:
    pages = {
        "": {"servers": [_entry("a/one")], "metadata": {"next_cursor": "2"}},
        "2": {"servers": [_entry("a/two")], "metadata": {}},
    }
    transport = httpx2.MockTransport(lambda request: httpx2.Response(
        200, json=pages[request.url.params.get("cursor", "")]))
    with RegistryClient("http://registry.test", transport=transport) as client:
        result = client.search("a")
    assert [entry.server.name for entry in result.servers] == ["a/one", "a/two"]


def _entry(name: str) -> dict[str, object]:
    return {"server": {"name": name, "description": "x", "version": "1.0.0", "someFutureField": 1}, "_meta": {}}


@pytest.mark.corpus
def test_get_a_version_and_the_problems_as_diagnostics(registry_url: str) -> None:
    with RegistryClient(registry_url) as client:
        latest = client.get("io.github.modelcontextprotocol/time")
        older = client.get("io.github.modelcontextprotocol/time", "2025.9.25")
        missing = client.get("io.github.nobody/nothing")
        template = client.get("io.github.github/github-mcp-server")
    assert latest.server is not None and latest.server.server.version == "2026.10.19"
    package = latest.server.server.packages[0]
    assert (package.registry_type, package.identifier, package.version) == ("pypi", "mcp-server-time", "2026.10.19")
    assert older.server is not None and older.server.server.version == "2025.9.25"
    assert missing.server is None and [d.code for d in missing.diagnostics] == ["SB702"]
    assert template.server is None and [d.code for d in template.diagnostics] == ["SB704"]
    with RegistryClient("http://127.0.0.1:9") as client:
        unreachable = client.get("io.github.modelcontextprotocol/time")
    assert unreachable.server is None and unreachable.diagnostics[0].code == "SB701"
    assert "--registry-url" in unreachable.diagnostics[0].message


@pytest.mark.corpus
def test_version_placeholders_are_filled_in() -> None:
    path = SHARED / "registry" / "example.github-mcp-server.server.json"
    document, problems = expand_placeholders(json.loads(path.read_text()), "0.20.0", str(path))
    server = ServerDetail.model_validate(document)
    assert problems == ()
    assert server.version == "0.20.0"
    assert server.packages[0].identifier == "ghcr.io/github/github-mcp-server:0.20.0"
    assert server.status == "active"  # the legacy field is read


def test_registry_url_comes_from_the_option_then_the_environment() -> None:
    assert registry_url("http://a/", {"SPECBRIDGE_REGISTRY_URL": "http://b"}) == "http://a"
    assert registry_url(None, {"SPECBRIDGE_REGISTRY_URL": "http://b/"}) == "http://b"
    assert registry_url(None, {}) == "https://registry.modelcontextprotocol.io"


def test_search_command_lists_servers_and_versions(registry_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "search", "time", "--all-versions", "--registry-url", registry_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(line.split()[:1] == ["io.github.modelcontextprotocol/time"] and "pypi" in line for line in lines)
    assert {line.split()[1] for line in lines} == {"2025.9.25", "2026.10.19"}


@pytest.mark.corpus
def test_search_command_json(registry_url: str, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPECBRIDGE_REGISTRY_URL", registry_url)
    assert main(["registry", "search", "weather", "--json"]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert {entry["server"]["name"] for entry in entries} == {"io.github.user/local-weather",
                                                              "io.github.user/remote-weather"}
    remote = next(entry for entry in entries if entry["server"]["name"].endswith("remote-weather"))
    assert remote["server"]["remotes"][0]["type"] == "streamable-http"


def test_search_command_says_when_the_registry_is_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["registry", "search", "x", "--registry-url", "http://127.0.0.1:9"]) == 1
    assert "SB701" in capsys.readouterr().err
