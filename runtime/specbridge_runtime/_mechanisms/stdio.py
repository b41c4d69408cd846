"""The byte streams of the stdio transport, read and written by the event loop itself.

The MCP SDK's `stdio_server` reads stdin and writes stdout through anyio file wrappers: a worker thread
for every line read, every write and every flush. `stdio_pipes()` gives it asyncio pipe transports
instead; framing, JSON-RPC parsing, errors and shutdown stay the SDK's, as it only iterates lines and
writes and flushes text. Like the SDK, it claims fds 0 and 1 while serving (fd 0 reads the null device,
fd 1 writes to stderr; both restored after), so stray output of handlers and children misses the wire.

Only for pipes and sockets, which is how MCP clients start servers: for a terminal, a regular file or
another platform it yields `(None, None)`, and the SDK serves with its own wrappers (asyncio cannot watch
a regular file, and making a terminal non-blocking would change it for every process sharing it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType
from typing import cast

import anyio
from mcp.shared._stream_protocols import ReadStream, WriteStream
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

from .pipes import LineSplitter, OutputProtocol, claimed_stdio, line_text

_CHUNK = 1 << 16
_CLOSE_TIMEOUT_S = 10.0


class _Lines:
    """What `stdio_server` iterates stdin as: decoded lines, exactly as a UTF-8 text file with replacement
    and universal newlines yields them (`\\r\\n` and a lone `\\r` end lines too, and read as `\\n`)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> AsyncIterator[str]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[str]:
        splitter = LineSplitter()
        while chunk := await self._reader.read(_CHUNK):
            for line in splitter.feed(chunk):
                yield line_text(line)
        ended, rest = splitter.end()
        for line in ended:
            yield line_text(line)
        if rest:
            yield rest.decode("utf-8", errors="replace")


class _Output:
    """What `stdio_server` writes messages to: text, encoded as UTF-8; `flush` waits while the client is
    behind (above the transport's high-water mark) and raises once the pipe is gone."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writer.drain()


@asynccontextmanager
async def stdio_pipes() -> AsyncIterator[tuple[anyio.AsyncFile[str] | None, anyio.AsyncFile[str] | None]]:
    """`(stdin, stdout)` for `mcp.server.stdio.stdio_server`: asyncio pipe transports on the process's
    stdin and stdout, or `(None, None)` (the SDK's own) when they are not pipes or sockets."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:  # another event loop than asyncio's
        loop = None
    if loop is None:
        yield None, None
        return
    with claimed_stdio() as wires:
        if wires is None:
            yield None, None
            return
        async with _transports(loop, *wires) as (lines, output):
            # The SDK only iterates `stdin` and writes and flushes `stdout`, which these do without threads.
            yield cast("anyio.AsyncFile[str]", lines), cast("anyio.AsyncFile[str]", output)


@asynccontextmanager
async def _transports(loop: asyncio.AbstractEventLoop, wire_in: int,
                      wire_out: int) -> AsyncIterator[tuple[_Lines, _Output]]:
    reader = asyncio.StreamReader(limit=_CHUNK, loop=loop)
    read_transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), os.fdopen(wire_in, "rb", buffering=0))
    try:
        write_transport, protocol = await loop.connect_write_pipe(
            OutputProtocol, os.fdopen(wire_out, "wb", buffering=0))
    except BaseException:
        read_transport.close()
        raise
    writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
    try:
        yield _Lines(reader), _Output(writer)
    finally:
        read_transport.close()
        writer.close()  # what the server wrote last still reaches the client, unless it stopped reading
        with anyio.move_on_after(_CLOSE_TIMEOUT_S, shield=True):
            await protocol.closed
        if not protocol.closed.done():
            write_transport.abort()


class AnsweringMalformed:
    """The server's read stream with every line that is not a JSON-RPC message answered, as JSON-RPC 2.0
    requires: -32700 (parse error) for text that is not JSON, -32600 (invalid request) for JSON that is not
    a message, both with `id: null`. The SDK's stdio transport only hands the server the exception, which
    it logs, and the client would wait for an answer forever."""

    def __init__(self, inner: ReadStream[SessionMessage | Exception], replies: WriteStream[SessionMessage]) -> None:
        self._inner = inner
        self._replies = replies

    @property
    def last_context(self) -> object:
        # The SDK reads the sender's context from here (see `ReadStream`).
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage | Exception:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, ValidationError):
                return item
            not_json = any(problem["type"] == "json_invalid" for problem in item.errors())
            code, what = (PARSE_ERROR, "parse error: the line is not JSON") if not_json else (
                INVALID_REQUEST, "invalid request: the line is not a JSON-RPC 2.0 message")
            await self._replies.send(SessionMessage(JSONRPCError(jsonrpc="2.0", id=None,
                                                                 error=ErrorData(code=code, message=what))))

    async def aclose(self) -> None:
        await self._inner.aclose()

    def __aiter__(self) -> AnsweringMalformed:
        return self

    async def __anext__(self) -> SessionMessage | Exception:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AnsweringMalformed:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                        exc_tb: TracebackType | None) -> None:
        await self.aclose()
