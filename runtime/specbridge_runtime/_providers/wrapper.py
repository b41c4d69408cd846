"""A wrapper: the tools of another MCP server (the upstream), re-exposed as `<name>_<tool>` with this
runtime's credentials, limits and audit around every call.

One background task owns the connection (`_supervise`): it connects, lists the tools, follows the
upstream's list changes, and after a failure reconnects with capped exponential backoff. While the
upstream is down, calls get at once an error result that says so (never a hang), and the last known
tools stay listed so a client's plan does not turn into "unknown tool".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client._transport import TransportStreams
from mcp.client.session import IncomingMessage, MessageHandlerFnT
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .._core.caller import current_principal
from .._core.descriptors import Limits, RemoteUpstream, StdioUpstream
from .._core.errors import (
    ConnectionFailed,
    InvalidResponse,
    OperationNotFound,
    SpecbridgeError,
    ToolError,
    UpstreamError,
    UpstreamTimeout,
)
from .._core.naming import disambiguate, wrapped_tool_name
from .._core.seams import AuditSink, CallGate, CallRecord, DurableAudit
from .._mechanisms.audit import arguments_digest
from .._mechanisms.limits import LimitGate, timeout_for
from .._mechanisms.response import redact_secrets
from .._mechanisms.secrets import Secrets

logger = logging.getLogger(__name__)

_MAX_LIST_PAGES = 100  # an upstream whose cursor never ends cannot hang the listing
_PROTOCOL_META = "io.modelcontextprotocol/"
_STOP_TIMEOUT_S = 5.0
_TRANSPORT_FAILURES = (OSError, httpx2.HTTPError, anyio.BrokenResourceError, anyio.ClosedResourceError)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between reconnection attempts: `first_s`, doubling, at most `max_s`."""

    first_s: float = 0.5
    max_s: float = 30.0

    def delay(self, failures: int) -> float:
        return float(min(self.first_s * 2 ** max(failures - 1, 0), self.max_s))


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """What `check` reports: whether the upstream answered, and what it offered."""

    connected: bool
    detail: str
    tools: tuple[str, ...] = ()
    server: str = ""


