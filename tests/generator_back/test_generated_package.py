"""A package generated from a real spec passes what the project demands of code (ruff, mypy --strict),
imports, and passes its own contract tests (which call a tool through the runtime's mock upstream)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from specbridge import cli

from tests.generator_back.conftest import run_tool
from tests.support import SHARED_SPECS

pytestmark = pytest.mark.corpus


@pytest.fixture(scope="module")
def petstore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "petstore"
    assert cli.main(["gen", str(SHARED_SPECS / "oai-v3.0-petstore-expanded.json"), "-o", str(out),
                     "--name", "petstore"]) == 0
    return out


def test_ruff_finds_nothing(petstore: Path) -> None:
    checked = run_tool("ruff", "check", "--no-cache", ".", cwd=petstore)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    formatted = run_tool("ruff", "format", "--check", "--no-cache", ".", cwd=petstore)
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_mypy_strict_finds_nothing(petstore: Path) -> None:
    typed = run_tool("mypy", "--strict", "--no-incremental", cwd=petstore)
    assert typed.returncode == 0, typed.stdout + typed.stderr


def test_it_imports_and_passes_its_own_tests(petstore: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(petstore / "src")}
    code = "import petstore_mcp.connector as c, petstore_mcp.models; print(len(c.PACKAGE.tools()))"
    imported = subprocess.run([sys.executable, "-c", code], cwd=petstore, env=env, capture_output=True, text=True,
                              timeout=120, check=False)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "4"
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], cwd=petstore,
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "3 passed" in tested.stdout
