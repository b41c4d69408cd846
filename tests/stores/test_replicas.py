"""Three replicas of one server over streamable HTTP, each with its own SPECBRIDGE_HOME, sharing Redis:
20 concurrent callers spread round-robin keep the connector's rate and its limit of calls in flight as one
server would."""

from __future__ import annotations

import uuid
from pathlib import Path

from tests.faultserver.process import FaultServerProcess
from tests.stores.replicas import busiest_second, replicas, round_robin
from tests.stores.servers import RedisServer

CALLS = 200


async def test_three_replicas_keep_one_rate_and_one_limit_of_calls_in_flight(
        redis_server: RedisServer, faultserver: FaultServerProcess, tmp_path: Path) -> None:
    key = f"replicas-{uuid.uuid4().hex}"
    environ = {"SPECBRIDGE_REDIS_URL": redis_server.url, "FAULTAPI_BASE_URL": faultserver.url,
               "FAULTAPI_RATE": "10/s", "FAULTAPI_CONCURRENCY": "10", "FAULTAPI_TIMEOUT_S": "10",
               "FAULTAPI_QUEUE_TIMEOUT_S": "60"}
    with replicas(3, tmp_path, environ) as running:
        # Each upstream call takes 1.5 s: at 10/s, 15 would be in flight without the shared limit of 10.
        results = await round_robin([replica.url for replica in running], 20, CALLS, "faultapi_get",
                                    {"mode": "ok", "key": key, "delay": "1.5"})
    assert [result for result in results.values() if result.is_error] == []
    stats = faultserver.stats(key)
    assert sorted(stats["ids"]) == sorted(results)  # every call reached the upstream exactly once
    assert stats["max_in_flight"] <= 10
    # The upstream's own clock: never more than the rate (10 % for the network's jitter) in any second.
    assert busiest_second(stats["arrivals"]) <= 11
