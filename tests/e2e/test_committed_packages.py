"""The packages committed in generated/ are what users review and deploy: each is ruff clean,
`mypy --strict` clean, and passes its own tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import REPO

PACKAGES = sorted(path for path in (REPO / "generated").iterdir() if (path / "pyproject.toml").exists())
BIN = Path(sys.executable).parent


def run(command: list[str], package: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(package / "src"), "SPECBRIDGE_HOME": str(package / ".." / ".." / "build")}
    return subprocess.run(command, cwd=package, capture_output=True, text=True, timeout=600, env=env, check=False)


def test_there_is_a_package_for_every_definition_in_specs() -> None:
    assert {path.name for path in PACKAGES} >= {"shopify", "notes", "inventory", "httpbin"}


@pytest.mark.parametrize("package", PACKAGES, ids=lambda path: path.name)
def test_package_is_lint_and_type_clean_and_passes_its_tests(package: Path) -> None:
    ruff = run([str(BIN / "ruff"), "check", "."], package)
    assert ruff.returncode == 0, ruff.stdout
    mypy = run([str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir", os.devnull, "src", "tests"], package)
    assert mypy.returncode == 0, mypy.stdout
    tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], package)
    assert tests.returncode == 0, tests.stdout[-3000:]
