"""A provider's lifetime shared by the paths that serve it: started for the first holder, stopped after
the last (an HTTP app holds it for its whole life, stdio and SSE connections for theirs, an in-process
client for its session; the stdio lane and the SDK server it hands messages to, together)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio

from .._core.seams import ToolProvider


class ProviderLifetime:
    """`hold()`: the provider runs while anyone holds it."""

    def __init__(self, provider: ToolProvider) -> None:
        self._provider = provider
        self._holders = 0
        self._started: anyio.Event | None = None

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[dict[str, Any]]:
        self._holders += 1
        try:
            if self._holders == 1:
                self._started = anyio.Event()
                try:
                    await self._provider.start()
                finally:
                    self._started.set()
            elif self._started is not None:
                await self._started.wait()
            yield {}
        finally:
            self._holders -= 1
            if self._holders == 0:
                with anyio.CancelScope(shield=True):
                    await self._provider.stop()
