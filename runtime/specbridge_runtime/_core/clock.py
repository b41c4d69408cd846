"""The clock the runtime reads time through, so tests drive time instead of waiting for it.

`SYSTEM_CLOCK` is the real one. `ManualClock` (exported by `specbridge_runtime.testing`) is a clock a test
moves: `advance(seconds)` wakes the sleepers and fires the timeouts that are due; with `auto_advance` the
clock jumps to the next end of a sleep whenever the tasks are all waiting, so a paced or retried call
finishes without waiting while every wait it made is still visible (`slept`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import anyio


class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch (what expiry times and audit records are stored in)."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for durations and deadlines)."""
        ...

    async def sleep(self, seconds: float) -> None: ...

    def fail_after(self, seconds: float) -> AbstractContextManager[object]:
        """A scope that is cancelled, raising `TimeoutError`, when `seconds` have passed on this clock."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    # anyio is imported by the first wait rather than with the runtime: a server answers its first
    # requests without it.
    async def sleep(self, seconds: float) -> None:
        import anyio

        await anyio.sleep(seconds)

    def fail_after(self, seconds: float) -> AbstractContextManager[object]:
        import anyio

        return anyio.fail_after(seconds)


SYSTEM_CLOCK: Clock = SystemClock()


class ManualClock:
    """A clock that moves only when told: `advance(seconds)`, or (with `auto_advance`) when every task that
    could run is waiting: a sleeper then moves the clock to the earliest end of a sleep or timeout, as
    virtual time would, so concurrent sleepers wake in order and at their own time.

    `time()` starts at `start` (epoch seconds), `monotonic()` at 0. Every sleep is recorded in `slept`."""

    # Checkpoints a sleeper yields before it moves the clock: the tasks that can run meanwhile (woken,
    # just started, passing messages through memory streams) get that far.
    _SETTLE = 20

    def __init__(self, start: float = 1_700_000_000.0, *, auto_advance: bool = True) -> None:
        self._epoch = start
        self._now = 0.0
        self.auto_advance = auto_advance
        self.slept: list[float] = []
        self._sleepers: list[tuple[float, anyio.Event]] = []
        self._scopes: list[tuple[float, anyio.CancelScope]] = []

    def time(self) -> float:
        return self._epoch + self._now

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward: sleepers whose end has come wake, timeouts that are due fire."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        self._now += seconds
        for end, event in self._sleepers:
            if end <= self._now:
                event.set()
        for deadline, scope in self._scopes:
            if deadline <= self._now:
                scope.cancel()

    async def sleep(self, seconds: float) -> None:
        import anyio.lowlevel

        self.slept.append(seconds)
        entry = (self._now + max(seconds, 0.0), anyio.Event())
        if entry[0] <= self._now:
            await anyio.lowlevel.checkpoint()
            return
        self._sleepers.append(entry)
        try:
            if not self.auto_advance:
                await entry[1].wait()
                return
            while not entry[1].is_set():
                for _ in range(self._SETTLE):
                    await anyio.lowlevel.checkpoint()
                if not entry[1].is_set():
                    due = min([end for end, _ in self._sleepers] + [end for end, _ in self._scopes])
                    self.advance(max(due - self._now, 0.0))
        finally:
            self._sleepers.remove(entry)

    @contextmanager
    def fail_after(self, seconds: float) -> Iterator[anyio.CancelScope]:
        import anyio

        deadline = self._now + seconds if math.isfinite(seconds) else math.inf
        entry = (deadline, anyio.CancelScope())
        self._scopes.append(entry)
        try:
            with entry[1]:
                yield entry[1]
        finally:
            self._scopes.remove(entry)
        if entry[1].cancelled_caught:
            raise TimeoutError
