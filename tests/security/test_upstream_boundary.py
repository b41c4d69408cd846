"""Boundary 4 (and 2 and 6 at run time): generated REST packages, each run as its own process and called by
the SDK client, against a real upstream that echoes every request header and the query in a 400. The error
result keeps what helps (status, ids, file names) and carries no credential in any form; the audit and the
log neither. A package whose descriptor names the server's own variable, or a stored secret with a control
character, sends nothing. JSON nested 500 deep is an error result, audited as one."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from specbridge_runtime._mechanisms.vault import Vault

from tests.security.conftest import (
    MASTER_KEY,
    SERVER_TOKEN,
    Peer,
    PeerFactory,
    assert_absent,
    call_tools,
    everything_written,
    gen,
)
from tests.security.peers import DEPTH, KERNEL_ID, NOTEBOOK

pytestmark = pytest.mark.timeout(180)

TOKEN = 'tok-AAAA-my-secret/+"q'  # characters that JSON escapes and URLs encode
QUERY_KEY = "qk/with+plus&eq=9f8e7d6c"
HEADER_KEY = "hk-5a4b3c2d1e0f9a8b"
USERNAME, PASSWORD = "alice", "hunter2-pw"
OPERATIONS = [{"name": name, "method": "GET", "path": f"/{name}"} for name in ("echo", "kernel", "deep", "ok")]


def package(tmp_path: Path, name: str, upstream: Peer, auth: list[dict[str, Any]],
            headers: list[dict[str, str]] | None = None) -> Path:
    definition = tmp_path / f"{name}.json"
    definition.write_text(json.dumps({"type": "rest", "name": name, "base_url": upstream.url,
                                      "operations": OPERATIONS, "auth": auth, "headers": headers or []}))
    out = tmp_path / name
    generated = gen(definition.name, "-o", str(out), cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    return out


def secret_forms(*values: str) -> list[str]:
    forms = []
    for value in values:
        forms += [value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)]
    return forms


@pytest.fixture
def upstream(peers: PeerFactory) -> Peer:
    return peers("upstream")


def environ(home: Path, **secrets: str) -> dict[str, str]:
    return {"SPECBRIDGE_HOME": str(home), "SPECBRIDGE_AUDIT": "jsonl", "SPECBRIDGE_MASTER_KEY": MASTER_KEY,
            "SPECBRIDGE_SERVER_TOKEN": SERVER_TOKEN, **secrets}


def audit(home: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted((home / "audit").glob("*.jsonl"))
            for line in path.read_text().splitlines()]


async def test_an_echoing_upstream_gets_no_credential_back_to_the_client(tmp_path: Path, upstream: Peer) -> None:
    out = package(tmp_path, "echo", upstream, [
        {"type": "bearer", "name": "bearer", "token": "vault:token"},
        {"type": "api_key", "name": "query_key", "key": "vault:query_key", "location": "query",
         "param_name": "api_key"},
        {"type": "headers", "name": "custom", "headers": [{"name": "X-Api-Key", "value": "vault:header_key"}]}])
    home, log = tmp_path / "home", tmp_path / "echo.log"
    echo, kernel, deep, ok = await call_tools(
        out / "src", "echo_mcp", environ(home, ECHO__TOKEN=TOKEN, ECHO__QUERY_KEY=QUERY_KEY,
                                         ECHO__HEADER_KEY=HEADER_KEY), log,
        [("echo_echo", {}), ("echo_kernel", {}), ("echo_deep", {}), ("echo_ok", {})])

    sent = upstream.headers()[0]
    assert sent["authorization"] == f"Bearer {TOKEN}" and sent["x-api-key"] == HEADER_KEY  # the attack is real
    text = echo.content[0].text
    assert echo.is_error and "HTTP 400" in text and re.search(r'"authorization":\s*"\[redacted\]"', text), text
    assert re.search(r'"x-api-key":\s*"\[redacted\]"', text), text
    assert not any(form in text for form in secret_forms(TOKEN, QUERY_KEY, HEADER_KEY)), text
    assert "bad request" in text and "127.0.0.1" in text  # what is useful stays

    assert kernel.is_error and KERNEL_ID in kernel.content[0].text and NOTEBOOK in kernel.content[0].text

    assert deep.is_error and "nested deeper than 100 levels" in deep.content[0].text
    assert not ok.is_error and ok.structured_content == {"ok": True}
    statuses = {record["tool"]: record["status"] for record in audit(home)}
    assert statuses["echo_deep"] not in ("ok", "internal_error") and statuses["echo_ok"] == "ok"
    assert statuses["echo_echo"] == "http_400"
    assert_absent([*secret_forms(TOKEN, QUERY_KEY, HEADER_KEY), SERVER_TOKEN, MASTER_KEY],
                  results=" ".join(result.model_dump_json() for result in (echo, kernel, deep, ok)),
                  log=log.read_text(), **everything_written(home, out))
    assert DEPTH == 500


async def test_basic_credentials_echoed_in_any_form_are_replaced(tmp_path: Path, upstream: Peer) -> None:
    out = package(tmp_path, "basic", upstream, [
        {"type": "basic", "name": "basic", "username": USERNAME, "password": "vault:password"}])
    home, log = tmp_path / "home", tmp_path / "basic.log"
    (echo,) = await call_tools(out / "src", "basic_mcp", environ(home, BASIC__PASSWORD=PASSWORD), log,
                               [("basic_echo", {})])
    pair = base64.b64encode(f"{USERNAME}:{PASSWORD}".encode()).decode()
    assert upstream.headers()[0]["authorization"] == f"Basic {pair}"
    text = echo.content[0].text
    assert echo.is_error and re.search(r'"authorization":\s*"\[redacted\]"', text), text
    assert_absent(secret_forms(PASSWORD, pair, f"{USERNAME}:{PASSWORD}"), result=echo.model_dump_json(),
                  log=log.read_text(), **everything_written(home))


async def test_a_package_naming_the_servers_own_variable_sends_nothing(tmp_path: Path, upstream: Peer) -> None:
    out = package(tmp_path, "leak", upstream, [{"type": "bearer", "token": "env:LEAK_TOKEN"}],
                  headers=[{"name": "X-Request-Source", "value": "env:LEAK_SOURCE"}])
    # As an older specbridge or a hand edit would have written it: gen refuses this (SB204); the runtime too.
    connector = out / "src" / "leak_mcp" / "connector.py"
    connector.write_text(connector.read_text().replace("env:LEAK_SOURCE", "env:SPECBRIDGE_SERVER_TOKEN")
                         .replace("env:LEAK_TOKEN", "env:SPECBRIDGE_MASTER_KEY"))
    log = tmp_path / "leak.log"
    (result,) = await call_tools(out / "src", "leak_mcp", environ(tmp_path / "home"), log, [("leak_ok", {})])
    assert result.is_error and "SPECBRIDGE_" in result.content[0].text
    assert "this process's own secret" in result.content[0].text
    assert upstream.requests() == []
    assert_absent([SERVER_TOKEN, MASTER_KEY], result=result.model_dump_json(), log=log.read_text())


@pytest.mark.parametrize("value", ["tok\tabcdef123456", "tok\x1babcdef123456", "tok\x7fabcdef123456",
                                   "tok\u2028abcdef123456"])
async def test_a_stored_secret_with_a_control_character_is_refused_at_load(tmp_path: Path, upstream: Peer,
                                                                           value: str) -> None:
    out = package(tmp_path, "ctl", upstream, [{"type": "bearer", "token": "vault:token"}])
    home = tmp_path / "home"
    vault = Vault(home, environ={"SPECBRIDGE_MASTER_KEY": MASTER_KEY})
    vault.set("ctl", "token", value)  # as a script or an older version could have stored it
    vault.close()
    (result,) = await call_tools(out / "src", "ctl_mcp", environ(home), tmp_path / "ctl.log", [("ctl_ok", {})])
    text = result.content[0].text
    assert result.is_error and "bad key format" in text and re.search(r"U\+[0-9A-F]{4}", text)
    assert "ctl-mcp creds set token" in text
    assert upstream.requests() == []
