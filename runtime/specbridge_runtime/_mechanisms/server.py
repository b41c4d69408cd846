"""An MCP server (`mcp.server.lowlevel.Server`) serving any `ToolProvider`: a REST package, a wrapper or a
gateway. Transports (`_transports.py`) run it; in tests `mcp.Client(build_server(provider))` talks to it
in-process.

- tools/list answers the provider's tools in one page (a cursor, which this server never hands out, is
  the protocol error -32602, invalid params);
- tools/call runs the provider's call with the authenticated caller set (`current_caller()`), and turns
  any failure into an error result: the server never dies of a call. A tool the provider does not have
  is the protocol error -32602, as the MCP specification lists it;
- the provider's tool-list changes reach clients as `notifications/tools/list_changed` (handshake-era
  sessions) and on `subscriptions/listen` streams (2026-07-28 clients);
- the provider is started when the first connection (or the HTTP app) begins and stopped after the last.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import anyio
import mcp_types as types
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.context import HandlerResult, ServerRequestContext
from mcp.server.lowlevel import NotificationOptions, Server
from mcp.server.models import InitializationOptions
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError
from starlette.requests import HTTPConnection

from .._core.caller import Caller, calling_as
from .._core.seams import ToolProvider
from .lifetime import ProviderLifetime
from .tool_calls import UnknownTool, call_result

logger = logging.getLogger(__name__)

ProviderServer = Server[dict[str, Any]]
# Handshake-era sessions remembered for list_changed notifications; the oldest are forgotten beyond this.
_MAX_REMEMBERED_SESSIONS = 1024
_NOTIFY_TIMEOUT_S = 5.0


@runtime_checkable
class ToolEntriesSource(Protocol):
    """A provider that can answer tools/list with ready JSON entries (a generated package's `tools.json`)."""

    def tool_entries(self) -> Sequence[Mapping[str, Any]]: ...


class _ListChangedServer(Server[dict[str, Any]]):
    """A lowlevel server that advertises `tools.listChanged` unless told otherwise, on every transport."""

    def create_initialization_options(
        self,
        notification_options: NotificationOptions | None = None,
        experimental_capabilities: dict[str, dict[str, Any]] | None = None,
        extensions: dict[str, dict[str, Any]] | None = None,
    ) -> InitializationOptions:
        return super().create_initialization_options(
            notification_options or NotificationOptions(tools_changed=True), experimental_capabilities, extensions)


class _ToolListChanges:
    """Fans the provider's "tools changed" out to every connected client, in both protocol eras."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._sessions: deque[ServerSession] = deque(maxlen=_MAX_REMEMBERED_SESSIONS)

    async def remember(self, ctx: ServerRequestContext[Any], params: types.NotificationParams) -> None:
        self._sessions.append(ctx.session)

    async def notify(self) -> None:
        await self.bus.publish(ToolsListChanged())
        for session in list(self._sessions):
            try:
                with anyio.fail_after(_NOTIFY_TIMEOUT_S):
                    await session.send_tool_list_changed()
            except Exception:  # a closed or stuck connection: forget it
                logger.debug("dropping a session that could not be notified", exc_info=True)
                if session in self._sessions:
                    self._sessions.remove(session)


class _InputSchemas:
    """A fixed tool set's input schemas by name (its `tools.json` entries, read at the first use): the SDK
    checks a 2026-07-28 call's `Mcp-Param-*` headers against them, instead of running tools/list per call."""

    def __init__(self, source: ToolEntriesSource) -> None:
        self._source = source
        self._schemas: dict[str, Mapping[str, Any] | None] | None = None

    def __call__(self, name: str) -> Mapping[str, Any] | None:
        if self._schemas is None:
            self._schemas = {entry["name"]: entry.get("inputSchema") for entry in self._source.tool_entries()}
        return self._schemas.get(name)


def build_server(provider: ToolProvider, *, version: str = "", title: str | None = None,
                 instructions: str | None = None, lifetime: ProviderLifetime | None = None) -> ProviderServer:
    """An MCP server named after `provider` that serves its tools; `lifetime` when the provider is also
    served by another path (the stdio lane), so it starts once and stops after the last."""
    lifetime = lifetime or ProviderLifetime(provider)
    changes = _ToolListChanges()

    async def on_list_tools(ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams) -> HandlerResult:
        if params.cursor:
            raise MCPError(types.INVALID_PARAMS, "invalid cursor: this server lists every tool in one page")
        if isinstance(provider, ToolEntriesSource):
            # The result's other fields (cache hints, result type) as the SDK dumps them, then the entries;
            # the SDK validates and shapes it for the connection's protocol version like any result.
            result = types.ListToolsResult(tools=[]).model_dump(by_alias=True, mode="json", exclude_none=True)
            return {**result, "tools": list(provider.tool_entries())}
        with calling_as(caller_of(ctx)):  # a gateway lists only what this caller may use
            return types.ListToolsResult(tools=list(await provider.list_tools()))

    async def on_call_tool(ctx: ServerRequestContext[Any], params: types.CallToolRequestParams) -> types.CallToolResult:
        with calling_as(caller_of(ctx)):
            try:
                return await call_result(provider, params.name, params.arguments or {})
            except UnknownTool as error:
                raise MCPError(types.INVALID_PARAMS, error.message) from None

    server = _ListChangedServer(
        provider.name, version=version, title=title, instructions=instructions,
        lifespan=lambda _server: lifetime.hold(), on_call_tool=on_call_tool,
        get_tool_input_schema=_InputSchemas(provider) if isinstance(provider, ToolEntriesSource) else None,
        on_subscriptions_listen=ListenHandler(changes.bus))
    server.add_request_handler("tools/list", types.PaginatedRequestParams, on_list_tools)
    server.add_notification_handler("notifications/initialized", types.NotificationParams, changes.remember)
    provider.on_tools_changed(changes.notify)
    return server


def caller_of(ctx: ServerRequestContext[Any]) -> Caller | None:
    """The client authenticated by inbound auth for this request: from the HTTP request that carried it,
    else from the SDK's auth context."""
    request = ctx.request
    user = request.scope.get("user") if isinstance(request, HTTPConnection) else None
    if isinstance(user, AuthenticatedUser):
        return Caller.from_access_token(user.access_token)
    token = get_access_token()
    return Caller.from_access_token(token) if token is not None else None
