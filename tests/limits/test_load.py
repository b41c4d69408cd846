"""Load through one server: 200 calls from 20 concurrent MCP clients. None lost or duplicated, never more
than 10 in flight upstream, the configured rate never exceeded by more than 10 % in any second, and one
audit row per call."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import anyio
import mcp_types as types
from mcp import Client
from specbridge_runtime._core.descriptors import Limits
from specbridge_runtime._mechanisms.audit import arguments_digest
from specbridge_runtime._mechanisms.usage import summarize

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import Served, ServeFactory
from tests.support import busiest_second

CLIENTS = 20
CALLS_PER_CLIENT = 10


async def run_load(served: Served, name: str, delay: str) -> dict[str, types.CallToolResult]:
    """Every client makes its calls one after the other; the clients run concurrently."""
    results: dict[str, types.CallToolResult] = {}

    async def client_calls(client_index: int) -> None:
        async with Client(served.server, cache=None) as client:
            for call_index in range(CALLS_PER_CLIENT):
                call_id = f"{name}-{client_index}-{call_index}"
                results[call_id] = await client.call_tool("faultapi_get", {"mode": "ok", "key": name, "id": call_id,
                                                                           "delay": delay})

    async with anyio.create_task_group() as group:
        for client_index in range(CLIENTS):
            group.start_soon(client_calls, client_index)
    return results


def assert_none_lost_or_duplicated(results: dict[str, types.CallToolResult], upstream_ids: list[str]) -> None:
    assert len(results) == CLIENTS * CALLS_PER_CLIENT
    for call_id, result in results.items():
        assert not result.is_error, result
        assert result.structured_content is not None and result.structured_content["id"] == call_id
    assert sorted(upstream_ids) == sorted(results)  # each call reached the upstream exactly once


async def test_rate_and_concurrency_under_load(serve: ServeFactory, faultserver: FaultServerProcess,
                                               tmp_path: Path) -> None:
    name = f"load-{uuid.uuid4().hex}"
    started = time.time()
    async with serve(Limits(rate="40/s", timeout_s=10)) as served:
        results = await run_load(served, name, delay="0.2")
        assert served.audit.flush()
        calls = list(served.audit.store.calls("faultapi", started))
    stats = faultserver.stats(name)
    assert_none_lost_or_duplicated(results, stats["ids"])
    assert stats["max_in_flight"] <= 10
    # The upstream never sees more than the rate (10 % for the network's jitter) in any second of its own
    # clock, however fast or slow this machine is today.
    assert busiest_second(stats["arrivals"]) <= 44

    # One audit row per call, with what happened and without the arguments.
    assert len(calls) == len(results)
    expected_hashes = {arguments_digest({"mode": "ok", "key": name, "id": call_id, "delay": "0.2"}, keep=False)[0]
                       for call_id in results}
    assert {call.arguments_hash for call in calls} == expected_hashes
    for call in calls:
        assert (call.connector, call.tool, call.status, call.http_status, call.retries) == (
            "faultapi", "faultapi_get", "ok", 200, 0)
        assert call.arguments is None and call.arguments_size > 0 and call.bytes_in > 0 and call.bytes_out == 0
        assert call.latency_ms >= 200 and started <= call.time <= time.time()  # the upstream takes 200 ms
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("audit.db*"))
    assert stored and name.encode() not in stored  # the arguments are nowhere in clear

    (usage,) = summarize(calls)
    assert (usage.tool, usage.calls, usage.errors) == ("faultapi_get", 200, 0)
    assert 200 <= usage.p50_ms <= usage.p95_ms


async def test_concurrency_cap_holds_when_clients_want_more(serve: ServeFactory,
                                                            faultserver: FaultServerProcess) -> None:
    name = f"cap-{uuid.uuid4().hex}"
    async with serve(Limits(timeout_s=10, queue_timeout_s=30)) as served:
        results = await run_load(served, name, delay="0.1")
    stats = faultserver.stats(name)
    assert_none_lost_or_duplicated(results, stats["ids"])
    assert stats["max_in_flight"] == 10  # 20 clients wanted 20: the gate held them to 10
