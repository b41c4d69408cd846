"""The limits' stores in a real redis-server: one schedule of rate buckets and one count of calls in flight
for every replica, leases that free themselves when a replica dies, a clear error naming Redis while it is
down, recovery when it is back, and the fail-open policy."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from specbridge_runtime._assembly.state import state_for
from specbridge_runtime._core.descriptors import Limits
from specbridge_runtime._core.errors import StoreUnavailable
from specbridge_runtime._core.stores import Bucket
from specbridge_runtime._mechanisms.redis_stores import LEASE_S, RedisConnection, RedisRates, RedisSlots

from tests.stores.servers import RedisServer
from tests.support import REPO

MINUTE = Bucket("shop@1/min", 60.0)


async def test_replicas_reserve_from_one_schedule(redis_server: RedisServer) -> None:
    replicas = [RedisRates(RedisConnection(redis_server.url)) for _ in range(3)]
    waits = [(await replicas[index % 3].reserve([MINUTE], 3600)).wait_s for index in range(6)]
    # Each reservation starts a minute after the one before, whichever replica made it (less the moments
    # between the requests).
    assert waits == pytest.approx([0, 60, 120, 180, 240, 300], abs=5)


async def test_a_start_beyond_the_budget_is_refused_and_reserves_nothing(redis_server: RedisServer) -> None:
    rates = RedisRates(RedisConnection(redis_server.url))
    operation = Bucket("shop/slow@1/h", 3600.0)
    assert (await rates.reserve([MINUTE, operation], 10)).granted
    refused = await rates.reserve([MINUTE, operation], 10)
    assert not refused.granted and refused.blocking == 1 and refused.wait_s == pytest.approx(3600, abs=5)
    later = await rates.reserve([MINUTE], 3600)  # the refusal took no token of the connector's bucket
    assert later.granted and later.wait_s == pytest.approx(60, abs=5)


async def test_a_429_at_one_replica_holds_off_the_others(redis_server: RedisServer) -> None:
    told, other = (RedisRates(RedisConnection(redis_server.url)) for _ in range(2))
    await told.hold_off("shop@429", 30)
    reservation = await other.reserve([Bucket("shop@429", 0.0), MINUTE], 3600)
    assert reservation.granted and reservation.wait_s == pytest.approx(30, abs=5)


async def test_slots_are_counted_across_replicas(redis_server: RedisServer) -> None:
    first, second = (RedisSlots(RedisConnection(redis_server.url)) for _ in range(2))
    one = await first.acquire("shop", 2, 0)
    two = await second.acquire("shop", 2, 0)
    assert one is not None and two is not None
    assert await first.acquire("shop", 2, 0) is None  # both replicas' calls count
    await second.release("shop", two)
    three = await first.acquire("shop", 2, 0)
    assert three is not None
    await first.release("shop", one)
    await first.release("shop", three)


HOLDER = """
import asyncio, sys
from specbridge_runtime._mechanisms.redis_stores import RedisConnection, RedisSlots

async def main():
    slots = RedisSlots(RedisConnection(sys.argv[1]))
    for _ in range(2):
        assert await slots.acquire("shop", 2, 0) is not None
    print("held", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


async def test_the_slots_of_a_replica_killed_free_themselves(redis_server: RedisServer) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, redis_server.url], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        slots = RedisSlots(RedisConnection(redis_server.url))
        assert await slots.acquire("shop", 2, 0) is None  # the other replica holds both
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
        lease = await slots.acquire("shop", 2, LEASE_S * 3)  # its leases expire: no one renews them
        assert lease is not None
        await slots.release("shop", lease)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)


async def test_redis_down_is_a_clear_error_then_recovery(redis_server: RedisServer) -> None:
    state = state_for({"SPECBRIDGE_REDIS_URL": redis_server.url})
    gate = state.gate("downshop", Limits(rate="100/s", concurrency=5))
    async with gate.enter("t"):
        pass
    redis_server.stop()
    with pytest.raises(StoreUnavailable) as caught:
        async with gate.enter("t"):
            pass
    assert f"Redis at redis://127.0.0.1:{redis_server.port}/0" in caught.value.message
    assert "cannot be reached" in caught.value.message and "not sent" in caught.value.text
    redis_server.start()
    async with gate.enter("t"):  # the same gate, without a restart
        pass


async def test_fail_open_lets_calls_through_while_redis_is_down(redis_server: RedisServer) -> None:
    state = state_for({"SPECBRIDGE_REDIS_URL": redis_server.url, "SPECBRIDGE_REDIS_DOWN": "open"})
    gate = state.gate("openshop", Limits(rate="1/h", concurrency=1))
    async with gate.enter("t"):
        pass
    redis_server.stop()
    for _ in range(3):  # neither the rate (1/h) nor the slot stops them
        async with gate.enter("t"):
            pass


def test_a_bad_setting_is_a_configuration_error() -> None:
    from specbridge_runtime._core.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="SPECBRIDGE_REDIS_DOWN='maybe'"):
        state_for({"SPECBRIDGE_REDIS_URL": "redis://127.0.0.1:1/0", "SPECBRIDGE_REDIS_DOWN": "maybe"})
    with pytest.raises(ConfigurationError, match="redis://"):
        state_for({"SPECBRIDGE_REDIS_URL": "http://127.0.0.1:1/0"})
