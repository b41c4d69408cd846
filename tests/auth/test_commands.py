"""The auth commands of a generated server (`creds`, `login`, `check`), run as a user runs them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from specbridge_runtime._cli import main
from specbridge_runtime._mechanisms.vault import Vault

from tests.auth.conftest import AUTHDEMO_PACKAGE as PACKAGE
from tests.auth.test_oauth import play_browser
from tests.auth.upstream import Expected
from tests.support import REPO, free_port

SERVER = [sys.executable, "-m", "authdemo_mcp"]


@pytest.fixture
def env(home: Path, upstream: str, authdemo_cli: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "SPECBRIDGE_HOME": str(home), "AUTHDEMO_BASE_URL": upstream,
            "PYTHONPATH": os.pathsep.join([str(authdemo_cli), str(REPO)])}


def run_process(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`authdemo-mcp ARGS` as its own process."""
    return subprocess.run([*SERVER, *args], cwd=REPO, env=env, input=stdin, capture_output=True, text=True,
                          timeout=60)


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """`authdemo-mcp ARGS` in this process (the same CLI code, without the start-up time of a process)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    handlers, level = logging.root.handlers[:], logging.getLogger("specbridge_runtime").level
    try:
        with mock.patch.object(sys, "stdin", io.StringIO(stdin or "")), contextlib.redirect_stdout(stdout), \
                contextlib.redirect_stderr(stderr):
            code = main(PACKAGE, list(args), environ=env)
    finally:  # the CLI configures logging for its process; this one goes on
        logging.root.handlers[:] = handlers
        logging.getLogger("specbridge_runtime").setLevel(level)
    return subprocess.CompletedProcess(list(args), code, stdout.getvalue(), stderr.getvalue())


def stored(env: dict[str, str], name: str) -> str | None:
    vault = Vault(Path(env["SPECBRIDGE_HOME"]), environ={})
    try:
        return vault.get("authdemo", name)
    finally:
        vault.close()


def test_creds_set_reads_stdin_and_shows_only_the_tail(env: dict[str, str], expected: Expected) -> None:
    done = run_process(env, "creds", "set", "bearer_token", stdin=expected.bearer + "\n")
    assert done.returncode == 0, done.stderr
    assert stored(env, "bearer_token") == expected.bearer
    assert expected.bearer not in done.stdout + done.stderr and expected.bearer[-6:] in done.stderr
    listed = run_process(env, "creds", "list")
    assert listed.returncode == 0
    assert re.search(r"bearer_token\s+\*{6}" + expected.bearer[-6:], listed.stdout)
    assert expected.bearer[:-6] not in listed.stdout
    assert re.search(r"app_client_id\s+not set \(or set \$AUTHDEMO__APP_CLIENT_ID\)", listed.stdout)


def test_creds_set_refuses_an_empty_value(env: dict[str, str]) -> None:
    done = run(env, "creds", "set", "bearer_token", stdin="")
    assert done.returncode == 1 and "no value given" in done.stderr
    assert stored(env, "bearer_token") is None


def test_creds_delete(env: dict[str, str], expected: Expected) -> None:
    run(env, "creds", "set", "bearer_token", stdin=expected.bearer)
    assert run(env, "creds", "delete", "bearer_token").returncode == 0
    assert stored(env, "bearer_token") is None
    again = run(env, "creds", "delete", "bearer_token")
    assert again.returncode == 1 and again.stderr.count("\n") == 1 and "no stored secret 'bearer_token'" in again.stderr


def test_creds_rotate_key(env: dict[str, str], expected: Expected, home: Path) -> None:
    run(env, "creds", "set", "bearer_token", stdin=expected.bearer)
    old_key = (home / "master.key").read_text()
    done = run(env, "creds", "rotate-key")
    assert done.returncode == 0 and "re-sealed 1 secrets" in done.stderr
    assert (home / "master.key").read_text() != old_key
    assert stored(env, "bearer_token") == expected.bearer


def test_creds_rotate_key_with_an_environment_key(env: dict[str, str], expected: Expected) -> None:
    env["SPECBRIDGE_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    run(env, "creds", "set", "bearer_token", stdin=expected.bearer)
    refused = run(env, "creds", "rotate-key")
    assert refused.returncode == 1 and "SPECBRIDGE_NEW_MASTER_KEY" in refused.stderr
    env["SPECBRIDGE_NEW_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    assert run(env, "creds", "rotate-key").returncode == 0
    env["SPECBRIDGE_MASTER_KEY"] = env.pop("SPECBRIDGE_NEW_MASTER_KEY")
    listed = run(env, "creds", "list")
    assert expected.bearer[-6:] in listed.stdout


def test_a_wrong_master_key_is_one_clear_line(env: dict[str, str], expected: Expected) -> None:
    run(env, "creds", "set", "bearer_token", stdin=expected.bearer)
    env["SPECBRIDGE_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
    done = run(env, "creds", "set", "other", stdin="value-0123456789abcdef")
    assert done.returncode == 1
    assert done.stderr.startswith("authdemo-mcp: error: wrong master key") and "Traceback" not in done.stderr
    listed = run(env, "creds", "list")
    assert "UNREADABLE: wrong master key" in listed.stdout and "Traceback" not in listed.stderr


def test_a_malformed_master_key_is_one_clear_line(env: dict[str, str]) -> None:
    env["SPECBRIDGE_MASTER_KEY"] = "too-short"
    done = run(env, "creds", "set", "bearer_token", stdin="value-0123456789abcdef")
    assert done.returncode == 1 and "must be 32 random bytes in base64" in done.stderr
    assert "Traceback" not in done.stderr and "too-short" not in done.stderr


async def test_login_prints_the_url_and_stores_the_tokens(env: dict[str, str]) -> None:
    run(env, "creds", "set", "app_client_id", stdin="app")
    process = await asyncio.create_subprocess_exec(*SERVER, "login", "--no-browser", cwd=REPO, env=env,
                                                   stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        url = ""
        while not url.startswith("http"):
            url = (await asyncio.wait_for(process.stderr.readline(), 30)).decode().strip()
        landed = await play_browser(url)
        assert landed.status_code == 200
        _, rest = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, rest.decode()
    assert "signed in to 'app'" in rest.decode() and "refreshable" in rest.decode()
    assert stored(env, "app_oauth_token")
    listed = run(env, "creds", "list")
    assert re.search(r"app_oauth_token\s+OAuth token, expires in \d+ s, refreshable", listed.stdout)


@pytest.mark.parametrize(("setup", "words"), [
    ({"token": "bearer"}, ["Connection OK", "GET", "/bearer answered HTTP 200"]),
    ({"token": "bearer", "base": "/no/such/api"}, ["Connection Failed (wrong url)", "HTTP 404",
                                                   "Verify the endpoint URL is correct", "AUTHDEMO_BASE_URL"]),
    ({"token": "bearer", "base": "http://no-such-host.invalid"}, ["Connection Failed (wrong url)", "does not resolve"]),
    ({"token": "bearer", "base": "ftp://127.0.0.1/api"}, ["Connection Failed (wrong url)", "AUTHDEMO_BASE_URL"]),
    ({"token": "bearer", "base": "closed-port"}, ["Connection Failed (unreachable)", "Ensure the service is online"]),
    ({"token": "bad-format"}, ["Authentication Error (bad key format)", "whitespace",
                               "Check the API key/token format"]),
    ({"token": "wrong"}, ["Authentication Error (expired or revoked)", "HTTP 401", "hasn't expired"]),
    ({"token": "no-permission"}, ["Authentication Error (missing permission)", "HTTP 403", "required permissions"]),
    ({}, ["Authentication Error (missing credentials)", "creds set bearer_token"]),
], ids=["ok", "wrong-url-404", "wrong-url-dns", "wrong-url-scheme", "unreachable", "bad-key-format",
        "expired-or-revoked", "missing-permission", "missing-credentials"])
def test_check_verdicts(env: dict[str, str], expected: Expected, setup: dict[str, str], words: list[str]) -> None:
    tokens = {"bearer": expected.bearer, "bad-format": f" {expected.bearer}", "wrong": "revoked-token-0123456789",
              "no-permission": expected.bearer_without_permission}
    if "token" in setup:
        run(env, "creds", "set", "bearer_token", stdin=tokens[setup["token"]])
    base = setup.get("base", "")
    if base == "closed-port":
        env["AUTHDEMO_BASE_URL"] = f"http://127.0.0.1:{free_port()}"
    elif base.startswith("/"):
        env["AUTHDEMO_BASE_URL"] += base
    elif base:
        env["AUTHDEMO_BASE_URL"] = base
    runner = run_process if words[0] == "Connection OK" else run  # one verdict from a real process
    done = runner(env, "check", "--timeout", "10")
    output = done.stdout + done.stderr
    assert done.returncode == (0 if words[0] == "Connection OK" else 1), output
    for word in words:
        assert word in output, output
    assert "Traceback" not in output
    for secret in tokens.values():
        assert secret.strip() not in output
