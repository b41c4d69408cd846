"""`specbridge bundle`: the .mcpb of a generated package passes the official mcpb CLI (`validate`, `info`,
`unpack`); its `mcp_config`, resolved by the mcpb package's own `getMcpConfigForManifest` (what desktop
clients use) with the user's settings, starts the server on a bare interpreter (a venv with no packages at
all) in an environment holding nothing but what the manifest maps, and it lists and calls tools against
an API on 127.0.0.1."""

from __future__ import annotations

import json
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.packaging.conftest import BIN, Upstream, fresh_venv, run
from tests.support import REPO, node_tool

pytestmark = pytest.mark.e2e

TOKEN = "tok-" + "5" * 24

RESOLVE = """
import { readFileSync } from "node:fs";
import { getMcpConfigForManifest } from "@anthropic-ai/mcpb";
const [manifestPath, extensionPath, home, userConfig] = process.argv.slice(1);
const config = await getMcpConfigForManifest({
  manifest: JSON.parse(readFileSync(manifestPath, "utf8")), extensionPath, pathSeparator: "/",
  systemDirs: { HOME: home, DESKTOP: home, DOCUMENTS: home, DOWNLOADS: home }, userConfig: JSON.parse(userConfig),
});
process.stdout.write(JSON.stringify(config ?? null));
"""


@pytest.fixture(scope="module")
def bundle(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    done = run([str(BIN / "specbridge"), "bundle", str(REPO / "generated" / "shopify"), "-o", str(out / "shop.mcpb"),
                "--find-links", str(wheelhouse), "--no-index"], cwd=out)
    assert done.stdout.strip().endswith("shop.mcpb")
    assert "shopify-mcp 0.0.0, 2 settings, for linux with Python" in done.stderr
    return out / "shop.mcpb"


def unpack(bundle: Path, folder: Path) -> dict[str, Any]:
    mcpb = str(node_tool("mcpb"))
    run([mcpb, "unpack", str(bundle), str(folder)])
    assert "validation passes" in run([mcpb, "validate", str(folder / "manifest.json")]).stdout
    assert "Size:" in run([mcpb, "info", str(bundle)]).stdout
    manifest: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return manifest


def test_the_manifest_maps_every_credential_and_declares_what_it_runs_on(bundle: Path, tmp_path: Path) -> None:
    manifest = unpack(bundle, tmp_path / "unpacked")
    assert manifest["server"]["type"] == "python" and manifest["server"]["entry_point"] == "server/main.py"
    assert (tmp_path / "unpacked" / "server" / "main.py").is_file()
    token = manifest["user_config"]["shopify__token"]
    assert token["sensitive"] is True and token["required"] is True and token["title"] == "SHOPIFY__TOKEN"
    assert manifest["user_config"]["shopify_base_url"]["default"] == "https://store.myshopify.com/api/2024-01"
    env = manifest["server"]["mcp_config"]["env"]
    assert env["SHOPIFY__TOKEN"] == "${user_config.shopify__token}"
    assert env["SHOPIFY_BASE_URL"] == "${user_config.shopify_base_url}"
    # pydantic-core and cryptography are compiled: this platform and this Python minor version only.
    major, minor = sys.version_info[:2]
    assert manifest["compatibility"] == {"platforms": ["linux"],
                                         "runtimes": {"python": f">={major}.{minor},<{major}.{minor + 1}"}}
    assert [tool["name"] for tool in manifest["tools"]] == [
        "shopify_list_orders", "shopify_get_order", "shopify_create_order", "shopify_update_order",
        "shopify_cancel_order"]


def test_the_unpacked_bundle_runs_on_a_bare_interpreter_with_only_the_mapped_environment(
        bundle: Path, orders_api: Upstream, tmp_path: Path) -> None:
    folder = tmp_path / "installed"
    unpack(bundle, folder)
    models = REPO / "generated" / "shopify" / "src" / "shopify_mcp" / "models"
    assert {path.name for path in (folder / "server" / "lib" / "shopify_mcp" / "models").glob("*.py")} == {
        path.name for path in models.glob("*.py")}  # every module of the lazily imported input models
    home = tmp_path / "home"
    settings = {"shopify__token": TOKEN, "shopify_base_url": orders_api.url}
    resolved = json.loads(run(["node", "--input-type=module", "-e", RESOLVE, "--", str(folder / "manifest.json"),
                               str(folder), str(home), json.dumps(settings)]).stdout)
    assert resolved["command"] == "python"
    bare = fresh_venv(tmp_path / "bare", with_pip=False)
    assert subprocess.run([str(bare.bin("python")), "-c", "import pydantic"], capture_output=True,
                          env={}).returncode != 0  # nothing installed: whatever runs comes from the bundle
    assert set(resolved["env"]) == {"PYTHONPATH", "SPECBRIDGE_HOME", "SHOPIFY__TOKEN", "SHOPIFY_BASE_URL"}
    process = subprocess.Popen([str(bare.bin("python")), *resolved["args"]], env=resolved["env"], cwd=tmp_path,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    session = RawStdio(process)
    try:
        initialized = session.request("initialize", {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}})
        assert initialized["serverInfo"]["name"] == "shopify"
        session.notify("notifications/initialized")
        tools = session.request("tools/list", {})["tools"]
        called = session.request("tools/call", {"name": "shopify_list_orders", "arguments": {}})
    finally:
        session.close()
        stderr = process.stderr.read().decode() if process.stderr else ""
    assert len(tools) == 5, stderr
    assert not called.get("isError"), called
    assert called["structuredContent"]["orders"][0]["email"] == "a@example.com"
    assert orders_api.authorizations == [f"Bearer {TOKEN}"]
    assert (home / ".specbridge" / "audit.db").exists()  # its state went where the manifest said
    assert TOKEN not in stderr


def test_a_folder_that_is_no_generated_package_is_refused_with_a_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    done = subprocess.run([str(BIN / "specbridge"), "bundle", str(tmp_path / "pkg")], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1
    assert "error[SB801]" in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == [tmp_path / "pkg"]  # nothing written


class RawStdio:
    """JSON-RPC over the server's stdin/stdout, one message a line, with nothing in between: no SDK
    client, so nothing is added to the server's environment."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        self.process = process
        self.selector = selectors.DefaultSelector()
        self.selector.register(process.stdout, selectors.EVENT_READ)
        self.next_id = 0

    def notify(self, method: str) -> None:
        self._send({"jsonrpc": "2.0", "method": method})

    def request(self, method: str, params: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = self.process.stdout.readline() if self.process.stdout else b""
            if not line:
                raise AssertionError(f"the server closed stdout (exit {self.process.poll()})")
            message = json.loads(line)
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                result: dict[str, Any] = message["result"]
                return result
        raise AssertionError(f"no answer to {method} within {timeout} s")

    def close(self) -> None:
        """End of input: the server finishes (its audit written) and exits; killed if it does not."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()
