"""The CallGate: concurrency with a bounded queue wait, token-bucket rates per connector and operation, and
the environment's overrides of a connector's limits."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from specbridge_runtime._assembly.state import RuntimeState
from specbridge_runtime._core.descriptors import Limits, OperationLimits
from specbridge_runtime._core.errors import QueueFull, RateLimited
from specbridge_runtime._core.grammar import parse_rate
from specbridge_runtime._mechanisms.limits import ConcurrencyLimit, LimitGate, limits_from_env, timeout_for
from specbridge_runtime._mechanisms.local_stores import LocalRates, LocalSlots
from specbridge_runtime.testing import ManualClock


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


async def settle() -> None:
    """Let every task that can run, run (a woken waiter, a task just started) before the test goes on."""
    for _ in range(20):
        await anyio.lowlevel.checkpoint()


async def peak_inside(gates: list[LimitGate], calls: int, clock: ManualClock) -> int:
    """Make `calls` concurrent calls, spread over `gates`; the most that were inside at once."""
    inside = peak = 0

    async def call(gate: LimitGate) -> None:
        nonlocal inside, peak
        async with gate.enter("t"):
            inside += 1
            peak = max(peak, inside)
            await clock.sleep(0.02)
            inside -= 1

    async with anyio.create_task_group() as group:
        for index in range(calls):
            group.start_soon(call, gates[index % len(gates)])
    return peak


async def starts_of(calls: list[tuple[LimitGate, str]], clock: ManualClock) -> list[float]:
    """Make the calls concurrently; when each started on `clock`, in the order they started."""
    starts: list[float] = []

    async def call(gate: LimitGate, tool: str) -> None:
        async with gate.enter(tool):
            starts.append(clock.monotonic())

    async with anyio.create_task_group() as group:
        for gate, tool in calls:
            group.start_soon(call, gate, tool)
    return starts


async def test_concurrency_is_capped() -> None:
    clock = ManualClock()
    gate = LimitGate("conc", Limits(concurrency=3, queue_timeout_s=5), clock=clock)
    assert await peak_inside([gate], 12, clock) == 3


async def test_a_full_queue_is_a_clear_error_after_the_queue_wait() -> None:
    clock = ManualClock(auto_advance=False)
    gate = LimitGate("full", Limits(concurrency=1, queue_timeout_s=0.2), clock=clock)
    outcome: list[object] = []

    async def second_call() -> None:
        try:
            async with gate.enter("t"):
                outcome.append("entered")
        except QueueFull as error:
            outcome.append(error)

    async with gate.enter("t"), anyio.create_task_group() as group:
        group.start_soon(second_call)
        await settle()
        clock.advance(0.19)
        await settle()
        assert outcome == []  # still waiting for the slot
        clock.advance(0.01)
    (error,) = outcome
    assert isinstance(error, QueueFull)
    assert "Too many calls in flight" in error.text and "retry in a moment" in error.text
    async with gate.enter("t"):  # the slot is free again
        pass


async def test_a_cancelled_waiter_leaves_no_slot_taken() -> None:
    clock = ManualClock(auto_advance=False)
    gate = LimitGate("cancel", Limits(concurrency=1, queue_timeout_s=5), clock=clock)
    async with gate.enter("t"):
        with anyio.CancelScope() as waiting:
            waiting.cancel()
            async with gate.enter("t"):
                pass
    assert waiting.cancelled_caught

    async def give_up_after_the_queue_wait() -> None:
        await settle()
        clock.advance(5)

    async with anyio.create_task_group() as group:  # a leaked slot would make this call wait, then QueueFull
        group.start_soon(give_up_after_the_queue_wait)
        async with gate.enter("t"):
            pass


async def test_rate_paces_calls_and_is_shared_by_gates_of_the_connector() -> None:
    clock = ManualClock()
    rates = LocalRates(clock)
    first, second = (LimitGate("rate", Limits(rate="20/s"), rates=rates, clock=clock) for _ in range(2))
    starts = await starts_of([(first if index % 2 else second, "t") for index in range(10)], clock)
    assert starts == pytest.approx([index * 0.05 for index in range(10)])  # one call every 50 ms, across both


async def test_gates_of_the_assembly_share_the_buckets_of_a_connector() -> None:
    clock = ManualClock()
    state = RuntimeState(clock=clock, rates=LocalRates(clock))
    one_server, another = (state.gate("shop", Limits(rate="2/s")) for _ in range(2))
    assert await starts_of([(one_server, "t"), (another, "t"), (one_server, "t")], clock) == [0.0, 0.5, 1.0]
    metrics = state.metrics.text().decode()  # the waits, for /metrics
    assert 'specbridge_rate_limit_wait_seconds_count{connector="shop"} 2.0' in metrics
    assert 'specbridge_rate_limit_wait_seconds_sum{connector="shop"} 1.5' in metrics


async def test_operation_rate_applies_to_that_operation_only() -> None:
    clock = ManualClock()
    gate = LimitGate("op", Limits(operations=(("slow", OperationLimits(rate="5/s")),)), clock=clock)
    assert await starts_of([(gate, "fast")] * 3, clock) == [0.0, 0.0, 0.0]
    assert await starts_of([(gate, "slow")] * 3, clock) == pytest.approx([0.0, 0.2, 0.4])
    assert clock.slept == pytest.approx([0.2, 0.4])


async def test_a_token_beyond_the_queue_wait_is_refused_at_once() -> None:
    clock = ManualClock()
    gate = LimitGate("far", Limits(rate="1/min", queue_timeout_s=1), clock=clock)
    async with gate.enter("t"):
        pass
    clock.advance(0.5)
    with pytest.raises(RateLimited) as caught:
        async with gate.enter("t"):
            pass
    assert clock.slept == []  # refused without waiting
    assert caught.value.retry_after_s == pytest.approx(59.5)
    assert "1/min" in caught.value.message and "FAR_RATE" in caught.value.text


async def test_a_429_holds_off_every_gate_of_the_connector() -> None:
    clock = ManualClock()
    rates = LocalRates(clock)
    told, other = (LimitGate("busy", Limits(queue_timeout_s=10), rates=rates, clock=clock) for _ in range(2))
    await told.pause(5)  # one server got "429, Retry-After: 5"
    assert await starts_of([(other, "t")], clock) == [5.0]  # the other waited as long
    await told.pause(30)
    with pytest.raises(RateLimited) as caught:  # longer than the queue wait: refused at once, saying why
        async with other.enter("t"):
            pass
    assert "busy asked its callers to wait (HTTP 429)" in caught.value.message
    assert caught.value.retry_after_s == pytest.approx(30)


async def test_a_gateway_shares_one_concurrency_limit_across_connectors() -> None:
    clock = ManualClock()
    shared = ConcurrencyLimit(2, "gateway", LocalSlots(clock))
    gates = [LimitGate(f"gw{index}", Limits(concurrency=10), shared, clock=clock) for index in range(3)]
    assert await peak_inside(gates, 9, clock) == 2


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
