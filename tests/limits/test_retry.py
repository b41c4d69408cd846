"""The RetryPolicy: 429 honoured for every method, server errors and broken connections retried only where
a second request cannot repeat an effect, and every wait bounded."""

from __future__ import annotations

import email.utils

import httpx2
import pytest
from specbridge_runtime._mechanisms.retry import BackoffRetry, retry_after_s
from specbridge_runtime.testing import ManualClock

REQUEST = httpx2.Request("GET", "http://127.0.0.1/x")


def response(status: int, **headers: str) -> httpx2.Response:
    return httpx2.Response(status, headers={name.replace("_", "-"): value for name, value in headers.items()},
                           request=REQUEST)


def policy(**overrides: float) -> BackoffRetry:
    settings = {"max_retries": 3, "max_wait_s": 30.0, "base_s": 0.5, "cap_s": 8.0} | overrides
    return BackoffRetry(max_retries=int(settings["max_retries"]), max_wait_s=settings["max_wait_s"],
                        base_s=settings["base_s"], cap_s=settings["cap_s"], jitter=lambda: 1.0)


def test_retry_after_in_seconds_http_date_and_reset_headers() -> None:
    now = 1_700_000_000.0
    assert retry_after_s({"retry-after": "7"}, now) == 7
    date = email.utils.formatdate(now + 12, usegmt=True)
    assert retry_after_s({"retry-after": date}, now) == pytest.approx(12, abs=1)
    assert retry_after_s({"retry-after": email.utils.formatdate(now - 50, usegmt=True)}, now) == 0
    assert retry_after_s({"x-ratelimit-reset": str(int(now) + 20)}, now) == 20
    assert retry_after_s({"x-ratelimit-reset": str(int(now * 1000) + 3000)}, now) == pytest.approx(3)
    assert retry_after_s({"ratelimit-reset": "4"}, now) == 4
    assert retry_after_s({"retry-after": "soon", "x-ratelimit-reset": "nan"}, now) is None
    assert retry_after_s({}, now) is None


@pytest.mark.parametrize("idempotent", [True, False])
def test_429_is_retried_for_every_method_after_the_time_the_api_asks(idempotent: bool) -> None:
    assert policy().delay(0, response(429, retry_after="2"), None, idempotent, 0) == 2
    clock = ManualClock(start=1_700_000_000.5)
    told = BackoffRetry(max_retries=3, max_wait_s=30, clock=clock).delay(
        0, response(429, x_ratelimit_reset="1700000005"), None, idempotent, 0)
    assert told == 4.5  # the reset is an epoch time, read against the clock


def test_429_without_headers_backs_off_exponentially_with_jitter() -> None:
    delays = [policy().delay(attempt, response(429), None, False, 0) for attempt in (0, 1, 2)]
    assert delays == [0.5, 1.0, 2.0]  # jitter 1.0: the upper bound of each draw
    spread = BackoffRetry(max_retries=3, max_wait_s=30).delay(2, response(429), None, False, 0)
    assert spread is not None and 0 <= spread < 2.0
    assert policy(cap_s=1.5).delay(2, response(429), None, False, 0) == 1.5


@pytest.mark.parametrize("status", [502, 503, 504])
def test_server_errors_are_retried_only_when_idempotent(status: int) -> None:
    assert policy().delay(0, response(status), None, True, 0) == 0.5
    assert policy().delay(0, response(status), None, False, 0) is None
    assert policy().delay(0, response(503, retry_after="3"), None, True, 0) == 3


@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 500])
def test_other_statuses_are_not_retried(status: int) -> None:
    assert policy().delay(0, response(status), None, True, 0) is None


def test_a_connection_never_opened_is_retried_for_every_method() -> None:
    error = httpx2.ConnectError("refused", request=REQUEST)
    assert policy().delay(0, None, error, False, 0) == 0.5


@pytest.mark.parametrize("error_type", [httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError])
def test_a_connection_broken_after_sending_is_retried_only_when_idempotent(error_type: type[Exception]) -> None:
    error = error_type("broken", request=REQUEST)  # type: ignore[call-arg]
    assert policy().delay(0, None, error, True, 0) == 0.5
    assert policy().delay(0, None, error, False, 0) is None


@pytest.mark.parametrize("error_type", [httpx2.ReadTimeout, httpx2.ConnectTimeout, httpx2.PoolTimeout])
def test_timeouts_are_not_retried(error_type: type[Exception]) -> None:
    assert policy().delay(0, None, error_type("slow", request=REQUEST), True, 0) is None  # type: ignore[call-arg]


def test_attempts_and_total_wait_are_bounded() -> None:
    assert policy(max_retries=2).delay(1, response(429), None, True, 0) == 1.0
    assert policy(max_retries=2).delay(2, response(429), None, True, 0) is None
    assert policy(max_retries=0).delay(0, response(429), None, True, 0) is None
    assert policy(max_wait_s=3).delay(1, response(429, retry_after="2"), None, True, 1.5) is None
    assert policy(max_wait_s=30).delay(0, response(429, retry_after="120"), None, True, 0) is None
