"""When to send a request again (the `RetryPolicy` seam), so that a flaky API is retried politely and a
request that may have been processed is never sent twice by accident.

- 429 (any method: the API refused to process the request): after the API's `Retry-After` (seconds or an
  HTTP date), else its `RateLimit-Reset`/`X-RateLimit-Reset` (epoch seconds or seconds from now), else an
  exponential backoff with full jitter.
- A connection that could not be opened (`httpx2.ConnectError`: the request never left): any method.
- 502/503/504 (honouring `Retry-After`) and connections broken after the request was sent: only idempotent
  operations (`Operation.is_idempotent`).
- Timeouts are not retried: the timeout bounds the whole call.
Attempts and the total wait are bounded; a wait the budget cannot cover ends the retries, and the error
tells the model when to try again (`retry_after_s`).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import Limits

if TYPE_CHECKING:  # httpx2 is loaded by the first call, which is the first to need a retry policy
    import httpx2

RETRY_STATUSES_IDEMPOTENT = frozenset({502, 503, 504})
# X-RateLimit-Reset values above these are epoch timestamps (seconds, or milliseconds) rather than deltas.
_EPOCH_S = 1_000_000_000
_EPOCH_MS = 1_000_000_000_000


def retry_after_s(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the API asks to wait, from `Retry-After` (seconds or HTTP date), `RateLimit-Reset` or
    `X-RateLimit-Reset` (epoch seconds or milliseconds, or seconds from now), `now` being the epoch time;
    None when it says nothing."""
    text = headers.get("retry-after")
    if text is not None:
        seconds = _number(text)
        if seconds is None:
            import email.utils

            try:
                seconds = email.utils.parsedate_to_datetime(text).timestamp() - now
            except (TypeError, ValueError, IndexError):
                seconds = None
        if seconds is not None:
            return max(seconds, 0.0)
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        reset = _number(headers.get(name, ""))
        if reset is not None:
            if reset > _EPOCH_MS:
                reset = reset / 1000 - now
            elif reset > _EPOCH_S:
                reset -= now
            return max(reset, 0.0)
    return None


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value == value and value != float("inf") else None  # not NaN, not infinite


class BackoffRetry:
    """The `RetryPolicy`: up to `max_retries` retries, waiting at most `max_wait_s` seconds in all. `clock`
    tells the time an HTTP date in `Retry-After` is measured from."""

    def __init__(self, *, max_retries: int, max_wait_s: float, base_s: float = 0.5, cap_s: float = 8.0,
                 jitter: Callable[[], float] = random.random, clock: Clock = SYSTEM_CLOCK) -> None:
        self.max_retries = max_retries
        self.max_wait_s = max_wait_s
        self.base_s = base_s
        self.cap_s = cap_s
        self._jitter = jitter
        self._clock = clock

    @classmethod
    def from_limits(cls, limits: Limits, clock: Clock = SYSTEM_CLOCK) -> BackoffRetry:
        return cls(max_retries=limits.max_retries, max_wait_s=limits.max_retry_wait_s, clock=clock)

    def delay(self, attempt: int, response: httpx2.Response | None, error: Exception | None,
              idempotent: bool, waited_s: float) -> float | None:
        # `attempt` counts from 0: it is also the number of retries made so far.
        if attempt >= self.max_retries:
            return None
        wanted = self._wanted(attempt, response, error, idempotent)
        if wanted is None or waited_s + wanted > self.max_wait_s:
            return None
        return wanted

    def _wanted(self, attempt: int, response: httpx2.Response | None, error: Exception | None,
                idempotent: bool) -> float | None:
        if response is not None:
            if response.status_code == 429 or (idempotent and response.status_code in RETRY_STATUSES_IDEMPOTENT):
                told = retry_after_s(response.headers, self._clock.time())
                return told if told is not None else self._backoff(attempt)
            return None
        import httpx2

        # Errors raised after the request may have reached the API: a retry could repeat its effect.
        broken_after_sending = (httpx2.ReadError, httpx2.WriteError, httpx2.RemoteProtocolError)
        if isinstance(error, httpx2.ConnectError) or (idempotent and isinstance(error, broken_after_sending)):
            return self._backoff(attempt)
        return None

    def _backoff(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^attempt)), so clients that failed together spread."""
        return self._jitter() * min(self.cap_s, self.base_s * 2.0 ** attempt)
