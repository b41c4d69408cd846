"""Outside the clone, as a new user: a fresh virtual environment with no package index installs the generator
from a wheelhouse, generates a package from a spec of specs/, installs that package from the same
wheelhouse, and the MCP Inspector CLI lists and calls its tools. Then every client snippet of the generated
README is parsed and the command it names is run as the client would run it (with its `env` block), and so
are the pipx and uvx forms of its install section."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.e2e.conftest import inspector
from tests.packaging.conftest import BIN, FreshVenv, Upstream, fresh_venv, run
from tests.support import REPO, free_port, stop, wait_for_port

pytestmark = pytest.mark.e2e

TOKEN = "tok-" + "7" * 24
SERVER_TOKEN = "server-token-" + "9" * 24
ABSOLUTE = "/ABSOLUTE/PATH/TO/shopify-mcp"


@dataclass(frozen=True)
class Installed:
    venv: FreshVenv
    package: Path  # the generated package folder
    home: Path
    wheelhouse: Path


@pytest.fixture(scope="module")
def installed(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("outside")
    fresh = fresh_venv(root / "venv")
    fresh.pip_install(wheelhouse, "specbridge")
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": str(root)}
    run([str(fresh.bin("specbridge")), "gen", str(REPO / "specs" / "shopify.json"), "-o", str(root / "shopify")],
        cwd=root, env=clean)
    fresh.pip_install(wheelhouse, str(root / "shopify"))
    return Installed(fresh, root / "shopify", root / "home", wheelhouse)


def server_env(installed: Installed, upstream: Upstream) -> dict[str, str]:
    """What every client's process environment has, plus where the test's API and state are."""
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(installed.home),
            "SPECBRIDGE_HOME": str(installed.home / ".specbridge"), "SHOPIFY_BASE_URL": upstream.url,
            "SPECBRIDGE_LOG_LEVEL": "WARNING"}


def test_the_installed_package_holds_every_module_of_its_input_models(installed: Installed) -> None:
    code = ("import importlib.resources as r\n"
            "print(sorted(p.name for p in r.files('shopify_mcp.models').iterdir() if p.name.endswith('.py')))")
    shown = run([str(installed.venv.bin("python")), "-c", code], cwd=installed.home.parent).stdout.strip()
    written = sorted(path.name for path in (installed.package / "src" / "shopify_mcp" / "models").glob("*.py"))
    assert shown == repr(written) and len(written) > 2


def test_the_installed_commands_say_their_versions(installed: Installed) -> None:
    assert run([str(installed.venv.bin("specbridge")), "--version"]).stdout == "specbridge 0.1.0\n"
    assert run([str(installed.venv.bin("specbridge")), "gen", "--version"]).stdout == "specbridge 0.1.0\n"
    shown = run([str(installed.venv.bin("shopify-mcp")), "--version"]).stdout
    assert shown == "shopify-mcp 0.0.0 (specbridge-runtime 0.1.0)\n"
    gateway = run([str(installed.venv.bin("specbridge-gateway")), "--version"]).stdout
    assert gateway == "specbridge-gateway 0.1.0\n"


def test_the_inspector_lists_and_calls_the_installed_server(installed: Installed, orders_api: Upstream,
                                                            tmp_path: Path) -> None:
    env = {**server_env(installed, orders_api), "SHOPIFY__TOKEN": TOKEN}
    command = [*(flag for key, value in env.items() for flag in ("-e", f"{key}={value}")),
               str(installed.venv.bin("shopify-mcp"))]
    listed = inspector(*command, "--method", "tools/list", env=env, cwd=tmp_path)
    assert isinstance(listed, dict)
    assert [tool["name"] for tool in listed["tools"]][:2] == ["shopify_list_orders", "shopify_get_order"]
    called = inspector(*command, "--method", "tools/call", "--tool-name", "shopify_list_orders", env=env,
                       cwd=tmp_path)
    assert isinstance(called, dict) and not called.get("isError")
    assert called["structuredContent"]["orders"][0]["id"] == 7
    assert orders_api.authorizations[-1] == f"Bearer {TOKEN}"


# --- the README's client snippets -----------------------------------------------------------------------


def readme_blocks(readme: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced block of the client section."""
    section = readme[readme.index("## Use it from an MCP client"):]
    return [(match.group(1), match.group(2)) for match in re.finditer(r"```(\w+)\n(.*?)\n```", section, re.S)]


