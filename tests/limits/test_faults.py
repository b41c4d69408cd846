"""Every fault of the fault server, through the fault API package, a real MCP server and a real MCP client:
the result is the retried success or an error naming the cause and what to check, the upstream saw the
requests it should (a POST never twice by accident), and the next call works. Every test runs on both HTTP
clients (`SPECBRIDGE_FAST_IO` 1: httptools on asyncio, 0: httpx2's own transport)."""

from __future__ import annotations

import time
import tracemalloc
import uuid
from typing import Any

import mcp_types as types
import pytest
from specbridge_runtime._core.descriptors import Limits
from specbridge_runtime.testing import ManualClock

from tests.faultserver.process import FaultServerProcess
from tests.limits.conftest import TEST_LIMITS, Served, ServeFactory, text_of
from tests.support import free_port


@pytest.fixture(params=["1", "0"], ids=["fast-io", "stock-io"])
def fast_io(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def key() -> str:
    return uuid.uuid4().hex


async def assert_next_call_works(served: Served) -> None:
    result = await served.call("faultapi_get", mode="ok", key=key(), id="next")
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None and result.structured_content["id"] == "next"


def assert_error(result: types.CallToolResult, *fragments: str) -> str:
    text = text_of(result)
    assert result.is_error, text
    for fragment in fragments:
        assert fragment.lower() in text.lower(), text
    return text


@pytest.mark.parametrize(("header", "after", "waited"), [
    ("retry_after", "0.4", 0.4),  # Retry-After in seconds
    # An HTTP date and an epoch time, a second ahead on the server's clock (whole seconds): the wait is read
    # against the provider's clock (the unit tests of the retry policy check the arithmetic).
    ("date", "1", None),
    ("reset", "1", None),
])
@pytest.mark.parametrize("tool", ["faultapi_get", "faultapi_post"])
async def test_429_is_honoured_then_retried_for_every_method(serve: ServeFactory, faultserver: FaultServerProcess,
                                                              tool: str, header: str, after: str,
                                                              waited: float | None) -> None:
    name = key()
    clock = ManualClock(start=time.time())
    async with serve(clock=clock) as served:
        result = await served.call(tool, mode="limited", key=name, header=header, after=after, id="x")
        assert not result.is_error, text_of(result)
        # a hand-written operation's JSON body is required: a POST without arguments for it sends {}
        assert result.structured_content == {"id": "x", "method": tool.removeprefix("faultapi_").upper(), "n": 2,
                                             "body": {} if tool == "faultapi_post" else None}
        (slept,) = clock.slept  # one wait, for the time the API asked
        assert waited is None or slept == waited
        assert faultserver.stats(name)["requests"] == 2
        await assert_next_call_works(served)


async def test_429_asking_for_more_than_the_budget_tells_when_to_retry(serve: ServeFactory,
                                                                       faultserver: FaultServerProcess) -> None:
    name = key()
    clock = ManualClock()
    async with serve(clock=clock) as served:
        result = await served.call("faultapi_get", mode="limited", key=name, after="120")
        assert clock.slept == []  # no retry: the wait asked for exceeds the budget
        assert_error(result, "HTTP 429", "rate limited", "retry after 120 s")
        assert faultserver.stats(name)["requests"] == 1
        # The API asked every caller to wait: the next call is refused without being sent, then works.
        refused = await served.call("faultapi_get", mode="ok", key=name)
        assert_error(refused, "asked its callers to wait (HTTP 429)", "next call can start in 120.0 s")
        assert faultserver.stats(name)["requests"] == 1
        clock.advance(120)
        await assert_next_call_works(served)


async def test_429_until_the_retries_run_out(serve: ServeFactory, faultserver: FaultServerProcess) -> None:
    name = key()
    async with serve() as served:
        result = await served.call("faultapi_get", mode="limited", key=name, times="10", after="0.05")
        assert_error(result, "HTTP 429", "reduce the call frequency")
        assert faultserver.stats(name)["requests"] == 1 + TEST_LIMITS.max_retries


async def test_flapping_503_is_retried_for_a_get(serve: ServeFactory, faultserver: FaultServerProcess) -> None:
    name = key()
    async with serve() as served:
        for call in range(3):
            result = await served.call("faultapi_get", mode="flap", key=name, id=str(call))
            assert not result.is_error, text_of(result)
            assert result.structured_content is not None and result.structured_content["id"] == str(call)
        assert faultserver.stats(name)["requests"] == 6


async def test_a_post_on_503_is_sent_exactly_once(serve: ServeFactory, faultserver: FaultServerProcess) -> None:
    name = key()
    async with serve() as served:
        result = await served.call("faultapi_post", mode="flap", key=name, note="pay 10 EUR")
        assert_error(result, "HTTP 503", "server error")
        assert faultserver.stats(name)["methods"] == ["POST"]
        await assert_next_call_works(served)


async def test_a_post_the_definition_marks_idempotent_is_retried(serve: ServeFactory,
                                                                  faultserver: FaultServerProcess) -> None:
    name = key()
    async with serve() as served:
        result = await served.call("faultapi_post_retryable", mode="flap", key=name, note="put it")
        assert not result.is_error, text_of(result)
        assert faultserver.stats(name)["methods"] == ["POST", "POST"]


async def test_a_hanging_upstream_times_out_once(serve: ServeFactory, faultserver: FaultServerProcess) -> None:
    name = key()
    async with serve(Limits(timeout_s=0.5, max_retries=2)) as served:
        result = await served.call("faultapi_get", mode="hang", key=name, seconds="5")
        assert_error(result, "timeout", "did not answer within 0.5 s", "splitting it into smaller requests")
        assert faultserver.stats(name)["requests"] == 1  # the timeout bounds the whole call: no retry
        await assert_next_call_works(served)


@pytest.mark.parametrize("framing", ["chunked", "length"])
async def test_a_50_mb_answer_is_refused_while_it_streams(serve: ServeFactory, framing: str) -> None:
    async with serve(Limits(timeout_s=30)) as served:
        await assert_next_call_works(served)  # warm: imports and connections are not what is measured
        tracemalloc.start()
        try:
            result = await served.call("faultapi_get", mode="big", mb="50", length="1" if framing == "length" else None)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert_error(result, "larger than the limit of 10,485,760 bytes", "narrow the request")
        assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
        await assert_next_call_works(served)


async def test_a_smaller_size_limit_from_the_definition(serve: ServeFactory) -> None:
    async with serve(Limits(max_response_bytes=100_000)) as served:
        result = await served.call("faultapi_get", mode="big", mb="1")
        assert_error(result, "larger than the limit of 100,000 bytes")


async def test_invalid_json_is_a_clear_error(serve: ServeFactory) -> None:
    async with serve() as served:
        result = await served.call("faultapi_get", mode="badjson")
        assert_error(result, "not valid JSON", "not in the documented format", "update the operation definitions")
        await assert_next_call_works(served)


async def test_the_wrong_content_type_is_a_clear_error(serve: ServeFactory) -> None:
    async with serve() as served:
        result = await served.call("faultapi_get", mode="wrongtype")
        assert_error(result, "text/html", "not in the documented format")
        await assert_next_call_works(served)


@pytest.mark.parametrize(("tool", "requests"), [("faultapi_get", 1 + TEST_LIMITS.max_retries), ("faultapi_post", 1)])
async def test_a_connection_closed_mid_body(serve: ServeFactory, faultserver: FaultServerProcess, tool: str,
                                            requests: int) -> None:
    name = key()
    async with serve() as served:
        result = await served.call(tool, mode="cut", key=name)
        assert_error(result, "connection failed", "broke off")
        assert faultserver.stats(name)["requests"] == requests
        await assert_next_call_works(served)


@pytest.mark.parametrize("mode", ["garbage", "badchunk", "hugehead"])
@pytest.mark.parametrize(("tool", "requests"), [("faultapi_get", 1 + TEST_LIMITS.max_retries), ("faultapi_post", 1)])
async def test_an_answer_that_is_not_http_is_a_clear_error(serve: ServeFactory, faultserver: FaultServerProcess,
                                                           mode: str, tool: str, requests: int) -> None:
    # The server keeps the connection open after its malformed answer: the client gives up on the bytes alone
    # (the call timeout is 30 s, so an answer within it is not the timeout).
    name = key()
    async with serve(Limits(timeout_s=30, max_retries=TEST_LIMITS.max_retries)) as served:
        result = await served.call(tool, mode=mode, key=name)
        text = assert_error(result, "connection failed", "broke off")
        assert "Traceback" not in text
        assert faultserver.stats(name)["requests"] == requests  # the same retry rule as any broken exchange
        await assert_next_call_works(served)


async def test_no_service_listening_is_a_connection_failure(serve: ServeFactory) -> None:
    clock = ManualClock()
    async with serve(base_url=f"http://127.0.0.1:{free_port()}", clock=clock) as served:
        result = await served.call("faultapi_post", mode="ok", note="never sent")
        assert 0 < len(clock.slept) <= TEST_LIMITS.max_retries  # a request that never left is retried, boundedly
        assert sum(clock.slept) <= TEST_LIMITS.max_retry_wait_s
        assert_error(result, "connection failed", "FAULTAPI_BASE_URL", "ensure the service is online")


@pytest.mark.parametrize(("code", "fragments"), [
    ("401", ("HTTP 401", "invalid or expired")),
    ("403", ("HTTP 403", "permission")),
    ("404", ("HTTP 404", "not found")),
    ("500", ("HTTP 500", "server error")),
])
async def test_http_errors_say_what_to_check(serve: ServeFactory, code: str, fragments: tuple[str, ...]) -> None:
    async with serve() as served:
        result = await served.call("faultapi_get", mode="status", code=code)
        assert_error(result, *fragments, f"fault server says {code}")


async def test_upstream_bodies_in_errors_are_short_and_sanitized(serve: ServeFactory) -> None:
    leaked = "token=sk_live_" + "a1" * 20
    async with serve() as served:
        result = await served.call("faultapi_get", mode="status", code="400", body=f"bad {leaked} " + "x" * 5000)
        text = assert_error(result, "HTTP 400", "[redacted]")
        assert "sk_live_" not in text and len(text) < 1500


async def test_a_full_queue_is_a_clear_error(serve: ServeFactory) -> None:
    import anyio

    results: list[types.CallToolResult] = []
    async with serve(Limits(concurrency=1, queue_timeout_s=0.2)) as served:

        async def call(arguments: dict[str, Any]) -> None:
            results.append(await served.call("faultapi_get", **arguments))

        async with anyio.create_task_group() as group:
            group.start_soon(call, {"mode": "ok", "delay": "1"})
            await anyio.sleep(0.1)
            group.start_soon(call, {"mode": "ok"})
        assert_error(results[0], "too many calls in flight", "retry in a moment")
        assert not results[1].is_error
        await assert_next_call_works(served)


async def test_repeated_faults_leave_memory_flat(serve: ServeFactory) -> None:
    faults = [{"mode": "badjson"}, {"mode": "wrongtype"}, {"mode": "cut"}, {"mode": "status", "code": "500"},
              {"mode": "big", "mb": "11"}, {"mode": "ok"}]

    async def round_of_faults() -> None:
        for arguments in faults:
            await served.call("faultapi_get", **arguments)

    async with serve(Limits(timeout_s=5, max_retries=0)) as served:
        for _ in range(3):  # warm: pools, caches and lazy imports settle
            await round_of_faults()
        tracemalloc.start()
        try:
            await round_of_faults()
            settled, _ = tracemalloc.get_traced_memory()
            for _ in range(10):
                await round_of_faults()
            grown = tracemalloc.get_traced_memory()[0] - settled
        finally:
            tracemalloc.stop()
        assert grown < 1024 * 1024, f"{grown / 1e6:.2f} MB more after 60 more faulty calls"
        await assert_next_call_works(served)
