"""The in-process stores of the limits (the default, one replica): rate buckets in a dict, slots of calls
in flight as a semaphore."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.stores import Bucket, Reservation

if TYPE_CHECKING:
    import anyio


class LocalRates:
    """`RateStore` of one process: virtual scheduling of one-token buckets, `next_start` by key (when the
    bucket's next call may start). Safe across the event loops and threads of the process."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._next_start: dict[str, float] = {}
        self._lock = threading.Lock()

    async def reserve(self, buckets: Sequence[Bucket], budget_s: float) -> Reservation:
        next_start = self._next_start
        with self._lock:
            now = self.clock.monotonic()
            starts = [next_start.get(bucket.key, 0.0) for bucket in buckets]
            start = max(now, *starts)
            wait = start - now
            if wait > budget_s:
                return Reservation(False, wait, starts.index(max(starts)))
            for bucket in buckets:
                next_start[bucket.key] = start + bucket.interval_s
        return Reservation(True, wait)

    async def hold_off(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self.clock.monotonic() + seconds
            self._next_start[key] = max(self._next_start.get(key, 0.0), until)


class LocalSlots:
    """`SlotStore` of one server (or of one gateway, shared by its connectors): a semaphore per key,
    created on first use inside the event loop that serves the calls."""

    def __init__(self, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        self._semaphores: dict[str, anyio.Semaphore] = {}

    async def acquire(self, key: str, capacity: int, wait_s: float) -> object | None:
        import anyio  # here: the process answers its first requests before loading it

        semaphore = self._semaphores.get(key)
        if semaphore is None:
            semaphore = self._semaphores[key] = anyio.Semaphore(capacity, fast_acquire=True)
        try:
            semaphore.acquire_nowait()
            return semaphore
        except anyio.WouldBlock:
            pass
        try:
            with self.clock.fail_after(wait_s):
                await semaphore.acquire()
        except TimeoutError:
            return None
        return semaphore

    async def release(self, key: str, lease: object) -> None:
        self._semaphores[key].release()
