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
    assert "4 passed" in tested.stdout


def test_mypy_strict_sees_the_models_public_names(petstore: Path, tmp_path: Path) -> None:
    """The classes are imported lazily, but a type checker still knows each one, and refuses a name that is
    not there."""
    use = tmp_path / "use.py"
    use.write_text("from petstore_mcp.models import AddPetInput\n\n"
                   "pet: AddPetInput = AddPetInput.model_validate({'name': 'Rex'})\n"
                   "name: int = pet.name\n"
                   "from petstore_mcp.models import NoSuchInput\n", encoding="utf-8")
    env = {**os.environ, "MYPYPATH": str(petstore / "src")}
    typed = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(use)], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    errors = sorted(line.split(": error: ")[1] for line in typed.stdout.splitlines() if ": error: " in line)
    assert errors == [
        'Incompatible types in assignment (expression has type "str", variable has type "int")  [assignment]',
        'Module "petstore_mcp.models" has no attribute "NoSuchInput"  [attr-defined]',
    ], typed.stdout
