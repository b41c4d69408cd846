"""The server's own door over HTTP and SSE: bearer tokens, OAuth resource-server mode, --no-auth on
loopback only, and the inbound token never reaching the upstream."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.auth.conftest import AUTHDEMO_SRC, AuthServer, client_secret
from tests.auth.upstream import Expected
from tests.support import REPO, free_port, serving, stop, wait_for_port

SERVER = [sys.executable, "-m", "authdemo_mcp"]
INBOUND_TOKEN = "inbound-token-for-the-mcp-server-0123456789"


@pytest.fixture
def env(home: Path, upstream: str, expected: Expected) -> dict[str, str]:
    environ = {"PATH": os.environ["PATH"], "SPECBRIDGE_HOME": str(home), "AUTHDEMO_BASE_URL": upstream,
               "AUTHDEMO__BEARER_TOKEN": expected.bearer, "PYTHONPATH": os.pathsep.join([str(AUTHDEMO_SRC), str(REPO)])}
    return environ


@contextlib.contextmanager
def package_server(env: dict[str, str], *args: str, transport: str = "http") -> Iterator[str]:
    port = free_port()
    log = Path(env["SPECBRIDGE_HOME"]).parent / f"server-{port}.log"
    command = [*SERVER, "serve", "--transport", transport, "--port", str(port), *args]
    with log.open("wb") as stderr, serving(command, port, cwd=REPO, env=env, stderr=stderr):
        yield f"http://127.0.0.1:{port}"


def refused_to_start(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*SERVER, "serve", "--transport", "http", "--port", str(free_port()), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def mcp_client(url: str, token: str | None) -> Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(f"{url}/mcp", http_client=httpx2.AsyncClient(headers=headers, timeout=30)),
                  cache=None)


def initialize(url: str, token: str | None) -> httpx2.Response:
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    return httpx2.post(f"{url}/mcp", json=body, headers=headers, timeout=30)


def audit_callers(home: Path, count: int) -> list[str | None]:
    """The callers of the audit's records, once it holds `count` (it writes them in the background)."""
    deadline = time.monotonic() + 10
    callers: list[str | None] = []
    while len(callers) < count and time.monotonic() < deadline:
        time.sleep(0.1)
        with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(home / "audit.db")) as db:
            callers = [row[0] for row in db.execute("SELECT caller FROM calls ORDER BY id")]
    return callers


async def test_static_token_is_required_and_never_reaches_the_upstream(env: dict[str, str], expected: Expected,
                                                                         home: Path) -> None:
    env["SPECBRIDGE_SERVER_TOKEN"] = INBOUND_TOKEN
    with package_server(env) as url:
        assert initialize(url, None).status_code == 401
        assert initialize(url, "wrong-token-0123456789abcdef").status_code == 401
        seen = len(expected.requests_seen)
        async with mcp_client(url, INBOUND_TOKEN) as client:
            assert {tool.name for tool in (await client.list_tools()).tools} >= {"authdemo_echo"}
            echoed = await client.call_tool("authdemo_echo", {})
            assert not echoed.is_error
        assert audit_callers(home, 1) == ["default"]
    upstream_headers = expected.requests_seen[seen:]
    assert upstream_headers and all(INBOUND_TOKEN not in str(headers) for headers in upstream_headers)
    assert upstream_headers[-1]["authorization"] == f"Bearer {expected.bearer}"  # the upstream's own credential


async def test_named_tokens_identify_their_callers(env: dict[str, str], home: Path) -> None:
    env["SPECBRIDGE_SERVER_TOKENS"] = f"alice:{INBOUND_TOKEN}-alice,bob:{INBOUND_TOKEN}-bob"
    with package_server(env) as url:
        for token in (f"{INBOUND_TOKEN}-bob", f"{INBOUND_TOKEN}-alice"):
            async with mcp_client(url, token) as client:
                assert not (await client.call_tool("authdemo_bearer", {})).is_error
        assert audit_callers(home, 2) == ["bob", "alice"]


def test_sse_requires_the_token_too(env: dict[str, str]) -> None:
    env["SPECBRIDGE_SERVER_TOKEN"] = INBOUND_TOKEN
    with package_server(env, transport="sse") as url:
        assert httpx2.get(f"{url}/sse", timeout=10).status_code == 401
        with httpx2.stream("GET", f"{url}/sse", headers={"Authorization": f"Bearer {INBOUND_TOKEN}"},
                           timeout=10) as stream:
            assert stream.status_code == 200


def test_http_without_inbound_auth_is_refused(env: dict[str, str]) -> None:
    message = refused_to_start(env)
    assert "SPECBRIDGE_SERVER_TOKEN" in message and "--no-auth" in message
    assert "--no-auth is only allowed on a loopback host" in refused_to_start(env, "--host", "0.0.0.0", "--no-auth")
    env["SPECBRIDGE_SERVER_TOKEN"] = "short"
    assert "too weak" in refused_to_start(env)


async def test_no_auth_serves_on_loopback(env: dict[str, str]) -> None:
    with package_server(env, "--no-auth") as url:
        async with mcp_client(url, None) as client:
            assert not (await client.call_tool("authdemo_bearer", {})).is_error


async def test_oauth_resource_server_mode(env: dict[str, str], auth_server: AuthServer, home: Path) -> None:
    port = free_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    env.update({"SPECBRIDGE_AUTH_ISSUER": auth_server.issuer, "SPECBRIDGE_AUTH_CLIENT_ID": "mcp-server",
                "SPECBRIDGE_AUTH_CLIENT_SECRET": client_secret("mcp-server"), "SPECBRIDGE_RESOURCE_URL": resource,
                "SPECBRIDGE_AUTH_SCOPES": "read"})
    process = subprocess.Popen([*SERVER, "serve", "--transport", "http", "--port", str(port)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port, process=process)
        metadata = httpx2.get(f"{url}/.well-known/oauth-protected-resource/mcp", timeout=10).json()
        assert metadata["resource"] == resource
        assert [server.rstrip("/") for server in metadata["authorization_servers"]] == [auth_server.issuer]
        refused = initialize(url, None)
        assert refused.status_code == 401
        assert "resource_metadata=" in refused.headers["www-authenticate"]
        assert initialize(url, auth_server.token("reader", scope="read")).status_code == 200
        assert initialize(url, "not-a-token-issued-by-the-server-0123").status_code == 401
        # A valid token without the required scope is refused with 403.
        assert initialize(url, auth_server.token("machine", scope="write")).status_code == 403
        async with mcp_client(url, auth_server.token("machine", scope="read write")) as client:
            assert not (await client.call_tool("authdemo_bearer", {})).is_error
        assert audit_callers(home, 1) == ["machine"]
    finally:
        stop(process)
