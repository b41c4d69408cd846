"""Limits around every upstream call: the `CallGate` (concurrency and rate) and the effective limits of a
connector (the definition's values, overridden from the environment).

Rates are token buckets holding one token: "10/s" lets a call start every 100 ms, so no window of the
period sees (much) more than the stated number of calls, however the calls arrive. Buckets live in a
`RateStore` keyed by connector (and operation): the assembly gives every gate of the process the same
store (or a shared one across replicas), so every session, server and gateway shares them. A call first
takes one of the `concurrency` slots (a `SlotStore`), then waits for its token while holding the slot (a
call is started only when it may be sent, so slots never release a burst); both waits together are
bounded by `queue_timeout_s`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import Limits
from .._core.errors import QueueFull, RateLimited
from .._core.grammar import Rate, env_prefix, parse_rate
from .._core.stores import Bucket, RateStore, SlotStore
from .local_stores import LocalRates, LocalSlots

_OFF = frozenset({"", "none", "off", "unlimited"})


class ConcurrencyLimit:
    """At most `concurrency` calls in flight under `key` (a connector, or a gateway whose connectors share
    it), counted in `store`."""

    def __init__(self, concurrency: int, key: str = "", store: SlotStore | None = None) -> None:
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {concurrency}")
        self.concurrency = concurrency
        self.key = key
        self.store: SlotStore = store if store is not None else LocalSlots()

    @asynccontextmanager
    async def slot(self, wait_s: float) -> AsyncIterator[None]:
        """Hold one slot; raises `QueueFull` when none frees up within `wait_s` seconds."""
        lease = await self.store.acquire(self.key, self.concurrency, wait_s)
        if lease is None:
            raise QueueFull(
                f"Too many calls in flight (at most {self.concurrency} at once; waited {wait_s:g} s for a free "
                "slot); retry in a moment.",
                retry_after_s=1.0,
            )
        try:
            yield
        finally:
            await self.store.release(self.key, lease)


class LimitGate:
    """The `CallGate` of one connector: a slot of `slots` (its own, or a gateway's shared one), then a token
    of the connector's rate and of the operation's rate from `rates`, all within `limits.queue_timeout_s`
    on `clock`."""

    def __init__(self, connector: str, limits: Limits, slots: ConcurrencyLimit | None = None, *,
                 rates: RateStore | None = None, clock: Clock = SYSTEM_CLOCK,
                 waited: Callable[[float], None] | None = None) -> None:
        self.connector = connector
        self._waited = waited  # told each wait for a token (metrics)
        self.queue_timeout_s = limits.queue_timeout_s
        self.clock = clock
        self.slots = slots if slots is not None else ConcurrencyLimit(limits.concurrency, connector, LocalSlots(clock))
        self.rates: RateStore = rates if rates is not None else LocalRates(clock)
        self._rates: dict[str, Rate] = {}
        # Where a 429's Retry-After holds off every call of the connector (no pace of its own).
        self._held_off = Bucket(f"{connector}@429", 0.0)
        self._connector_buckets = (self._held_off, *self._buckets_for(connector, limits.rate))
        self._operation_buckets = {
            tool: self._connector_buckets + self._buckets_for(f"{connector}/{tool}", operation.rate)
            for tool, operation in limits.operations
        }

    def _buckets_for(self, scope: str, text: str | None) -> tuple[Bucket, ...]:
        if text is None:
            return ()
        rate = parse_rate(text)
        if rate is None:
            raise ValueError(f"{scope}: {text!r} is not a rate such as '10/s' or '100/min'")
        key = f"{scope}@{rate.text}"  # a changed rate starts a bucket of its own
        self._rates[key] = rate
        return (Bucket(key, rate.interval_s),)

    @asynccontextmanager
    async def enter(self, tool: str) -> AsyncIterator[None]:
        deadline = self.clock.monotonic() + self.queue_timeout_s
        async with self.slots.slot(self.queue_timeout_s):
            buckets = self._operation_buckets.get(tool, self._connector_buckets)
            reservation = await self.rates.reserve(buckets, deadline - self.clock.monotonic())
            if not reservation.granted:
                raise self._refusal(buckets[reservation.blocking], reservation.wait_s)
            if reservation.wait_s > 0:
                if self._waited is not None:
                    self._waited(reservation.wait_s)
                await self.clock.sleep(reservation.wait_s)
            yield

    async def pause(self, seconds: float) -> None:
        await self.rates.hold_off(self._held_off.key, seconds)

    def _refusal(self, bucket: Bucket, wait: float) -> RateLimited:
        if bucket is self._held_off:
            return RateLimited(
                f"{self.connector} asked its callers to wait (HTTP 429): the next call can start in {wait:.1f} s.",
                hint=f"Retry after {wait:.0f} s, or make fewer calls.", retry_after_s=wait)
        scope = bucket.key.rpartition("@")[0]
        connector, _, tool = scope.partition("/")
        where = f"operation {tool}" if tool else f"connector {connector}"
        return RateLimited(
            f"The rate limit of {self._rates[bucket.key].text} for {where} is reached: the next call can start in "
            f"{wait:.1f} s.",
            hint=f"Retry after {wait:.0f} s, or make fewer calls. The rate is set in the connector definition's "
            f"limits{'' if tool else f' or the environment variable {env_prefix(connector)}_RATE'}.",
            retry_after_s=wait,
        )


def timeout_for(limits: Limits, tool: str) -> float:
    """The per-call timeout of `tool`: its own if the definition sets one, else the connector's."""
    operation = limits.for_operation(tool)
    return operation.timeout_s if operation is not None and operation.timeout_s is not None else limits.timeout_s


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(text)
        return value

    return parse


def _rate_setting(text: str) -> str | None:
    if text.strip().lower() in _OFF:
        return None
    if parse_rate(text) is None:
        raise ValueError(text)
    return text.strip()


# Environment variable suffix, the `Limits` field it sets, its parser, and what a valid value looks like.
_ENV_OVERRIDES: tuple[tuple[str, str, Callable[[str], object], str], ...] = (
    ("TIMEOUT_S", "timeout_s", _seconds, "seconds > 0"),
    ("MAX_RESPONSE_BYTES", "max_response_bytes", _at_least(1), "a number of bytes >= 1"),
    ("CONCURRENCY", "concurrency", _at_least(1), "a number of calls >= 1"),
    ("QUEUE_TIMEOUT_S", "queue_timeout_s", _seconds, "seconds > 0"),
    ("RATE", "rate", _rate_setting, "a rate such as '10/s', '100/min', '1000/h', or 'off'"),
    ("MAX_RETRIES", "max_retries", _at_least(0), "a number of retries >= 0"),
    ("MAX_RETRY_WAIT_S", "max_retry_wait_s", _seconds, "seconds > 0"),
)


def limits_from_env(limits: Limits, connector: str, environ: Mapping[str, str]) -> tuple[Limits, tuple[str, ...]]:
    """`limits` with the environment's overrides applied, and a message for each invalid variable (not applied).

    The variables are NAME_TIMEOUT_S, NAME_MAX_RESPONSE_BYTES, NAME_CONCURRENCY, NAME_QUEUE_TIMEOUT_S, NAME_RATE,
    NAME_MAX_RETRIES and NAME_MAX_RETRY_WAIT_S, NAME being the connector name in upper case.
    """
    prefix = env_prefix(connector)
    changes: dict[str, object] = {}
    problems: list[str] = []
    for suffix, field, parse, expected in _ENV_OVERRIDES:
        variable = f"{prefix}_{suffix}"
        text = environ.get(variable)
        if text is None:
            continue
        try:
            changes[field] = parse(text)
        except ValueError:
            problems.append(f"{variable}={text!r} is ignored: expected {expected}")
    return replace(limits, **changes), tuple(problems)  # type: ignore[arg-type]
