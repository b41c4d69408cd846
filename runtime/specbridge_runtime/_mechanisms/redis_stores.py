"""The stores of the limits in Redis (`SPECBRIDGE_REDIS_URL`), shared by every replica of a server or gateway.

- Rates: the same one-token buckets as in process (`LocalRates`), kept as "next start" times in Redis and
  reserved by one Lua script that reads Redis's own clock (`TIME`), so every replica paces against one
  clock and one schedule: the configured rate holds however many replicas share it. (The `limits` library
  answers "may I, now?"; a call here waits for its reserved start instead of polling, which needs the
  reservation this script makes.)
- Locks (`RedisLocks`): one replica at a time refreshes an OAuth token; the others wait, then read the
  token it stored (the vault in PostgreSQL).
- Slots of calls in flight: leases in a sorted set per key, scored by their expiry. A replica renews the
  leases it holds every `LEASE_S / 3` seconds; the leases of a replica that died expire after `LEASE_S`.
  A waiting call polls for a free slot (every `POLL_S`) until its queue wait ends.

A store that cannot be reached raises `StoreUnavailable` naming it, at once (short socket timeouts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.errors import StoreUnavailable
from .._core.stores import Bucket, Reservation

logger = logging.getLogger(__name__)

PREFIX = "specbridge:"
LEASE_S = 6.0
LOCK_S = 30.0  # the longest an OAuth refresh may hold its lock (its HTTP timeout), if its holder dies
POLL_S = 0.02
_SOCKET_TIMEOUT_S = 2.0

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local start, latest, blocking = now, -1, 0
for i, key in ipairs(KEYS) do
  local at = tonumber(redis.call('GET', key) or '0')
  if at > start then start = at end
  if at > latest then latest, blocking = at, i end
end
local wait = start - now
if wait > tonumber(ARGV[1]) then return {0, tostring(wait), blocking - 1} end
for i, key in ipairs(KEYS) do
  local after = start + tonumber(ARGV[i + 1])
  redis.call('SET', key, string.format('%.6f', after), 'PX', math.ceil((after - now) * 1000) + 1000)
end
return {1, tostring(wait), -1}
"""

_HOLD_OFF = """
local t = redis.call('TIME')
local later = tonumber(t[1]) + tonumber(t[2]) / 1000000 + tonumber(ARGV[1])
if later > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], string.format('%.6f', later), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""

_LOCK = "return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0"
_UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[3]) * 1000) + 1000)
  return 1
end
return 0
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[1]), ARGV[i + 1])
  redis.call('PEXPIRE', key, math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


def describe(url: str) -> str:
    """The store's address without its password, for messages."""
    parts = urlsplit(url)
    return f"Redis at {parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


