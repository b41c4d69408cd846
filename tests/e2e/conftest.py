"""End-to-end fixtures: generate a package with the real `specbridge` command, install it the way a user
does (`pip install`, here into a private target folder so the test venv stays clean), and run its
console script as a real MCP server over stdio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp import StdioServerParameters

from tests.support import REPO, node_tool

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class InstalledPackage:
    name: str
    source: Path  # the generated package folder
    site: Path  # where pip installed it

    @property
    def script(self) -> Path:
        return self.site / "bin" / f"{self.name}-mcp"

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(self.site),
            "SPECBRIDGE_HOME": str(home),
            "SPECBRIDGE_MASTER_KEY": "Q0hBTkdFTUVDSEFOR0VNRUNIQU5HRU1FQ0hBTkdFTUU=",
            **extra,
        }

    def stdio(self, home: Path, **extra: str) -> StdioServerParameters:
        return StdioServerParameters(command=str(self.script), args=[], env=self.env(home, **extra))


def run_specbridge(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "specbridge"), *args], cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )


def generate_and_install(source: str, out: Path, name: str, *extra: str, log: Path | None = None) -> InstalledPackage:
    """`log`: where to keep what `specbridge gen` reported (its diagnostics)."""
    generated = run_specbridge("gen", source, "-o", str(out), *extra)
    assert generated.returncode == 0, generated.stderr
    if log is not None:
        log.write_text(generated.stderr)
    site = out.parent / f"{out.name}-site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--disable-pip-version-check", "--target", str(site), str(out)],
        check=True, capture_output=True, timeout=300,
    )
    return InstalledPackage(name=name, source=out, site=site)


def inspector(*args: str, env: dict[str, str], cwd: Path, exit_code: int = 0) -> object:
    """The MCP Inspector CLI (npm); returns its parsed JSON output. It exits 5 when a tool returns isError."""
    completed = subprocess.run(
        [str(node_tool("mcp-inspector")), "--cli", *args],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
        env={**os.environ, "MCP_CATALOG_PATH": str(cwd / "inspector-catalog.json"), **env},
    )
    assert completed.returncode == exit_code, completed.stderr + completed.stdout
    # The output is one or more JSON documents (an error line may precede the result): keep the last.
    decoder, text, position, document = json.JSONDecoder(), completed.stdout, 0, None
    while (position := text.find("{", position)) != -1:
        document, position = decoder.raw_decode(text, position)
    return document


@pytest.fixture(scope="session")
def httpbin_package(tmp_path_factory: pytest.TempPathFactory) -> InstalledPackage:
    """specs/httpbin.json: httpbin's own spec plus one hand-written operation with a JSON body."""
    out = tmp_path_factory.mktemp("gen") / "httpbin"
    return generate_and_install("specs/httpbin.json", out, "httpbin")
