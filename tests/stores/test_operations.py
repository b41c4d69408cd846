"""A server over streamable HTTP as an operator sees it: /healthz and /readyz without a token, /metrics
only with the server token, JSON log lines carrying the request id, and Redis going away and coming back:
clear errors naming it meanwhile, /readyz honest, recovery without a restart."""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import text_of
from tests.stores.replicas import SERVER, package_environ
from tests.stores.servers import RedisServer
from tests.support import REPO, free_port, serving

TOKEN = "operator-token-" + "x" * 24


@pytest.fixture
def server(redis_server: RedisServer, faultserver: FaultServerProcess, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    env = package_environ(tmp_path / "home", {
        "SPECBRIDGE_REDIS_URL": redis_server.url, "SPECBRIDGE_SERVER_TOKEN": TOKEN, "SPECBRIDGE_LOG_FORMAT": "json",
        "SPECBRIDGE_LOG_LEVEL": "DEBUG", "FAULTAPI_BASE_URL": faultserver.url, "FAULTAPI_MAX_RETRIES": "0"})
    command = [arg for arg in SERVER if arg != "--no-auth"]
    with log.open("wb") as stderr, serving([*command, "--port", str(port)], port, env=env, cwd=REPO,
                                           stderr=stderr):
        yield f"http://127.0.0.1:{port}", log


async def call(url: str, tool: str = "faultapi_get", **arguments: str) -> types.CallToolResult:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}", "X-Request-Id": "req-42"}, timeout=30)
    async with Client(streamable_http_client(f"{url}/mcp", http_client=http), cache=None) as client:
        return await client.call_tool(tool, {"mode": "ok", **arguments})


async def test_health_readiness_metrics_and_json_logs(server: tuple[str, Path]) -> None:
    url, log = server
    assert httpx2.get(f"{url}/healthz", timeout=10).json() == {"status": "alive"}
    ready = httpx2.get(f"{url}/readyz", timeout=10)
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    for index in range(3):
        assert not (await call(url, id=str(index))).is_error
    assert httpx2.get(f"{url}/metrics", timeout=10).status_code == 401
    metrics = httpx2.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
    assert metrics.status_code == 200 and metrics.headers["content-type"].startswith("text/plain")
    assert 'specbridge_calls_total{connector="faultapi",status="ok",tool="faultapi_get"} 3.0' in metrics.text
    assert 'specbridge_call_latency_seconds_count{connector="faultapi",tool="faultapi_get"} 3.0' in metrics.text
    assert 'specbridge_calls_in_flight{connector="faultapi"} 0.0' in metrics.text
    echoed = httpx2.get(f"{url}/healthz", headers={"X-Request-Id": "abc-1"}, timeout=10)
    assert echoed.headers["x-request-id"] == "abc-1"
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    calls = [line for line in lines if "faultapi_get -> ok" in line["message"]]
    assert len(calls) == 3 and {line["request_id"] for line in calls} == {"req-42"}
    assert TOKEN not in log.read_text()


async def test_redis_down_fails_fast_naming_it_then_recovers(server: tuple[str, Path],
                                                             redis_server: RedisServer) -> None:
    url, _ = server
    assert not (await call(url, key=uuid.uuid4().hex)).is_error
    redis_server.stop()
    refused = await call(url)
    assert refused.is_error and f"Redis at redis://127.0.0.1:{redis_server.port}/0" in text_of(refused)
    assert "not sent" in text_of(refused)
    ready = httpx2.get(f"{url}/readyz", timeout=30)
    assert ready.status_code == 503 and "Redis at" in ready.json()["problems"][0]
    redis_server.start()
    assert httpx2.get(f"{url}/readyz", timeout=30).status_code == 200
    assert not (await call(url)).is_error  # the same replica, without a restart
    metrics = httpx2.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10).text
    assert 'specbridge_calls_total{connector="faultapi",status="store_unavailable",tool="faultapi_get"} 1.0' in metrics


def test_the_server_token_is_not_in_the_process_arguments(server: tuple[str, Path]) -> None:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert TOKEN not in listing
