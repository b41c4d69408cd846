"""Start the fault server as its own process (so its buffers never count against the client's memory),
wait for it, and stop it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
import pytest

from tests.support import REPO, stop


@dataclass(frozen=True)
class FaultServerProcess:
    url: str
    process: subprocess.Popen[bytes]

    def stats(self, key: str) -> dict[str, Any]:
        response = httpx2.get(f"{self.url}/stats", params={"key": key}, timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result


@contextmanager
def running_faultserver() -> Iterator[FaultServerProcess]:
    process = subprocess.Popen([sys.executable, "-m", "tests.faultserver.server", "--port", "0"],
                               cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert process.stdout is not None
        line = process.stdout.readline().decode()  # "listening on 127.0.0.1:PORT", or "" if it died
        if not line.startswith("listening on "):
            raise RuntimeError(f"the fault server did not start (exit code {process.poll()})")
        yield FaultServerProcess(f"http://{line.removeprefix('listening on ').strip()}", process)
    finally:
        stop(process)


@pytest.fixture(scope="session")
def faultserver() -> Iterator[FaultServerProcess]:
    """The fault server for a whole test session (import this fixture into an area's conftest)."""
    with running_faultserver() as server:
        yield server
