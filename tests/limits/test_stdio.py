"""The fault API package run as users run a generated server: its own process over stdio, built by the
runtime's construction point, limits from the definition overridden from the environment, audit to SQLite
under SPECBRIDGE_HOME; then `usage` reads the figures of those calls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

from mcp import Client, StdioServerParameters

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import FAULTAPI_SRC, text_of
from tests.support import REPO

SERVER = [sys.executable, "-m", "faultapi_mcp"]


def server_environment(home: Path, url: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(FAULTAPI_SRC), str(REPO)]),
            "SPECBRIDGE_HOME": str(home),
            "FAULTAPI_BASE_URL": url, "FAULTAPI_TIMEOUT_S": "0.5", "FAULTAPI_MAX_RETRY_WAIT_S": "2"}


def children_running(module: str) -> list[int]:
    """Process ids of this process's children whose command line names `module`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == os.getpid() and module.encode() in command:
            found.append(int(stat.parent.name))
    return found


def memory_kb(pid: int, field: str) -> int:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith(field))
    return int(line.split()[1])


async def test_faults_over_stdio_then_usage(faultserver: FaultServerProcess, tmp_path: Path) -> None:
    name = uuid.uuid4().hex
    parameters = StdioServerParameters(command=SERVER[0], args=[*SERVER[1:], "serve"],
                                       env=server_environment(tmp_path, faultserver.url), cwd=str(REPO))
    async with Client(parameters, cache=None) as client:
        ok = await client.call_tool("faultapi_get", {"mode": "ok", "key": name, "id": "first"})
        assert not ok.is_error and ok.structured_content is not None and ok.structured_content["id"] == "first"
        (pid,) = children_running("faultapi_mcp")
        resident_before = memory_kb(pid, "VmRSS:")

        flap = await client.call_tool("faultapi_get", {"mode": "flap", "key": f"{name}-flap"})
        assert not flap.is_error, text_of(flap)
        hang = await client.call_tool("faultapi_get", {"mode": "hang", "key": name, "seconds": "3"})
        assert hang.is_error and "did not answer within 0.5 s" in text_of(hang)  # FAULTAPI_TIMEOUT_S
        big = await client.call_tool("faultapi_get", {"mode": "big", "mb": "50", "key": name})
        assert big.is_error and "larger than the limit" in text_of(big)
        assert memory_kb(pid, "VmHWM:") - resident_before < 20 * 1024  # the 50 MB never were in memory
        last = await client.call_tool("faultapi_get", {"mode": "ok", "key": name, "id": "last"})
        assert not last.is_error
    assert faultserver.stats(f"{name}-flap")["requests"] == 2

    environment = server_environment(tmp_path, faultserver.url)
    table = subprocess.run([*SERVER, "usage", "--since", "1h"], env=environment, cwd=REPO, capture_output=True,
                           text=True, timeout=60, check=True).stdout
    assert "faultapi_get" in table and "p50 ms" in table
    figures = json.loads(subprocess.run([*SERVER, "usage", "--json"], env=environment, cwd=REPO,
                                        capture_output=True, text=True, timeout=60, check=True).stdout)
    (usage,) = figures["tools"]
    assert (usage["tool"], usage["calls"], usage["errors"]) == ("faultapi_get", 5, 2)
    assert usage["error_rate"] == 0.4 and 0 < usage["p50_ms"] <= usage["p95_ms"]

    bad = subprocess.run([*SERVER, "usage", "--since", "last tuesday"], env=environment, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and "ISO date" in bad.stderr