def fill(value: str, installed: Installed) -> str:
    """A snippet value with its placeholders replaced as the user replaces them."""
    value = value.replace(ABSOLUTE, str(installed.venv.bin("shopify-mcp")))
    return re.sub(r"<SHOPIFY__TOKEN>|\$\{input:shopify__token\}", TOKEN, value).replace("<SPECBRIDGE_SERVER_TOKEN>",
                                                                                         SERVER_TOKEN)


def uv_env(installed: Installed) -> dict[str, str]:
    """uvx finds the packages in the wheelhouse instead of an index, and this machine's Python."""
    return {"UV_OFFLINE": "1", "UV_FIND_LINKS": str(installed.wheelhouse), "UV_PYTHON_DOWNLOADS": "never",
            "UV_PYTHON": sys._base_executable, "UV_CACHE_DIR": str(installed.home / "uv-cache")}


def resolve(command: str, installed: Installed) -> str:
    return str(BIN / "uvx") if command == "uvx" else command


@dataclass(frozen=True)
class StdioSnippet:
    origin: str
    command: str
    args: list[str]
    env: dict[str, str]


def stdio_snippets(installed: Installed) -> Iterator[StdioSnippet]:
    readme = (installed.package / "README.md").read_text()
    for language, text in readme_blocks(readme):
        if language == "json":
            document = json.loads(text)
            servers = document.get("mcpServers") or document["servers"]
            entry = servers["shopify"]
            if "url" in entry:
                continue
            if "inputs" in document:  # VS Code prompts for each input; the ids are the ones env names
                assert {item["id"] for item in document["inputs"] if item["password"]} == {"shopify__token"}
            yield StdioSnippet(f"json {sorted(document)}", fill(entry["command"], installed),
                               [fill(arg, installed) for arg in entry["args"]],
                               {key: fill(value, installed) for key, value in entry["env"].items()})
        elif text.startswith("claude mcp add shopify --transport stdio"):
            words = shlex.split(text)
            split = words.index("--")
            options, command = words[6:split], words[split + 1:]
            assert options[0::2] == ["--env"] * (len(options) // 2)
            env = dict(fill(pair, installed).split("=", 1) for pair in options[1::2])
            yield StdioSnippet("claude code", command[0], command[1:], env)


async def test_every_stdio_snippet_of_the_readme_starts_a_working_server(installed: Installed,
                                                                         orders_api: Upstream) -> None:
    # The uvx form installs the package from the index: here the wheelhouse, holding its wheel too.
    run([str(installed.venv.bin("python")), "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index",
         "--find-links", str(installed.wheelhouse), "--wheel-dir", str(installed.wheelhouse), str(installed.package)])
    snippets = list(stdio_snippets(installed))
    assert sorted(snippet.command for snippet in snippets) == sorted(
        [str(installed.venv.bin("shopify-mcp"))] * 2 + ["uvx"] * 2)
    for snippet in snippets:
        assert snippet.env == {"SHOPIFY__TOKEN": TOKEN}, snippet.origin
        before = len(orders_api.authorizations)
        parameters = StdioServerParameters(command=resolve(snippet.command, installed), args=snippet.args,
                                           env={**server_env(installed, orders_api), **uv_env(installed),
                                                **snippet.env})
        with anyio.fail_after(180):
            async with Client(parameters, cache=None) as client:
                tools = (await client.list_tools()).tools
                result = await client.call_tool("shopify_list_orders", {})
        assert len(tools) == 5, snippet.origin
        assert not result.is_error, (snippet.origin, result)
        assert orders_api.authorizations[before:] == [f"Bearer {TOKEN}"], snippet.origin


async def test_the_http_snippets_reach_the_server_with_its_bearer_token(installed: Installed,
                                                                        orders_api: Upstream) -> None:
    readme = (installed.package / "README.md").read_text()
    blocks = readme_blocks(readme)
    [serve] = [text for language, text in blocks if text.startswith("env ")]
    [config] = [json.loads(text) for language, text in blocks if language == "json" and '"url"' in text]
    [add] = [shlex.split(text) for _language, text in blocks
             if text.startswith("claude mcp add shopify --transport http")]
    words = [fill(word, installed) for word in shlex.split(serve)][1:]
    assignments = dict(word.split("=", 1) for word in words if "=" in word and not word.startswith("-"))
    command = [word for word in words if word.split("=", 1)[0] not in assignments]
    assert command[0] == "shopify-mcp" and command[-2:] == ["--port", "8000"]
    port = free_port()
    command = [str(installed.venv.bin("shopify-mcp")), *command[1:-1], str(port)]
    entry = config["servers"]["shopify"]
    assert add[:6] == ["claude", "mcp", "add", "shopify", "--transport", "http"]
    assert add[6] == entry["url"] and add[7:] == ["--header", f"Authorization: {entry['headers']['Authorization']}"]
    url = entry["url"].replace(":8000/", f":{port}/")
    headers = {key: fill(value, installed) for key, value in entry["headers"].items()}
    process = subprocess.Popen(command, env={**server_env(installed, orders_api), **assignments},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process=process)
        http = httpx2.AsyncClient(headers=headers, timeout=30)
        with anyio.fail_after(60):
            async with http, Client(streamable_http_client(url, http_client=http), cache=None) as client:
                result = await client.call_tool("shopify_list_orders", {})
        assert not result.is_error
        assert orders_api.authorizations[-1] == f"Bearer {TOKEN}"
        async with httpx2.AsyncClient() as anonymous:
            refused = await anonymous.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                                           headers={"accept": "application/json, text/event-stream"})
        assert refused.status_code == 401
    finally:
        stop(process)


