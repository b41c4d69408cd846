"""The state the limits keep and the clock they read, owned here: every gate the assembly builds gets
them from one `RuntimeState`. The process's default is in-process (`process_state()`): rate buckets
shared by every server and gateway of the process, slots of calls in flight per server (or per gateway).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import Limits
from .._core.stores import RateStore, SlotStore
from .._mechanisms.limits import ConcurrencyLimit, LimitGate
from .._mechanisms.local_stores import LocalRates, LocalSlots


@dataclass(frozen=True)
class RuntimeState:
    """The clock, the rate buckets and (when shared beyond this process) the slots of calls in flight."""

    clock: Clock = SYSTEM_CLOCK
    rates: RateStore = field(default_factory=LocalRates)
    slots: SlotStore | None = None  # None: each concurrency limit counts its own slots in this process

    def concurrency(self, key: str, capacity: int) -> ConcurrencyLimit:
        """The limit of `capacity` calls in flight under `key` (a connector, or a gateway's shared one)."""
        return ConcurrencyLimit(capacity, key, self.slots if self.slots is not None else LocalSlots(self.clock))

    def gate(self, connector: str, limits: Limits, slots: ConcurrencyLimit | None = None) -> LimitGate:
        """The `CallGate` of `connector`: `slots` (a gateway's), else its own concurrency limit."""
        return LimitGate(connector, limits, slots or self.concurrency(connector, limits.concurrency),
                         rates=self.rates, clock=self.clock)


_PROCESS_STATE = RuntimeState()


def process_state() -> RuntimeState:
    """The in-process state every server and gateway of this process shares unless given another."""
    return _PROCESS_STATE
