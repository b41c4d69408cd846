"""The CallGate: concurrency with a bounded queue wait, token-bucket rates per connector and operation, and
the environment's overrides of a connector's limits."""

from __future__ import annotations

import time
import uuid

import anyio
import pytest
from specbridge_runtime._core.descriptors import Limits, OperationLimits
from specbridge_runtime._core.errors import QueueFull, RateLimited
from specbridge_runtime._core.grammar import parse_rate
from specbridge_runtime._mechanisms.limits import ConcurrencyLimit, LimitGate, limits_from_env, timeout_for


def unique(prefix: str) -> str:
    """Buckets are process-wide by connector name: each test uses its own connector."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize(
    ("text", "calls", "period"),
    [("10/s", 10, 1.0), ("100/min", 100, 60.0), (" 5 / hour ", 5, 3600.0), ("1000/h", 1000, 3600.0),
     ("2/d", 2, 86400.0)],
)
def test_parse_rate(text: str, calls: int, period: float) -> None:
    rate = parse_rate(text)
    assert rate is not None and (rate.calls, rate.period_s) == (calls, period)


@pytest.mark.parametrize("text", ["", "10", "0/s", "-1/s", "ten/s", "10/fortnight", "1.5/s"])
def test_parse_rate_refuses(text: str) -> None:
    assert parse_rate(text) is None


async def peak_inside(gates: list[LimitGate], calls: int) -> int:
    """Make `calls` concurrent calls, spread over `gates`; the most that were inside at once."""
    inside = peak = 0

    async def call(gate: LimitGate) -> None:
        nonlocal inside, peak
        async with gate.enter("t"):
            inside += 1
            peak = max(peak, inside)
            await anyio.sleep(0.02)
            inside -= 1

    async with anyio.create_task_group() as group:
        for index in range(calls):
            group.start_soon(call, gates[index % len(gates)])
    return peak


async def test_concurrency_is_capped() -> None:
    assert await peak_inside([LimitGate(unique("conc"), Limits(concurrency=3, queue_timeout_s=5))], 12) == 3


async def test_a_full_queue_is_a_clear_error_after_the_queue_wait() -> None:
    gate = LimitGate(unique("full"), Limits(concurrency=1, queue_timeout_s=0.2))
    async with gate.enter("t"):
        started = time.monotonic()
        with pytest.raises(QueueFull) as caught:
            async with gate.enter("t"):
                pass
        waited = time.monotonic() - started
    assert 0.15 < waited < 1.0
    assert "Too many calls in flight" in caught.value.text and "retry in a moment" in caught.value.text
    async with gate.enter("t"):  # the slot is free again
        pass


async def test_a_cancelled_waiter_leaves_no_slot_taken() -> None:
    gate = LimitGate(unique("cancel"), Limits(concurrency=1, queue_timeout_s=5))
    async with gate.enter("t"):
        with anyio.move_on_after(0.05):
            async with gate.enter("t"):
                pass
    with anyio.fail_after(1):
        async with gate.enter("t"):
            pass


async def test_rate_paces_calls_and_is_shared_by_gates_of_the_connector() -> None:
    connector = unique("rate")
    first, second = LimitGate(connector, Limits(rate="20/s")), LimitGate(connector, Limits(rate="20/s"))

    async def call(gate: LimitGate) -> None:
        async with gate.enter("t"):
            pass

    started = time.monotonic()
    async with anyio.create_task_group() as group:
        for index in range(10):
            group.start_soon(call, first if index % 2 else second)
    assert 0.45 <= time.monotonic() - started < 1.5  # 10 calls at 20/s: the last starts 9 intervals after the first


async def test_operation_rate_applies_to_that_operation_only() -> None:
    gate = LimitGate(unique("op"), Limits(operations=(("slow", OperationLimits(rate="5/s")),)))
    started = time.monotonic()
    for _ in range(3):
        async with gate.enter("fast"):
            pass
    assert time.monotonic() - started < 0.05
    for _ in range(3):
        async with gate.enter("slow"):
            pass
    assert 0.38 < time.monotonic() - started < 0.6


async def test_a_token_beyond_the_queue_wait_is_refused_at_once() -> None:
    connector = unique("far")
    gate = LimitGate(connector, Limits(rate="1/min", queue_timeout_s=1))
    async with gate.enter("t"):
        pass
    started = time.monotonic()
    with pytest.raises(RateLimited) as caught:
        async with gate.enter("t"):
            pass
    assert time.monotonic() - started < 0.1
    assert 58 < (caught.value.retry_after_s or 0) <= 60
    assert "1/min" in caught.value.message and f"{connector.upper()}_RATE" in caught.value.text


async def test_a_gateway_shares_one_concurrency_limit_across_connectors() -> None:
    shared = ConcurrencyLimit(2)
    gates = [LimitGate(unique("gw"), Limits(concurrency=10), shared) for _ in range(3)]
    assert await peak_inside(gates, 9) == 2


def test_environment_overrides_the_definition() -> None:
    limits = Limits(rate="10/s", timeout_s=60)
    env = {"SHOP_API_TIMEOUT_S": "5", "SHOP_API_RATE": "100/min", "SHOP_API_CONCURRENCY": "4",
           "SHOP_API_MAX_RESPONSE_BYTES": "1000", "SHOP_API_MAX_RETRIES": "0", "OTHER_TIMEOUT_S": "1"}
    effective, problems = limits_from_env(limits, "shop-api", env)
    assert problems == ()
    assert (effective.timeout_s, effective.rate, effective.concurrency, effective.max_response_bytes,
            effective.max_retries) == (5.0, "100/min", 4, 1000, 0)
    assert limits_from_env(limits, "shop-api", {"SHOP_API_RATE": "off"})[0].rate is None


def test_invalid_environment_values_are_reported_and_not_applied() -> None:
    effective, problems = limits_from_env(Limits(), "shop", {"SHOP_TIMEOUT_S": "soon", "SHOP_RATE": "fast",
                                                             "SHOP_CONCURRENCY": "0"})
    assert effective == Limits()
    assert len(problems) == 3 and any("SHOP_RATE='fast' is ignored" in problem for problem in problems)


def test_timeout_per_operation() -> None:
    limits = Limits(timeout_s=60, operations=(("export", OperationLimits(timeout_s=300)),))
    assert (timeout_for(limits, "export"), timeout_for(limits, "other")) == (300, 60)