def test_the_pipx_form_of_the_readme_installs_the_command(installed: Installed, tmp_path: Path) -> None:
    readme = (installed.package / "README.md").read_text()
    [line] = [line for line in readme.splitlines() if line.startswith("pipx install")]
    words = shlex.split(line.replace("/path/to/wheelhouse", str(installed.wheelhouse)))
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PIPX_HOME": str(tmp_path / "pipx"),
           "PIPX_BIN_DIR": str(tmp_path / "bin"), "PIPX_MAN_DIR": str(tmp_path / "man"),
           "PIPX_DEFAULT_PYTHON": sys._base_executable,
           # pipx installs with uv when it finds it, else with pip: neither may use an index here.
           "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(installed.wheelhouse), "UV_OFFLINE": "1",
           "UV_PYTHON_DOWNLOADS": "never", "UV_CACHE_DIR": str(tmp_path / "uv-cache")}
    run([str(BIN / "pipx"), *words[1:]], cwd=installed.package, env=env)
    shown = run([str(tmp_path / "bin" / "shopify-mcp"), "--version"], env=env).stdout
    assert shown.startswith("shopify-mcp 0.0.0 (specbridge-runtime ")


def test_the_uvx_form_of_the_readme_runs_the_command_from_the_folder(installed: Installed) -> None:
    readme = (installed.package / "README.md").read_text()
    [line] = [line for line in readme.splitlines() if line.startswith("uvx --find-links")]
    words = shlex.split(line.replace("/path/to/wheelhouse", str(installed.wheelhouse)))
    env: dict[str, Any] = {"PATH": os.environ.get("PATH", ""), "HOME": str(installed.home), **uv_env(installed)}
    env.pop("UV_FIND_LINKS")  # the command line names the wheelhouse itself
    shown = run([str(BIN / "uvx"), *words[1:]], cwd=installed.package, env=env).stdout
    assert shown.startswith("shopify-mcp 0.0.0 (specbridge-runtime ")
