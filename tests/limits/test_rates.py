"""Rates from the definition through a served package: per operation, refused with a clear error when the
next token is further away than the queue wait; and the arguments in the audit only where opted in."""

from __future__ import annotations

import json
import time
import uuid

from specbridge_runtime._core.descriptors import Limits, OperationLimits
from specbridge_runtime._mechanisms.local_stores import LocalRates
from specbridge_runtime.testing import ManualClock

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import TEST_LIMITS, ServeFactory, text_of


async def test_an_operation_rate_paces_that_operation_only(serve: ServeFactory) -> None:
    limits = Limits(timeout_s=5, operations=(("faultapi_post", OperationLimits(rate="5/s")),))
    clock = ManualClock()
    async with serve(limits, clock=clock) as served:
        for _ in range(5):
            assert not (await served.call("faultapi_get", mode="ok")).is_error
        assert clock.slept == []
        for _ in range(3):
            assert not (await served.call("faultapi_post", mode="ok", note="n")).is_error
    assert clock.slept == [0.2, 0.2]  # one POST every 200 ms


async def test_a_token_beyond_the_queue_wait_is_a_clear_error(serve: ServeFactory) -> None:
    clock = ManualClock()
    async with serve(Limits(rate="2/min", queue_timeout_s=0.5), clock=clock) as served:
        assert not (await served.call("faultapi_get", mode="ok")).is_error
        clock.advance(1)
        refused = await served.call("faultapi_get", mode="ok")
        text = text_of(refused)
        assert refused.is_error and "rate limit of 2/min" in text and "FAULTAPI_RATE" in text
        assert "next call can start in 29.0 s" in text
        assert clock.slept == []  # refused at once


async def test_a_429_holds_off_the_other_servers_of_the_connector(serve: ServeFactory,
                                                                  faultserver: FaultServerProcess) -> None:
    clock = ManualClock()
    rates = LocalRates(clock)  # what two servers of one process, or replicas sharing Redis, have in common
    key = uuid.uuid4().hex
    async with serve(clock=clock, rates=rates) as told, serve(clock=clock, rates=rates) as other:
        limited = await told.call("faultapi_get", mode="limited", key=key, after="120")
        assert limited.is_error and "HTTP 429" in text_of(limited)
        refused = await other.call("faultapi_get", mode="ok", key=f"{key}-other")
    assert refused.is_error and "faultapi asked its callers to wait (HTTP 429)" in text_of(refused)
    assert "next call can start in 120.0 s" in text_of(refused)
    assert faultserver.stats(f"{key}-other")["requests"] == 0  # nothing was sent


async def test_arguments_are_recorded_only_when_the_definition_opts_in(serve: ServeFactory) -> None:
    for opted_in in (False, True):
        started = time.time()
        async with serve(TEST_LIMITS, audit_arguments=opted_in) as served:
            await served.call("faultapi_get", mode="ok", id="order-42")
            assert served.audit.flush()
            (call,) = served.audit.store.calls("faultapi", started)
        if opted_in:
            assert call.arguments is not None and json.loads(call.arguments) == {"mode": "ok", "id": "order-42"}
        else:
            assert call.arguments is None
