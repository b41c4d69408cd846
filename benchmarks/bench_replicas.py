"""The replicated mode's figures (no targets): throughput of one replica against three sharing Redis, and
the cost per call of the shared limiter (Redis) against the in-process one.

    python benchmarks/bench_replicas.py [--calls 600] [--callers 20] [--gate-calls 3000]

- Throughput: the fault API package served over streamable HTTP by 1 and by 3 replicas (each its own
  process and SPECBRIDGE_HOME; with SPECBRIDGE_REDIS_URL when shared), `--callers` MCP clients spread
  round-robin, `--calls` calls of an upstream that answers at once; calls per second over the whole run.
  The machine's cores are shared by the replicas, the callers, redis-server and the upstream.
- Limiter: `--gate-calls` sequential passes through a connector's gate (a slot of the limit of calls in
  flight and a token of a rate high enough never to wait), in process and in Redis; microseconds per pass.
- redis-server and the upstream run on 127.0.0.1 on free ports, started and stopped here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' server helpers

from specbridge_runtime._assembly.state import RuntimeState, state_for
from specbridge_runtime._core.descriptors import Limits

from tests.faultserver.process import running_faultserver
from tests.stores.replicas import replicas, round_robin
from tests.stores.servers import RedisServer

LIMITS = Limits(rate="1000000/s", concurrency=100)


async def gate_us(state: RuntimeState, calls: int) -> float:
    gate = state.gate(f"bench{uuid.uuid4().hex[:6]}", LIMITS)
    for _ in range(50):  # warm: connections, scripts loaded
        async with gate.enter("t"):
            pass
    started = time.perf_counter()
    for _ in range(calls):
        async with gate.enter("t"):
            pass
    return (time.perf_counter() - started) / calls * 1e6


def throughput(count: int, environ: dict[str, str], calls: int, callers: int, upstream: str) -> float:
    settings = {**environ, "FAULTAPI_BASE_URL": upstream, "FAULTAPI_CONCURRENCY": "100", "SPECBRIDGE_AUDIT": "off"}
    with tempfile.TemporaryDirectory() as base, replicas(count, Path(base), settings) as running:
        urls = [replica.url for replica in running]
        asyncio.run(round_robin(urls, callers, callers * 5, "faultapi_get", {"mode": "ok"}))  # warm
        started = time.perf_counter()
        results = asyncio.run(round_robin(urls, callers, calls, "faultapi_get", {"mode": "ok"}))
        elapsed = time.perf_counter() - started
    errors = sum(result.is_error for result in results.values())
    if errors:
        raise SystemExit(f"{errors} of {calls} calls failed")
    return calls / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--callers", type=int, default=20)
    parser.add_argument("--gate-calls", type=int, default=3000)
    args = parser.parse_args()
    print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    redis = RedisServer()
    redis.start()
    try:
        shared = {"SPECBRIDGE_REDIS_URL": redis.url}
        local_us = asyncio.run(gate_us(RuntimeState(), args.gate_calls))
        redis_us = asyncio.run(gate_us(state_for(shared), args.gate_calls))
        print(f"limiter, per call: in process {local_us:.1f} us, Redis {redis_us:.1f} us "
              f"(+{redis_us - local_us:.0f} us: a slot leased and given back, a token reserved)")
        with running_faultserver() as upstream:
            for label, count, environ in (("1 replica, in-process limits", 1, {}),
                                          ("1 replica, limits in Redis", 1, shared),
                                          ("3 replicas, limits in Redis", 3, shared)):
                rate = throughput(count, environ, args.calls, args.callers, upstream.url)
                print(f"{label}: {rate:.0f} calls/s ({args.calls} calls, {args.callers} callers)")
    finally:
        redis.close()


if __name__ == "__main__":
    main()
