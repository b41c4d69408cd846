"""A canary secret, used for real by a generated server at debug logging, never shows up where it must not:
logs, error results, audit records, process arguments, generated files, the vault's bytes."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.auth.test_inbound import audit_callers
from tests.auth.upstream import Expected
from tests.support import REPO, free_port, stop, wait_for_port

INBOUND_TOKEN = "inbound-token-for-the-canary-server-0123456789"


def specbridge(*args: str, env: dict[str, str], stdin: str | None = None,
               cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(Path(sys.executable).with_name("specbridge")), *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done


def server(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The generated server's command line."""
    return subprocess.run([sys.executable, "-m", "canarydemo_mcp", *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)


async def test_a_canary_secret_never_leaks(tmp_path: Path, upstream: str, expected: Expected,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    canary = f"canary-{secrets.token_hex(12)}"
    home = tmp_path / "home"
    out = tmp_path / "generated"
    env = {"PATH": os.environ["PATH"], "SPECBRIDGE_HOME": str(home), "PYTHONPATH": f"{out / 'src'}{os.pathsep}{REPO}"}
    monkeypatch.setattr(expected, "bearer", canary)
    monkeypatch.setattr(expected, "api_key", canary)
    leaks: dict[str, str] = {}

    # A committed definition carries the bearer token sealed; the API key goes to the vault.
    sealed = specbridge("encrypt", "--connector", "canarydemo", "--name", "token", env=env, stdin=canary)
    leaks["specbridge encrypt output"] = sealed.stdout + sealed.stderr
    definition = {
        "type": "rest", "name": "canarydemo", "base_url": upstream,
        "operations": [{"name": "whoami", "method": "GET", "path": "/bearer", "description": "bearer check"},
                       {"name": "keyed", "method": "GET", "path": "/api-key/header", "description": "key check"}],
        "auth": {"type": "bearer", "token": sealed.stdout.strip()},
        "headers": [{"name": "X-API-Key", "value": "vault:api_key"}],
    }
    (tmp_path / "canarydemo.json").write_text(json.dumps(definition))
    generated = specbridge("gen", str(tmp_path / "canarydemo.json"), "--out", str(out), env=env, cwd=tmp_path)
    leaks["specbridge gen output"] = generated.stdout + generated.stderr
    stored = server("creds", "set", "api_key", env=env, stdin=canary)
    assert stored.returncode == 0, stored.stderr
    leaks["creds set output"] = stored.stdout + stored.stderr
    leaks["creds list"] = server("creds", "list", env=env).stdout
    checked = server("check", env=env)
    assert checked.returncode == 0, checked.stderr  # the sealed token and the stored key work
    leaks["check"] = checked.stdout + checked.stderr

    port = free_port()
    log = tmp_path / "server.log"
    serve_env = {**env, "SPECBRIDGE_LOG_LEVEL": "DEBUG", "SPECBRIDGE_SERVER_TOKEN": INBOUND_TOKEN}
    with log.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "canarydemo_mcp", "serve", "--transport", "http", "--port",
                                    str(port)], env=serve_env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_for_port(port, process=process)
            leaks["server process arguments"] = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
            leaks["server process environment"] = Path(f"/proc/{process.pid}/environ").read_bytes().decode()
            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {INBOUND_TOKEN}"}, timeout=30)
            async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http),
                              cache=None) as client:
                results = [await client.call_tool("canarydemo_whoami", {}),
                           await client.call_tool("canarydemo_keyed", {})]
                assert not any(result.is_error for result in results), results
                monkeypatch.setattr(expected, "bearer", "the-upstream-changed-its-token-0123")
                results.append(await client.call_tool("canarydemo_whoami", {}))  # 401 from the upstream
                results.append(await client.call_tool("canarydemo_whoami", {"unexpected": canary}))  # bad arguments
                assert server("creds", "delete", "api_key", env=env).returncode == 0
                results.append(await client.call_tool("canarydemo_keyed", {}))  # the key is gone
                assert all(result.is_error for result in results[2:]), results
            leaks["tool results"] = json.dumps([result.model_dump(mode="json") for result in results[:3] + results[4:]])
            leaks["bad-argument error"] = json.dumps(results[3].content[0].model_dump(mode="json"))
            assert len(audit_callers(home, len(results))) == len(results)  # every call audited
        finally:
            stop(process)
    leaks["server log (debug)"] = log.read_text()
    assert "DEBUG" in leaks["server log (debug)"] or "INFO" in leaks["server log (debug)"]
    for path in sorted(home.rglob("*")):  # the vault (db, WAL), master key, audit records
        if path.is_file():
            leaks[f"file {path.relative_to(tmp_path)}"] = path.read_bytes().decode("latin-1")
    for path in sorted(out.rglob("*")):
        if path.is_file():
            leaks[f"generated {path.relative_to(out)}"] = path.read_bytes().decode("latin-1")
    assert (home / "vault.db").exists() and (home / "audit.db").exists()
    assert any(name.startswith("generated src/canarydemo_mcp/connector.py") for name in leaks)
    assert [where for where, text in leaks.items() if canary in text] == []
