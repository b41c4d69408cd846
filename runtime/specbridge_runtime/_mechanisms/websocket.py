"""MCP over WebSocket, client side: one JSON-RPC message per text frame, subprotocol `mcp`.

mcp 2.x ships no WebSocket transport, so this one is built on httpx2's `AsyncClient.websocket`. It is
a `mcp.client.Transport`: an async context manager yielding the (read, write) stream pair that
`mcp.Client` and `ClientSession` drive. When the connection drops the read stream ends, which the
session sees as a closed connection.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import anyio
import httpx2
import mcp_types as types
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from httpx2.websockets import (
    AsyncWebSocketSession,
    WebSocketDisconnect,
    WebSocketInvalidTypeReceived,
    WebSocketNetworkError,
)
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage
from pydantic import ValidationError

SUBPROTOCOL = "mcp"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


@asynccontextmanager
async def websocket_client(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    auth: httpx2.Auth | None = None,
    timeout_s: float = 30.0,
    max_message_bytes: int = MAX_MESSAGE_BYTES,
) -> AsyncIterator[TransportStreams]:
    """Connect to `url` (ws:// or wss://) and carry MCP messages over it."""
    async with (
        httpx2.AsyncClient(headers=dict(headers or {}), auth=auth, timeout=timeout_s) as http,
        http.websocket(url, subprotocols=[SUBPROTOCOL], max_message_size_bytes=max_message_bytes) as ws,
    ):
        read_writer, read_stream = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        write_stream, write_reader = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_receive_frames, ws, read_writer)
            tasks.start_soon(_send_frames, ws, write_reader)
            try:
                yield read_stream, write_stream
            finally:
                tasks.cancel_scope.cancel()
                await read_stream.aclose()
                await write_stream.aclose()


async def _receive_frames(
    ws: AsyncWebSocketSession, sink: MemoryObjectSendStream[SessionMessage | Exception]
) -> None:
    async with sink:
        while True:
            try:
                text = await ws.receive_text()
            except (WebSocketDisconnect, WebSocketNetworkError):
                return  # closing the sink tells the session the connection ended
            except WebSocketInvalidTypeReceived as exc:
                await sink.send(exc)  # a binary frame is not an MCP message; the session reports it
                continue
            try:
                message = types.jsonrpc_message_adapter.validate_json(text, by_name=False)
            except ValidationError as exc:
                await sink.send(exc)
                continue
            await sink.send(SessionMessage(message))


async def _send_frames(ws: AsyncWebSocketSession, source: MemoryObjectReceiveStream[SessionMessage]) -> None:
    async with source:
        async for session_message in source:
            await ws.send_text(session_message.message.model_dump_json(by_alias=True, exclude_unset=True))
