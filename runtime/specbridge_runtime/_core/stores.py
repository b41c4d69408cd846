"""Where the state of the limits lives, so that one replica or many share it: the rate buckets
(`RateStore`), the slots of calls in flight (`SlotStore`), and the locks that make one replica at a time
refresh an OAuth token (`LockStore`). The assembly chooses the implementation
(in-process by default) and hands it to every gate it builds; a store is keyed by strings, so any number
of connectors, servers and gateways can share one.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Bucket:
    """A one-token bucket: a call may start every `interval_s` seconds. `key` names it in the store."""

    key: str
    interval_s: float


@dataclass(frozen=True, slots=True)
class Reservation:
    """The answer of `RateStore.reserve`: the seconds to wait before starting, or, when `granted` is False,
    the seconds until the next start `blocking` (the slowest bucket) allows (nothing was reserved)."""

    granted: bool
    wait_s: float
    blocking: int = -1  # index into the buckets reserved


class RateStore(Protocol):
    async def reserve(self, buckets: Sequence[Bucket], budget_s: float) -> Reservation:
        """Atomically reserve the earliest start every bucket allows, if it is at most `budget_s` away."""
        ...

    async def hold_off(self, key: str, seconds: float) -> None:
        """No start of bucket `key` sooner than `seconds` from now."""
        ...


class SlotStore(Protocol):
    async def acquire(self, key: str, capacity: int, wait_s: float) -> object | None:
        """One of `capacity` slots of `key` (a lease to give back to `release`), waiting at most `wait_s`
        seconds for one to free up; None when none did."""
        ...

    async def release(self, key: str, lease: object) -> None: ...


class LockStore(Protocol):
    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold `key` against every process sharing the store (waiting while another holds it); a holder that
        died frees it after a bounded time."""
        ...