class _Connection:
    """Signals between the supervisor and the rest: why the connection should be looked at again."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.closed = False
        self.broken: str | None = None
        self.relist = False


class WrapperProvider:
    """`ToolProvider` over an upstream MCP server."""

    def __init__(
        self,
        name: str,
        upstream: StdioUpstream | RemoteUpstream,
        *,
        secrets: Secrets,
        gate: CallGate | None = None,
        audit: AuditSink | None = None,
        limits: Limits | None = None,
        backoff: Backoff | None = None,
        connect_timeout_s: float = 30.0,
        audit_arguments: bool = False,
        durable: DurableAudit | None = None,
    ) -> None:
        self._name = name
        self._durable = durable  # see RestProvider: refused while the audit is down, answered once recorded
        self.upstream = upstream
        self._secrets = secrets
        self._limits = limits if limits is not None else Limits()
        self._gate: CallGate = gate if gate is not None else LimitGate(name, self._limits)
        self._audit = audit
        self._backoff = backoff if backoff is not None else Backoff()
        self._connect_timeout_s = connect_timeout_s
        self._audit_arguments = audit_arguments
        self._callbacks: list[Callable[[], Awaitable[None]]] = []
        self._tools: dict[str, types.Tool] = {}  # exposed name -> tool as exposed
        self._upstream_names: dict[str, str] = {}  # exposed name -> upstream name
        self._client: Client | None = None
        self._connection: _Connection | None = None
        self._server = ""
        self._down: str | None = None
        self.failure: BaseException | None = None  # what the last connection attempt failed with
        self._attempted = asyncio.Event()  # the first connection attempt has finished, either way
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self._name

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._supervise(), name=f"specbridge wrapper {self._name}")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._stopping.set()
        if self._connection is not None:
            self._connection.wake.set()
        task, self._task = self._task, None
        # A polite close (a session DELETE, a child's exit) gets a few seconds; then the connection is cut.
        done, _ = await asyncio.wait({task}, timeout=_STOP_TIMEOUT_S)
        if not done:
            logger.warning("%s: the upstream connection did not close within %g s; cutting it", self._name,
                           _STOP_TIMEOUT_S)
            task.cancel()
            await asyncio.wait({task})

    def on_tools_changed(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._callbacks.append(callback)

    async def list_tools(self) -> Sequence[types.Tool]:
        await self._first_attempt()
        return list(self._tools.values())

    async def status(self) -> UpstreamStatus:
        """Connect if needed and say whether the upstream answers (the `check` command)."""
        from .._mechanisms.mcp_transports import describe

        await self._first_attempt()
        if self._client is None:
            return UpstreamStatus(False, self._down_message())
        return UpstreamStatus(
            True, f"connected to {describe(self.upstream)}", tuple(self._upstream_names.values()), self._server
        )

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        started = time.monotonic()
        await self._first_attempt()
        try:
            if self._durable is not None:
                self._durable.check()
            result = await self._forward(name, arguments)
            status = "error" if result.is_error else "ok"
        except OperationNotFound as exc:  # the caller's mistake, answered as a protocol error; audited too
            self._record(name, arguments, exc.to_result(), exc.status, started)
            raise
        except ToolError as exc:
            result, status = exc.to_result(), exc.status
        self._record(name, arguments, result, status, started)
        if self._durable is not None:
            await self._durable.settled()
        return result

    async def _forward(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        client = self._client
        if client is None:  # checked first: while down, the tool list may be unknown or stale
            raise UpstreamDown(self._down_message())
        upstream_name = self._upstream_names.get(name)
        if upstream_name is None:
            raise OperationNotFound(f"connector {self._name} has no tool {name!r}")
        timeout_s = timeout_for(self._limits, name)
        try:
            async with self._gate.enter(name):
                with anyio.fail_after(timeout_s):
                    result = await client.call_tool(upstream_name, dict(arguments), read_timeout_seconds=timeout_s)
        except TimeoutError:
            raise UpstreamTimeout(f"{self._name}: the upstream tool {upstream_name!r} did not answer within "
                                  f"{timeout_s:g} s") from None
        except MCPError as exc:
            if exc.code == types.CONNECTION_CLOSED:
                raise self._broke("the connection closed during the call") from None
            if exc.code == types.REQUEST_TIMEOUT:
                raise UpstreamTimeout(f"{self._name}: the upstream tool {upstream_name!r} timed out") from None
            refusal = redact_secrets(exc.message)
            raise UpstreamError(f"{self._name}: the upstream server refused the call: {refusal}") from None
        except RuntimeError as exc:  # the SDK's check of structured content against the tool's outputSchema
            raise InvalidResponse(f"{self._name}: the upstream server's answer was invalid: {exc}") from None
        except _TRANSPORT_FAILURES as exc:
            raise self._broke(_cause(exc)) from None
        if result.is_error:  # an upstream that echoes the credentials it was sent does not hand them on
            result = result.model_copy(update={"content": [_without_secrets(item) for item in result.content]})
        return result.model_copy(update={"meta": _own_meta(result.meta)})

    def _broke(self, cause: str) -> UpstreamDown:
        """A call found the connection dead: have the supervisor reconnect, and say it is down."""
        connection = self._connection
        if connection is not None and connection.broken is None:
            connection.broken = cause
            connection.wake.set()
        self._down = cause
        return UpstreamDown(self._down_message())

    def _down_message(self) -> str:
        cause = self._down or "not connected yet"
        return f"upstream MCP server {self._name} is down: {cause}; retrying"

    def _record(
        self, tool: str, arguments: Mapping[str, Any], result: types.CallToolResult, status: str, started: float
    ) -> None:
        if self._audit is None:
            return
        digest, size, kept = arguments_digest(arguments, keep=self._audit_arguments)
        self._audit.record(
            CallRecord(
                time=time.time(),
                connector=self._name,
                tool=tool,
                status=status,
                http_status=None,
                latency_ms=(time.monotonic() - started) * 1000,
                bytes_out=size,
                bytes_in=len(result.model_dump_json(by_alias=True, exclude_none=True)),
                retries=0,
                arguments_hash=digest,
                arguments_size=size,
                arguments=kept,
                caller=current_principal(),
            )
        )

    async def _first_attempt(self) -> None:
        """Start lazily, and let the first connection attempt finish (bounded) before answering."""
        await self.start()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._attempted.wait(), self._connect_timeout_s)

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            connection = self._connection = _Connection()
            try:
                await self._serve_connection(connection)
            except SpecbridgeError as exc:  # configuration or credentials: its message says what to do
                self._down, self.failure = str(exc), exc
            except Exception as exc:  # any failure of the upstream is reported and retried, never raised
                self._down, self.failure = _cause(exc), _innermost(exc)
            finally:
                self._client = None
                self._connection = None
            self._attempted.set()
            if self._stopping.is_set():
                break
            failures = 1 if connection.broken is not None or connection.closed else failures + 1
            logger.warning("%s", self._down_message())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._backoff.delay(failures))

    async def _serve_connection(self, connection: _Connection) -> None:
        # Imported here: the client transports (OAuth, SSE, WebSocket) cost a REST server's start nothing.
        from .._mechanisms.mcp_transports import open_transport

        transport = _watch_close(open_transport(self.upstream, self._secrets), connection)
        handler = _notification_handler(connection)
        # The client's read timeout bounds the handshake and listings; calls set their own.
        client = Client(transport, cache=None, message_handler=handler, read_timeout_seconds=self._connect_timeout_s)
        async with client, anyio.create_task_group() as tasks:
            try:
                await self._relist(client)
                info = client.server_info
                self._server = f"{info.name} {info.version}" if info is not None else ""
                self._client, self._down, self.failure = client, None, None
                self._attempted.set()
                if _listens_for_changes(client):
                    tasks.start_soon(_listen_for_changes, client, connection)
                await self._follow(client, connection)
            finally:
                self._client = None
                tasks.cancel_scope.cancel()

    async def _follow(self, client: Client, connection: _Connection) -> None:
        """Re-list on change notifications until the connection ends or the provider stops."""
        while True:
            await connection.wake.wait()
            connection.wake.clear()
            if self._stopping.is_set():
                return
            if connection.broken is not None or connection.closed:
                self._down = connection.broken or "the connection closed"
                return
            if connection.relist:
                connection.relist = False
                await self._relist(client)

    async def _relist(self, client: Client) -> None:
        listed: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(_MAX_LIST_PAGES):
            page = await client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None:
                break
        tools: dict[str, types.Tool] = {}
        upstream_names: dict[str, str] = {}
        for tool in listed:
            exposed = wrapped_tool_name(self._name, tool.name)
            if exposed in tools:  # two upstream names that clean to the same text ("a.b", "a_b")
                exposed = disambiguate(exposed, tool.name)
            # Everything the upstream said is kept (title, description, schemas, annotations, icons, _meta);
            # task execution is not forwarded by this wrapper, so it is not advertised.
            tools[exposed] = tool.model_copy(update={"name": exposed, "execution": None, "meta": _own_meta(tool.meta)})
            upstream_names[exposed] = tool.name
        changed = _fingerprint(tools) != _fingerprint(self._tools)
        self._tools, self._upstream_names = tools, upstream_names
        if changed and self._attempted.is_set():
            await self._tools_changed()

    async def _tools_changed(self) -> None:
        for callback in self._callbacks:
            try:
                await callback()
            except Exception:  # a failing listener must not stop the connection's supervisor
                logger.exception("tools-changed callback of %s failed", self._name)


def _notification_handler(connection: _Connection) -> MessageHandlerFnT:
    async def handle(message: IncomingMessage) -> None:
        if isinstance(message, types.ToolListChangedNotification):
            connection.relist = True
            connection.wake.set()
        await anyio.lowlevel.checkpoint()

    return handle


def _listens_for_changes(client: Client) -> bool:
    """2026-07-28 servers announce tool changes on a `subscriptions/listen` stream, not by notification."""
    tools = client.server_capabilities.tools
    return client.protocol_version in MODERN_PROTOCOL_VERSIONS and tools is not None and bool(tools.list_changed)


async def _listen_for_changes(client: Client, connection: _Connection) -> None:
    try:
        async with client.listen(tools_list_changed=True) as subscription:
            async for _event in subscription:
                connection.relist = True
                connection.wake.set()
    except Exception as exc:  # a lost subscription means a lost connection: reconnect and re-listen
        if connection.broken is None:
            connection.broken = f"the change subscription ended: {_cause(exc)}"
        connection.wake.set()


@asynccontextmanager
async def _watch_close(
    transport: AbstractAsyncContextManager[TransportStreams], connection: _Connection
) -> AsyncIterator[TransportStreams]:
    """The transport, with its read stream's end (the server went away) reported to the supervisor."""
    async with transport as (read_stream, write_stream):
        watched_writer, watched = anyio.create_memory_object_stream[SessionMessage | Exception](0)

        async def relay() -> None:
            async with watched_writer:
                with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
                    async for item in read_stream:
                        await watched_writer.send(item)
            connection.closed = True
            connection.wake.set()

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(relay)
            try:
                yield watched, write_stream
            finally:
                tasks.cancel_scope.cancel()


def _without_secrets(item: types.ContentBlock) -> types.ContentBlock:
    if isinstance(item, types.TextContent):
        return item.model_copy(update={"text": redact_secrets(item.text)})
    return item


def _own_meta(meta: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The upstream's `_meta` without the protocol's own keys, which describe the upstream connection
    (its server info, its subscription ids), not this server's."""
    if not meta:
        return None
    kept = {key: value for key, value in meta.items() if not key.startswith(_PROTOCOL_META)}
    return kept or None


def _fingerprint(tools: Mapping[str, types.Tool]) -> list[dict[str, Any]]:
    return [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools.values()]


def _innermost(exc: BaseException) -> BaseException:
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _cause(exc: BaseException) -> str:
    """A short description of a failure, from the innermost exception of a group."""
    text = str(_innermost(exc)).strip() or type(_innermost(exc)).__name__
    return text.splitlines()[0][:300]


class UpstreamDown(ConnectionFailed):
    status = "upstream_down"
    hint = "Ensure the upstream MCP server is running and reachable; this wrapper reconnects by itself."
