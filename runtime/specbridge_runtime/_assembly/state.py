"""The state the limits keep and the clock they read, owned here: every gate the assembly builds gets
them from one `RuntimeState`. The process's default is in-process (`process_state()`): rate buckets
shared by every server and gateway of the process, slots of calls in flight per server (or per gateway).
With `SPECBRIDGE_REDIS_URL`, both live in Redis and every replica shares them (`state_for`);
`SPECBRIDGE_REDIS_DOWN` says what a call does while Redis is down: `closed` (the default) fails it at
once with an error naming the store, `open` lets it through without the shared limits.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import Limits
from .._core.errors import ConfigurationError, StoreError, StoreUnavailable
from .._core.seams import AuditSink, CallGate
from .._core.stores import LockStore, RateStore, SlotStore
from .._mechanisms.limits import ConcurrencyLimit, LimitGate
from .._mechanisms.local_stores import LocalRates, LocalSlots
from .._mechanisms.metrics import MeasuredAudit, MeasuredGate, Metrics

if TYPE_CHECKING:
    from .._mechanisms.operations import Readiness


@dataclass(frozen=True)
class RuntimeState:
    """The clock, the rate buckets and (when shared beyond this process) the slots of calls in flight."""

    clock: Clock = SYSTEM_CLOCK
    rates: RateStore = field(default_factory=LocalRates)
    slots: SlotStore | None = None  # None: each concurrency limit counts its own slots in this process
    shared: str | None = None  # the shared store, named for messages and readiness (None: in process)
    ping: Callable[[], Awaitable[None]] | None = None  # raises StoreUnavailable while the shared store is down
    locks: LockStore | None = None  # None: no other process refreshes the same tokens
    metrics: Metrics = field(default_factory=Metrics)

    def concurrency(self, key: str, capacity: int) -> ConcurrencyLimit:
        """The limit of `capacity` calls in flight under `key` (a connector, or a gateway's shared one)."""
        return ConcurrencyLimit(capacity, key, self.slots if self.slots is not None else LocalSlots(self.clock))

    def gate(self, connector: str, limits: Limits, slots: ConcurrencyLimit | None = None) -> CallGate:
        """The `CallGate` of `connector`: `slots` (a gateway's), else its own concurrency limit; measured."""
        gate = LimitGate(connector, limits, slots or self.concurrency(connector, limits.concurrency),
                         rates=self.rates, clock=self.clock, waited=functools.partial(self.metrics.waited, connector))
        return MeasuredGate(gate, connector, self.metrics)

    def measured(self, audit: AuditSink) -> AuditSink:
        """`audit`, counting every call record in the metrics."""
        return MeasuredAudit(audit, self.metrics)


_PROCESS_STATE = RuntimeState()


def process_state() -> RuntimeState:
    """The in-process state every server and gateway of this process shares unless given another."""
    return _PROCESS_STATE


REDIS_URL_ENV = "SPECBRIDGE_REDIS_URL"
REDIS_DOWN_ENV = "SPECBRIDGE_REDIS_DOWN"
_shared_states: dict[tuple[str, str], RuntimeState] = {}
_shared_lock = threading.Lock()


def state_for(environ: Mapping[str, str]) -> RuntimeState:
    """The state the environment asks for: Redis's at `SPECBRIDGE_REDIS_URL` (one per URL in the process),
    else the process's. Raises `ConfigurationError` on a bad URL or policy, or without redis-py."""
    url = environ.get(REDIS_URL_ENV, "").strip()
    if not url:
        return process_state()
    policy = environ.get(REDIS_DOWN_ENV, "closed").strip().lower() or "closed"
    if policy not in ("closed", "open"):
        raise ConfigurationError(f"{REDIS_DOWN_ENV}={policy!r}: expected closed (fail the calls) or open (let them "
                                 "through without the shared limits)")
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigurationError(f"{REDIS_URL_ENV} must be a redis://, rediss:// or unix:// URL")
    with _shared_lock:
        state = _shared_states.get((url, policy))
        if state is None:
            state = _shared_states[(url, policy)] = _redis_state(url, policy)
        return state


def _redis_state(url: str, policy: str) -> RuntimeState:
    try:
        from .._mechanisms import redis_stores
    except ImportError:
        raise ConfigurationError(f"{REDIS_URL_ENV} is set but redis-py is not installed: "
                                 "pip install 'specbridge-runtime[redis]'") from None
    connection = redis_stores.RedisConnection(url)
    rates, slots = redis_stores.RedisRates(connection), redis_stores.RedisSlots(connection)
    locks = redis_stores.RedisLocks(connection)
    if policy == "open":
        return RuntimeState(rates=redis_stores.FailOpenRates(rates), slots=redis_stores.FailOpenSlots(slots),
                            shared=connection.name, ping=connection.ping, locks=locks)
    return RuntimeState(rates=rates, slots=slots, shared=connection.name, ping=connection.ping, locks=locks)


def readiness(environ: Mapping[str, str], state: RuntimeState) -> Readiness:
    """The checks of `/readyz`: the shared stores the environment names answer."""

    async def problems() -> list[str]:
        import anyio.to_thread

        found: list[str] = []
        if state.ping is not None:
            try:
                await state.ping()
            except StoreUnavailable as error:
                found.append(error.message)
        database_url = environ.get("SPECBRIDGE_DATABASE_URL", "").strip()
        if database_url:
            try:
                await anyio.to_thread.run_sync(_check_database, database_url)
            except StoreError as error:
                found.append(str(error))
        return found

    return problems


def _check_database(url: str) -> None:
    from .._mechanisms.postgres import connect

    connect(url).close()
