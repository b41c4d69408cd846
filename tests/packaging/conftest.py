"""Packaging fixtures: the distributions built as a release would build them (sdist, then the wheel from the
sdist), and a wheelhouse holding them with the wheel of every dependency, as a package index would serve
them (downloaded from PyPI once per session). Tests install from it with no index at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from tests.support import REPO, http_server

BIN = Path(sys.executable).parent


def run(command: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                               check=False)
    assert completed.returncode == 0, f"{command[:4]} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    return completed


@dataclass(frozen=True)
class Distributions:
    folder: Path

    def files(self, pattern: str) -> list[Path]:
        return sorted(self.folder.glob(pattern))


@pytest.fixture(scope="session")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> Distributions:
    """`python -m build` of the runtime and the generator: an sdist each, and the wheel built from it."""
    folder = tmp_path_factory.mktemp("dist")
    for project in (REPO / "runtime", REPO):
        # --no-isolation: hatchling comes from requirements-dev.txt instead of a download per build.
        run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(folder), str(project)])
    return Distributions(folder)


@pytest.fixture(scope="session")
def wheelhouse(distributions: Distributions, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both wheels and the wheels of all their dependencies, plus what building a generated package and
    pipx need (hatchling, pip)."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    wheels = distributions.files("*.whl")
    assert len(wheels) == 2
    for wheel in wheels:
        (folder / wheel.name).write_bytes(wheel.read_bytes())
    run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
         "--dest", str(folder), *map(str, wheels), "hatchling", "pip"])
    return folder


@dataclass(frozen=True)
class FreshVenv:
    root: Path

    def bin(self, name: str) -> Path:
        return self.root / "bin" / name

    def pip_install(self, wheelhouse: Path, *requirements: str) -> None:
        run([str(self.bin("python")), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-index", "--find-links", str(wheelhouse), *requirements],
            env={"PATH": os.environ.get("PATH", ""), "HOME": str(self.root)})


def fresh_venv(path: Path, *, with_pip: bool = True) -> FreshVenv:
    """A new virtual environment of the interpreter this Python was made from (not of the test venv)."""
    venv.EnvBuilder(with_pip=with_pip, clear=True).create(path)
    return FreshVenv(path)


@dataclass
class Upstream:
    """A small REST API on 127.0.0.1 shaped like the Shopify connector's: it answers GET /orders.json and
    records the Authorization header of every request."""

    url: str
    authorizations: list[str | None] = field(default_factory=list)


@pytest.fixture
def orders_api() -> Iterator[Upstream]:
    seen: list[str | None] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Authorization"))
            found = self.path.split("?")[0] == "/orders.json"
            body = json.dumps({"orders": [{"id": 7, "email": "a@example.com"}]} if found
                              else {"errors": "Not Found"}).encode()
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    with http_server(Handler) as url:
        yield Upstream(url, seen)
