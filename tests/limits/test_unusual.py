"""`usage` flags unusual activity, as the connector docs ask: a tool or a caller whose call rate or error rate
over the period shown is far above its own baseline (the seven periods before). Read by the fault API
package's `usage` command in its own process, from an audit written beforehand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from specbridge_runtime._core.seams import CallRecord
from specbridge_runtime._mechanisms.anomalies import unusual
from specbridge_runtime._mechanisms.audit import SqliteStore

from tests.limits.conftest import FAULTAPI_SRC
from tests.support import REPO

DAY = 86400.0


def call(tool: str, when: float, *, caller: str | None = None, ok: bool = True) -> CallRecord:
    return CallRecord(time=when, connector="faultapi", tool=tool, status="ok" if ok else "http_500", http_status=200,
                      latency_ms=5.0, bytes_out=0, bytes_in=10, retries=0, arguments_hash="h", arguments_size=2,
                      caller=caller)


def history(now: float) -> list[CallRecord]:
    """A steady week (two calls a day of each tool by alice), then a last day where faultapi_get is called 40
    times and bob, new, fails half of his 20 calls."""
    week = [call(tool, now - DAY - day * DAY - hour * 3600, caller="alice")
            for day in range(7) for hour in (1, 2) for tool in ("faultapi_get", "faultapi_post")]
    last_day = [call("faultapi_get", now - index * 600, caller="alice") for index in range(1, 21)]
    last_day += [call("faultapi_get", now - index * 700, caller="bob", ok=index % 2 == 0) for index in range(1, 21)]
    last_day += [call("faultapi_post", now - 3600 * hour, caller="alice") for hour in (1, 2)]
    return week + last_day


def test_a_tool_or_caller_far_above_its_baseline_is_flagged() -> None:
    now = time.time()
    calls = history(now)
    flagged = unusual([c for c in calls if c.time >= now - DAY], [c for c in calls if c.time < now - DAY])
    assert [(item.kind, item.name) for item in flagged] == [("caller", "alice"), ("caller", "bob"),
                                                              ("tool", "faultapi_get")]
    reasons = {item.name: item.reason for item in flagged}
    assert reasons["faultapi_get"] == "40 calls, usually 2.0 in a period as long; error rate 25%, usually 0%"
    assert reasons["bob"] == "20 calls, usually 0.0 in a period as long; error rate 50%, usually 0%"


def test_usage_shows_unusual_activity(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "audit.db")
    store.write(history(time.time()))
    store.close()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join([str(FAULTAPI_SRC), str(REPO)]),
           "SPECBRIDGE_HOME": str(tmp_path)}
    command = [sys.executable, "-m", "faultapi_mcp", "usage", "--since", "1d"]
    figures = json.loads(subprocess.run([*command, "--json"], env=env, cwd=REPO, capture_output=True, text=True,
                                        timeout=60, check=True).stdout)
    assert [(item["kind"], item["name"]) for item in figures["unusual"]] == [
        ("caller", "alice"), ("caller", "bob"), ("tool", "faultapi_get")]
    table = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True).stdout
    assert "unusual: caller bob: 20 calls, usually 0.0 in a period as long; error rate 50%, usually 0% (the 7 " \
           "periods before)" in table
    assert "unusual: tool faultapi_post" not in table
