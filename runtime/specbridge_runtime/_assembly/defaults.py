"""The simplest implementations of the call-path seams: what a REST provider uses until the assembly
(`_assembly.py`) gives it real limits, credentials, retries and audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2

from .._core.descriptors import Operation
from .._core.seams import UpstreamAuth


class UnlimitedGate:
    """`CallGate` that lets every call start at once."""

    @asynccontextmanager
    async def enter(self, tool: str) -> AsyncIterator[None]:
        yield

    async def pause(self, seconds: float) -> None:
        return None


class NoCredentials:
    """`UpstreamAuth` that adds nothing: the request already carries the connector's plain static headers."""

    async def apply(self, request: httpx2.Request) -> None:
        return None

    async def refresh(self) -> bool:
        return False


_NO_CREDENTIALS = NoCredentials()


def no_credentials(operation: Operation) -> UpstreamAuth:
    """The `auth_for` factory of a connector without credentials."""
    return _NO_CREDENTIALS


class NeverRetry:
    """`RetryPolicy` that sends every request once."""

    def delay(self, attempt: int, response: httpx2.Response | None, error: Exception | None, idempotent: bool,
              waited_s: float) -> float | None:
        return None
