"""The extension points of the call path, one method each where possible.

A REST call goes: validate arguments -> limits (`CallGate`) -> build request -> auth (`UpstreamAuth`)
-> send with retries (`RetryPolicy`) -> read within the size limit -> map to an MCP result -> audit
(`AuditSink`). Wrappers and the gateway use the same gate and audit around their upstream calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # only named in annotations: a server imports none of them to answer tools/list
    import httpx2
    import mcp_types as types
    from mcp.server.auth.provider import TokenVerifier


class ToolProvider(Protocol):
    """A source of tools that an MCP server serves: a REST package, a wrapper or a gateway."""

    @property
    def name(self) -> str: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def list_tools(self) -> Sequence[types.Tool]: ...

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult: ...

    def on_tools_changed(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Register a callback the provider awaits when its tool list changed."""
        ...


class UpstreamAuth(Protocol):
    """Authenticates requests to the upstream API for one operation's security requirement."""

    async def apply(self, request: httpx2.Request) -> None:
        """Add credentials to the request (headers, query parameters, cookies)."""
        ...

    async def refresh(self) -> bool:
        """Called once after a 401; True when the credentials changed and a retry may succeed."""
        ...


class CallGate(Protocol):
    """Concurrency and rate limits. `enter(tool)` waits for a slot (bounded) or raises
    `LimitExceeded`; leaving the context frees the slot. `pause(seconds)`: the upstream said to wait
    (429 `Retry-After`), so no call of the connector starts sooner, in any replica sharing the limits."""

    def enter(self, tool: str) -> AbstractAsyncContextManager[None]: ...

    async def pause(self, seconds: float) -> None: ...


class RetryPolicy(Protocol):
    """Decides whether and when to send a request again."""

    def delay(self, attempt: int, response: httpx2.Response | None, error: Exception | None,
              idempotent: bool, waited_s: float) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to stop retrying."""
        ...


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One audited call. Never holds a secret or (unless opted in) the arguments themselves."""

    time: float
    connector: str
    tool: str
    status: str  # "ok" or an error class such as "http_404", "timeout", "invalid_arguments"
    http_status: int | None
    latency_ms: float
    bytes_out: int
    bytes_in: int
    retries: int
    arguments_hash: str
    arguments_size: int
    arguments: str | None = None
    caller: str | None = None


class AuditSink(Protocol):
    def record(self, call: CallRecord) -> None: ...


class DurableAudit(Protocol):
    """What an audit shared by replicas promises (PostgreSQL): a call is refused while records cannot be
    stored (`check` raises `StoreUnavailable`, nothing is sent), and answered only once its record is
    stored (`settled`), so a replica killed afterwards loses no acknowledged call."""

    def check(self) -> None: ...

    async def settled(self) -> None: ...


@dataclass(frozen=True, slots=True)
class InboundAuth:
    """How the HTTP and SSE transports authenticate MCP clients: every request carries
    `Authorization: Bearer <token>`, which `verifier` (the MCP SDK's one-method `TokenVerifier`:
    `verify_token(token) -> AccessToken | None`) accepts or refuses (401). `required_scopes` must all be
    granted (else 403). In OAuth resource-server mode, `resource_server_url` (this server's URL) and
    `authorization_servers` are advertised as RFC 9728 protected resource metadata."""

    verifier: TokenVerifier
    required_scopes: tuple[str, ...] = ()
    resource_server_url: str | None = None
    authorization_servers: tuple[str, ...] = ()
