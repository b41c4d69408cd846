"""Boundaries 6 and 7 and the transports: `creds set` refuses control characters; every file under
SPECBRIDGE_HOME is 0600 in 0700 folders even under a permissive umask; `creds list` shows ages and flags old
secrets (the stored time set back, no clock window), `check` names them; a foreign Host or Origin on
streamable HTTP or SSE is answered with one log line, not a traceback."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.security.conftest import MASTER_KEY, Peer, PeerFactory, call_tools, gen
from tests.support import free_port, wait_for_port

pytestmark = pytest.mark.timeout(180)

TOKEN = "tok-0123456789abcdef"


@pytest.fixture
def upstream(peers: PeerFactory) -> Peer:
    return peers("upstream")


@pytest.fixture
def package(tmp_path: Path, upstream: Peer) -> Path:
    definition = tmp_path / "home_test.json"
    definition.write_text(json.dumps({"type": "rest", "name": "home_test", "base_url": upstream.url,
                                      "operations": [{"name": "ok", "method": "GET", "path": "/ok"}],
                                      "auth": {"type": "bearer", "token": "vault:token"}}))
    done = gen(definition.name, "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "out" / "src"


def run(src: Path, home: Path, *arguments: str, stdin: str = "", **extra: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "PYTHONPATH": str(src), "SPECBRIDGE_HOME": str(home), **extra}
    # A permissive umask, as on many machines: the files must still be private.
    return subprocess.run([sys.executable, "-c", "import os, runpy; os.umask(0o002); "
                           "runpy.run_module('home_test_mcp', run_name='__main__')", *arguments],
                          input=stdin, capture_output=True, text=True, timeout=60, check=False, env=environ)


@pytest.mark.parametrize("value", ["tok\x01abcdef", "tok\tabcdef", "tok\x1b[31mabcdef", "tok\x85abcdef"])
def test_creds_set_refuses_control_characters(tmp_path: Path, package: Path, value: str) -> None:
    home = tmp_path / "home"
    done = run(package, home, "creds", "set", "token", stdin=value + "\n")
    assert done.returncode == 1 and "nothing stored" in done.stderr and "U+00" in done.stderr
    assert value not in done.stderr
    listed = run(package, home, "creds", "list")
    assert "******" not in listed.stdout and "not set" in listed.stdout


async def test_every_file_under_the_home_is_private(tmp_path: Path, package: Path, upstream: Peer) -> None:
    home = tmp_path / "home"
    assert run(package, home, "creds", "set", "token", stdin=TOKEN).returncode == 0
    for audit in ("sqlite", "jsonl"):
        src = package
        environ = {"SPECBRIDGE_HOME": str(home), "SPECBRIDGE_AUDIT": audit}
        wrapper = tmp_path / "umask_wrapper"  # the server started under a permissive umask too
        wrapper.mkdir(exist_ok=True)
        (wrapper / "sitecustomize.py").write_text("import os\nos.umask(0o002)\n")
        (result,) = await call_tools(src, "home_test_mcp", {**environ, "PYTHONPATH": f"{wrapper}{os.pathsep}{src}"},
                                     tmp_path / "server.log", [("home_test_ok", {})])
        assert not result.is_error
    paths = list(home.rglob("*"))
    assert {"vault.db", "master.key", "audit.db"} <= {path.name for path in paths}
    assert any(path.suffix == ".jsonl" for path in paths)
    for path in [home, *paths]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path} has mode {oct(mode)}"


def test_old_secrets_are_flagged_by_creds_list_and_check(tmp_path: Path, package: Path, upstream: Peer) -> None:
    home = tmp_path / "home"
    assert run(package, home, "creds", "set", "token", stdin=TOKEN).returncode == 0
    fresh = run(package, home, "creds", "list")
    assert "set 0 days ago" in fresh.stdout and "OLDER THAN" not in fresh.stdout
    with sqlite3.connect(home / "vault.db") as db:  # as if stored 120 days ago
        db.execute("UPDATE secrets SET updated_at = ?", (time.time() - 120 * 86400,))
    old = run(package, home, "creds", "list")
    assert "set 120 days ago  OLDER THAN 90 DAYS: rotate it" in old.stdout
    tolerant = run(package, home, "creds", "list", SPECBRIDGE_SECRET_MAX_AGE_DAYS="365")
    assert "set 120 days ago" in tolerant.stdout and "OLDER THAN" not in tolerant.stdout
    checked = run(package, home, "check")
    assert checked.returncode == 0, checked.stderr
    assert "home_test: the secret 'token' was set 120 days ago, more than 90: rotate it" in checked.stderr


@pytest.mark.parametrize(("transport", "method", "path"), [("sse", "GET", "/sse"), ("http", "POST", "/mcp")])
def test_a_foreign_host_or_origin_is_one_log_line(tmp_path: Path, package: Path, transport: str, method: str,
                                                  path: str) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    environ = {"PATH": os.environ["PATH"], "PYTHONPATH": str(package), "SPECBRIDGE_HOME": str(tmp_path / "home"),
               "SPECBRIDGE_MASTER_KEY": MASTER_KEY}
    with log.open("w") as errlog:
        process = subprocess.Popen([sys.executable, "-m", "home_test_mcp", "serve", "--transport", transport,
                                    "--no-auth", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=errlog,
                                   env=environ)
        try:
            wait_for_port(port, process=process)
            url = f"http://127.0.0.1:{port}{path}"
            body = {"jsonrpc": "2.0", "id": 1, "method": "ping"} if method == "POST" else None
            headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
            with httpx2.Client(timeout=10) as client:
                host = client.request(method, url, headers={**headers, "Host": "evil.example"}, json=body)
                origin = client.request(method, url, headers={**headers, "Origin": "http://evil.example"},
                                        json=body)
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert host.status_code in (400, 403, 421) and origin.status_code in (400, 403, 421)
    logged = log.read_text()
    assert "Traceback" not in logged and "Exception in ASGI application" not in logged
    assert len([line for line in logged.splitlines() if "evil.example" in line]) == 2, logged
