"""stdio for the fast lane (`lane.Lane`): newline-delimited JSON-RPC on the process's pipes, on the
event loop itself.

Each line is parsed (orjson) and routed by the lane: its answers are written at once, its calls run as
tasks (answered when done, never when cancelled). A message the lane delegates goes to the SDK's own
server on this connection (`_Shadow`), built on first use: the SDK's stdio transport, fed these lines.
The SDK's server is first given what brings it to the lane's session (`Lane.prime`: the same `initialize`
and `initialized`, or an enveloped request that opens the 2026-07-28 era; their answers are dropped); when
nothing can (no initialize yet), the SDK takes the whole connection from the delegated line on, as it would
have from the start. A line orjson cannot read goes to
the SDK too, which answers it as it answers any line.

When the client's output falls behind, stdin is no longer read until it catches up. At the end of stdin,
calls in flight are cancelled (as the SDK does) and the answers already written reach the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, cast

import orjson

from .lane import DELEGATE, Call, Cancel, Lane
from .lifetime import ProviderLifetime
from .pipes import LineSplitter, OutputProtocol, line_text

if TYPE_CHECKING:
    import anyio

    from .server import ProviderServer

logger = logging.getLogger(__name__)

_CLOSE_TIMEOUT_S = 10.0
# The id of the `initialize` that brings the SDK's session to the lane's; its answer is not the client's.
PRIME_ID = "specbridge-lane-initialize"


class _QueuedLines:
    """What the SDK's stdio transport iterates as stdin: the lines the lane hands over, until `None`."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        while (line := await self.queue.get()) is not None:
            yield line


class _ShadowOutput:
    """What the SDK's stdio transport writes to: the connection's stdout, less the answer to `PRIME_ID`."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        if PRIME_ID in text and orjson.loads(text).get("id") == PRIME_ID:
            return
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


class _Shadow:
    """The SDK's server on this connection (see the module's docstring)."""

    def __init__(self, server: ProviderServer, writer: asyncio.StreamWriter) -> None:
        self._lines = _QueuedLines()
        self._task = asyncio.get_running_loop().create_task(self._serve(server, _ShadowOutput(writer)))

    def send(self, text: str) -> None:
        self._lines.queue.put_nowait(text)

    async def _serve(self, server: ProviderServer, output: _ShadowOutput) -> None:
        from .transports import serve_stdio_streams

        await serve_stdio_streams(server, cast("anyio.AsyncFile[str]", self._lines),
                                  cast("anyio.AsyncFile[str]", output))

    async def close(self) -> None:
        self._lines.queue.put_nowait(None)
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await self._task
        except TimeoutError:
            logger.warning("the SDK's stdio session did not end within %s s", _CLOSE_TIMEOUT_S)
        except Exception:
            logger.exception("the SDK's stdio session failed")


class _Input(asyncio.Protocol):
    """stdin, split into lines; `ended` is done at its end (or when it breaks)."""

    def __init__(self, on_line: Callable[[bytes], None]) -> None:
        self._on_line = on_line
        self._splitter = LineSplitter()
        self.ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        for line in self._splitter.feed(data):
            self._on_line(line)

    def connection_lost(self, exc: Exception | None) -> None:
        ended, rest = self._splitter.end()
        for line in [*ended, rest] if rest else ended:
            self._on_line(line)
        if not self.ended.done():
            self.ended.set_result(None)


class _LaneConnection:
    def __init__(self, lane: Lane, sdk_server: Callable[[], ProviderServer], writer: asyncio.StreamWriter) -> None:
        self._lane = lane
        self._sdk_server = sdk_server
        self._writer = writer
        self._calls: dict[int | str, asyncio.Task[None]] = {}
        self._shadow: _Shadow | None = None
        self._sdk_owns = False  # the SDK serves the whole connection (it was handed a line before initialize)

    def line(self, raw: bytes) -> None:
        try:
            self._route(raw)
        except Exception:  # a bug here must not end the connection; the SDK's server answers instead
            logger.exception("the stdio lane could not route a message")
            self._delegate(raw)

    def _route(self, raw: bytes) -> None:
        if self._sdk_owns:
            self._delegate(raw)
            return
        try:
            message: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            self._delegate(raw)
            return
        outcome = self._lane.route(message)
        if isinstance(outcome, bytes):
            self._writer.write(outcome)
        elif isinstance(outcome, Call):
            self._start(outcome)
        elif isinstance(outcome, Cancel):
            self._cancel(outcome, raw)
        elif outcome is DELEGATE:
            self._delegate(raw)

    def _start(self, call: Call) -> None:
        self._calls[call.request_id] = asyncio.get_running_loop().create_task(self._answer(call))

    def _cancel(self, cancel: Cancel, raw: bytes) -> None:
        task = self._calls.get(cancel.request_id)
        if task is not None:
            task.cancel()
        elif self._shadow is not None:  # a request the SDK's server runs
            self._shadow.send(line_text(raw))

    async def _answer(self, call: Call) -> None:
        try:
            line = await call.answer()
        finally:
            self._calls.pop(call.request_id, None)
        self._writer.write(line)
        with contextlib.suppress(ConnectionError):  # the client is gone: nothing more to answer
            await self._writer.drain()

    def _delegate(self, raw: bytes) -> None:
        if self._shadow is None:
            self._shadow = _Shadow(self._sdk_server(), self._writer)
            self._lane.shadowed = True
            prime = self._lane.prime(PRIME_ID)
            self._sdk_owns = prime is None
            for message in prime or ():
                self._shadow.send(orjson.dumps(message).decode() + "\n")
        self._shadow.send(line_text(raw))

    async def close(self) -> None:
        calls = list(self._calls.values())
        for task in calls:
            task.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        if self._shadow is not None:
            await self._shadow.close()


async def serve_lane(lane: Lane, lifetime: ProviderLifetime, sdk_server: Callable[[], ProviderServer],
                     wires: tuple[int, int]) -> None:
    """Serve one client on the claimed stdin and stdout `wires` (see `pipes.claimed_stdio`) until stdin ends."""
    loop = asyncio.get_running_loop()
    reading: list[asyncio.ReadTransport] = []

    def pause_input(paused: bool) -> None:
        for transport in reading:
            transport.pause_reading() if paused else transport.resume_reading()

    write_transport, protocol = await loop.connect_write_pipe(
        lambda: OutputProtocol(pause_input), os.fdopen(wires[1], "wb", buffering=0))
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    try:
        async with lifetime.hold():
            connection = _LaneConnection(lane, sdk_server, writer)
            read_transport, stdin = await loop.connect_read_pipe(
                lambda: _Input(connection.line), os.fdopen(wires[0], "rb", buffering=0))
            reading.append(read_transport)
            try:
                await stdin.ended
            finally:
                read_transport.close()
                await connection.close()
    finally:
        writer.close()  # what the server wrote last still reaches the client, unless it stopped reading
        try:
            async with asyncio.timeout(_CLOSE_TIMEOUT_S):
                await protocol.closed
        except TimeoutError:
            write_transport.abort()