class RedisConnection:
    """One redis-py asyncio client per event loop (a client belongs to the loop that made it)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = describe(url)
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            found = self._clients[loop] = aioredis.Redis.from_url(
                self.url, socket_timeout=_SOCKET_TIMEOUT_S, socket_connect_timeout=_SOCKET_TIMEOUT_S,
                health_check_interval=10)
        return found

    async def run(self, script: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await self.client().eval(script, len(keys), *keys, *args)
        except (RedisError, OSError) as error:
            raise self.unavailable(error) from None

    def unavailable(self, error: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"The shared limits store ({self.name}) cannot be reached: "
                                f"{type(error).__name__}: {str(error)[:200]}.")

    async def ping(self) -> None:
        try:
            await self.client().ping()
        except (RedisError, OSError) as error:
            raise self.unavailable(error) from None


class RedisRates:
    """`RateStore` in Redis."""

    def __init__(self, connection: RedisConnection) -> None:
        self.connection = connection

    async def reserve(self, buckets: Sequence[Bucket], budget_s: float) -> Reservation:
        granted, wait, blocking = await self.connection.run(
            _RESERVE, [PREFIX + "rate:" + bucket.key for bucket in buckets],
            [repr(budget_s), *(repr(bucket.interval_s) for bucket in buckets)])
        return Reservation(bool(granted), max(float(wait), 0.0), int(blocking))

    async def hold_off(self, key: str, seconds: float) -> None:
        await self.connection.run(_HOLD_OFF, [PREFIX + "rate:" + key], [repr(seconds)])


class RedisLocks:
    """`LockStore` in Redis: a key set only if absent, expiring after `LOCK_S`, deleted by its holder only."""

    def __init__(self, connection: RedisConnection, clock: Clock = SYSTEM_CLOCK) -> None:
        self.connection = connection
        self.clock = clock

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        name, mine = PREFIX + "lock:" + key, uuid.uuid4().hex
        deadline = self.clock.monotonic() + LOCK_S + 5
        while not await self.connection.run(_LOCK, [name], [mine, int(LOCK_S * 1000)]):
            if self.clock.monotonic() > deadline:
                raise StoreUnavailable(f"{self.connection.name}: the lock {key} stayed held for {LOCK_S:g} s and more")
            await self.clock.sleep(POLL_S)
        try:
            yield
        finally:
            with contextlib.suppress(StoreUnavailable):  # it expires by itself
                await self.connection.run(_UNLOCK, [name], [mine])


class RedisSlots:
    """`SlotStore` in Redis: leases that this replica renews while it holds them."""

    def __init__(self, connection: RedisConnection, clock: Clock = SYSTEM_CLOCK) -> None:
        self.connection = connection
        self.clock = clock
        self._held: dict[str, str] = {}  # lease id -> Redis key
        self._renewer: asyncio.Task[None] | None = None

    async def acquire(self, key: str, capacity: int, wait_s: float) -> object | None:
        lease, redis_key = uuid.uuid4().hex, PREFIX + "slots:" + key
        deadline = self.clock.monotonic() + wait_s
        while not await self.connection.run(_ACQUIRE, [redis_key], [capacity, lease, repr(LEASE_S)]):
            if self.clock.monotonic() >= deadline:
                return None
            await self.clock.sleep(POLL_S)
        self._held[lease] = redis_key
        self._renew_while_held()
        return lease

    async def release(self, key: str, lease: object) -> None:
        redis_key = self._held.pop(str(lease), None)
        if redis_key is None:
            return
        try:
            await self.connection.client().zrem(redis_key, str(lease))
        except (RedisError, OSError) as error:  # the lease expires by itself
            logger.warning("%s: a slot could not be given back (it expires in %g s): %s",
                           self.connection.name, LEASE_S, error)

    def _renew_while_held(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew(), name="specbridge slot leases")

    async def _renew(self) -> None:
        while self._held:
            await self.clock.sleep(LEASE_S / 3)
            held = dict(self._held)
            if not held:
                return
            with contextlib.suppress(StoreUnavailable):  # the calls see the store's state themselves
                await self.connection.run(_RENEW, list(held.values()), [repr(LEASE_S), *held])


class FailOpenRates:
    """`RateStore` that lets calls through unpaced while the shared store is down (`SPECBRIDGE_REDIS_DOWN=open`)."""

    def __init__(self, store: RedisRates) -> None:
        self.store = store

    async def reserve(self, buckets: Sequence[Bucket], budget_s: float) -> Reservation:
        try:
            return await self.store.reserve(buckets, budget_s)
        except StoreUnavailable as error:
            logger.warning("%s; the call goes through without its rate limit (fail open)", error.message)
            return Reservation(True, 0.0)

    async def hold_off(self, key: str, seconds: float) -> None:
        with contextlib.suppress(StoreUnavailable):  # the calls of this replica still back off by themselves
            await self.store.hold_off(key, seconds)


class FailOpenSlots:
    """`SlotStore` that lets calls through uncounted while the shared store is down."""

    _UNCOUNTED = object()

    def __init__(self, store: RedisSlots) -> None:
        self.store = store

    async def acquire(self, key: str, capacity: int, wait_s: float) -> object | None:
        try:
            return await self.store.acquire(key, capacity, wait_s)
        except StoreUnavailable as error:
            logger.warning("%s; the call goes through without its limit of calls in flight (fail open)",
                           error.message)
            return self._UNCOUNTED

    async def release(self, key: str, lease: object) -> None:
        if lease is not self._UNCOUNTED:
            await self.store.release(key, lease)
