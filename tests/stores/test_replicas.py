"""Three replicas of one server (and of a gateway) over streamable HTTP, each with its own SPECBRIDGE_HOME,
sharing Redis and PostgreSQL: 20 concurrent callers spread round-robin keep the connector's rate and its
limit of calls in flight as one server would, and every replica's calls are in the one audit `usage` reads;
a replica killed during load loses no call it answered; Redis stopped and started again during load makes
calls fail naming it, /readyz say so, and everything recover without a restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from pathlib import Path

import anyio
import httpx2
import psycopg
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from specbridge_runtime._mechanisms.audit import arguments_digest

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import text_of
from tests.stores.replicas import FAULTAPI, SERVER, gateway_command, package_environ, replicas, round_robin
from tests.stores.servers import PostgresServer, RedisServer
from tests.support import REPO, busiest_second

CALLS = 200


def usage_json(home: Path, database_url: str) -> dict[str, object]:
    """What `faultapi-mcp usage --json` prints, run with `home` and the shared database."""
    env = package_environ(home, {"SPECBRIDGE_DATABASE_URL": database_url})
    done = subprocess.run([*FAULTAPI, "usage", "--json", "--since", "1h"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=60, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("kind", ["server", "gateway"])
async def test_three_replicas_keep_one_rate_one_limit_of_calls_in_flight_and_one_audit(
        redis_server: RedisServer, postgres_server: PostgresServer, faultserver: FaultServerProcess,
        tmp_path: Path, kind: str) -> None:
    key = f"replicas-{uuid.uuid4().hex}"
    database = postgres_server.fresh_database()
    environ = {"SPECBRIDGE_REDIS_URL": redis_server.url, "SPECBRIDGE_DATABASE_URL": database,
               "FAULTAPI_BASE_URL": faultserver.url,
               "FAULTAPI_RATE": "10/s", "FAULTAPI_CONCURRENCY": "10", "FAULTAPI_TIMEOUT_S": "10",
               "FAULTAPI_QUEUE_TIMEOUT_S": "60"}
    command = SERVER if kind == "server" else gateway_command(tmp_path)
    with replicas(3, tmp_path, environ, command) as running:
        # Each upstream call takes 1.5 s: at 10/s, 15 would be in flight without the shared limit of 10.
        results = await round_robin([replica.url for replica in running], 20, CALLS, "faultapi_get",
                                    {"mode": "ok", "key": key, "delay": "1.5"})
    assert [result for result in results.values() if result.is_error] == []
    stats = faultserver.stats(key)
    assert sorted(stats["ids"]) == sorted(results)  # every call reached the upstream exactly once
    assert stats["max_in_flight"] <= 10
    # The upstream's own clock: never more than the rate (10 % for the network's jitter) in any second.
    assert busiest_second(stats["arrivals"]) <= 11
    # The replicas were stopped (SIGTERM): a fresh home reads every replica's calls from PostgreSQL.
    usage = usage_json(tmp_path / "fresh-home", database)
    assert usage["tools"] == [{"tool": "faultapi_get", "calls": CALLS, "errors": 0, "error_rate": 0.0,
                               "p50_ms": usage["tools"][0]["p50_ms"], "p95_ms": usage["tools"][0]["p95_ms"]}]


async def test_a_replica_killed_during_load_loses_no_acknowledged_call(
        postgres_server: PostgresServer, faultserver: FaultServerProcess, tmp_path: Path) -> None:
    key = f"killed-{uuid.uuid4().hex}"
    environ = {"SPECBRIDGE_DATABASE_URL": postgres_server.url, "FAULTAPI_BASE_URL": faultserver.url}
    answered: dict[str, dict[str, str]] = {}  # call id -> arguments, for every call that got its result
    broken: list[int] = []

    with replicas(3, tmp_path, environ) as running:
        async def caller(index: int) -> None:
            replica = running[index % 3]
            try:
                http = httpx2.AsyncClient(timeout=60)
                async with Client(streamable_http_client(replica.url, http_client=http)) as client:
                    await client.list_tools()
                    for number in range(10):
                        arguments = {"mode": "ok", "key": key, "delay": "0.1", "id": f"{index}-{number}"}
                        result = await client.call_tool("faultapi_get", arguments)
                        assert not result.is_error
                        answered[arguments["id"]] = arguments
                        if index == 0 and number == 4:
                            os.kill(replica.process.pid, signal.SIGKILL)  # mid-load, records still in flight
            except Exception:  # the callers of the killed replica lose their connection
                broken.append(index)

        async with anyio.create_task_group() as group:
            for index in range(12):
                group.start_soon(caller, index)
    assert broken and all(index % 3 == 0 for index in broken)  # only the killed replica's callers
    assert sum(1 for call_id in answered if int(call_id.split("-")[0]) % 3 != 0) == 8 * 10  # the others went on
    with psycopg.connect(postgres_server.url) as db:
        stored = {row[0] for row in db.execute("SELECT arguments_hash FROM specbridge_calls WHERE connector = %s",
                                               ("faultapi",))}
    missing = [call_id for call_id, arguments in answered.items()
               if arguments_digest(arguments, keep=False)[0] not in stored]
    assert missing == []


async def test_redis_stopped_and_restarted_during_load(redis_server: RedisServer, faultserver: FaultServerProcess,
                                                       tmp_path: Path) -> None:
    key = f"redis-down-{uuid.uuid4().hex}"
    environ = {"SPECBRIDGE_REDIS_URL": redis_server.url, "FAULTAPI_BASE_URL": faultserver.url,
               "FAULTAPI_RATE": "50/s", "FAULTAPI_MAX_RETRIES": "0"}
    outcomes: list[str] = []  # per call, in order: "ok", or the error text

    with replicas(2, tmp_path, environ) as running:
        async def caller(index: int) -> None:
            http = httpx2.AsyncClient(timeout=60)
            async with Client(streamable_http_client(running[index % 2].url, http_client=http)) as client:
                await client.list_tools()
                for number in range(30):
                    result = await client.call_tool("faultapi_get", {"mode": "ok", "key": key,
                                                                     "id": f"{index}-{number}"})
                    outcomes.append(text_of(result) if result.is_error else "ok")
                    if index == 0 and number == 9:
                        redis_server.stop()
                        readiness = [httpx2.get(replica.url.replace("/mcp", "/readyz"), timeout=30)
                                     for replica in running]
                        assert [answer.status_code for answer in readiness] == [503, 503]
                    if index == 0 and number == 19:
                        redis_server.start()
                    await anyio.sleep(0)

        async with anyio.create_task_group() as group:
            for index in range(4):
                group.start_soon(caller, index)
        assert [httpx2.get(replica.url.replace("/mcp", "/readyz"), timeout=30).status_code
                for replica in running] == [200, 200]
        back = await round_robin([replica.url for replica in running], 2, 4, "faultapi_get", {"mode": "ok"})
        assert not any(result.is_error for result in back.values())  # recovered without a restart
    failed = [outcome for outcome in outcomes if outcome != "ok"]
    assert failed, "calls made while Redis was down must fail"
    assert all(f"Redis at redis://127.0.0.1:{redis_server.port}/0" in text for text in failed)
    assert len(faultserver.stats(key)["ids"]) == outcomes.count("ok")  # a refused call was never sent
