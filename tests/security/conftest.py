"""Fixtures of the trust-boundary tests: the attacker's peers as real servers on 127.0.0.1 that record what
they receive, canary secrets, and helpers that prove a canary reached nothing (requests, results, logs, files)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO, free_port, serving

# The process's own secrets and a user's variable, as an attacker would like to read them.
MASTER_KEY = base64.b64encode(b"canary-master-key-32-bytes-long!").decode()
SERVER_TOKEN = "canary-server-token-5f1e2d3c4b5a69788796"
CANARY_VALUE = "canary-user-variable-0a1b2c3d4e5f6a7b8c9d"
CANARIES = (MASTER_KEY, SERVER_TOKEN, CANARY_VALUE)
GEN = (sys.executable, "-c", "import sys; from specbridge.cli import main; sys.exit(main())", "gen")


@dataclass
class Peer:
    """A server of `tests.security.peers` and the requests it recorded."""

    url: str
    record: Path

    def requests(self) -> list[dict[str, Any]]:
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text(encoding="utf-8").splitlines()]

    def headers(self) -> list[dict[str, str]]:
        return [{name: value for name, value in request["headers"]} for request in self.requests()]


PeerFactory = Callable[..., Peer]


@pytest.fixture
def peers(tmp_path: Path) -> Iterator[PeerFactory]:
    """Starts peers on demand (`peers("upstream", folder=...)`, `peers("remote")`); stops them all after."""
    running: list[Any] = []

    def start(mode: str, folder: Path | None = None) -> Peer:
        port = free_port()
        record = tmp_path / f"{mode}-{port}.jsonl"
        command = [sys.executable, "-m", "tests.security.peers", mode, str(port), str(record)]
        context = serving([*command, *([str(folder)] if folder else [])], port, cwd=REPO)
        context.__enter__()
        running.append(context)
        return Peer(f"http://127.0.0.1:{port}", record)

    try:
        yield start
    finally:
        for context in reversed(running):
            context.__exit__(None, None, None)


def gen(*arguments: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*GEN, *arguments], capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
                          env=env)


def file_texts(folder: Path) -> Iterator[tuple[Path, str]]:
    """Every file under `folder` (generated packages, SPECBRIDGE_HOME), as text."""
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            yield path, path.read_bytes().decode("utf-8", errors="replace")


def assert_absent(canaries: Iterable[str], **places: str) -> None:
    """No canary, nor its base64, in any of `places` (name -> text)."""
    for canary in canaries:
        forms = (canary, base64.b64encode(canary.encode()).decode())
        for name, text in places.items():
            assert not any(form in text for form in forms), f"a canary reached {name}"


def everything_written(*folders: Path) -> dict[str, str]:
    return {str(path): text for folder in folders if folder.exists() for path, text in file_texts(folder)}


async def call_tools(package_src: Path, module: str, environ: dict[str, str], log: Path,
                     calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
    """Start a generated package (`python -m module`) as its own process and make `calls` with the SDK client
    over stdio; its stderr goes to `log`. The results, in order."""
    from mcp import Client, StdioServerParameters
    from mcp.client.stdio import stdio_client

    server = StdioServerParameters(command=sys.executable, args=["-m", module],
                                   env={"PATH": os.environ["PATH"], "PYTHONPATH": str(package_src), **environ})
    results = []
    with log.open("a") as errlog:
        async with Client(stdio_client(server, errlog=errlog), cache=None) as client:
            for tool, arguments in calls:
                results.append(await client.call_tool(tool, arguments))
    return results
