"""The test clock: sleepers wake in the order of their ends and at their own time, timeouts fire when the
clock passes them, and the clock never goes back."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest
from specbridge_runtime.testing import ManualClock


async def test_concurrent_sleepers_wake_at_their_own_time_in_order() -> None:
    clock = ManualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.monotonic()))

    async with anyio.create_task_group() as group:
        for name, seconds in (("late", 3.0), ("early", 1.0), ("middle", 2.0)):
            group.start_soon(sleeper, name, seconds)
    assert woke == [("early", 1.0), ("middle", 2.0), ("late", 3.0)]
    assert sorted(clock.slept) == [1.0, 2.0, 3.0]
    assert clock.time() == 1_700_000_003.0


async def test_a_timeout_fires_when_the_clock_passes_it_and_not_before() -> None:
    clock = ManualClock(auto_advance=False)
    outcome: list[str] = []

    async def waits_for_ever() -> None:
        try:
            with clock.fail_after(1.0):
                await anyio.Event().wait()
        except TimeoutError:
            outcome.append(f"timed out at {clock.monotonic()}")

    async with anyio.create_task_group() as group:
        group.start_soon(waits_for_ever)
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
        clock.advance(0.5)
        for _ in range(10):
            await anyio.lowlevel.checkpoint()
        assert outcome == []
        clock.advance(0.5)
    assert outcome == ["timed out at 1.0"]


async def test_an_auto_advancing_sleep_ends_an_earlier_timeout_first() -> None:
    clock = ManualClock()
    with pytest.raises(TimeoutError), clock.fail_after(0.5):
        await clock.sleep(2.0)
    assert clock.monotonic() == 0.5


def test_the_clock_does_not_go_back() -> None:
    with pytest.raises(ValueError, match="does not go back"):
        ManualClock().advance(-1)
