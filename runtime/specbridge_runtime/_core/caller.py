"""Who is calling: the MCP client authenticated by inbound auth (HTTP/SSE), for the duration of one call.

The server sets it around `ToolProvider.call_tool`; providers read it for audit records and per-caller
decisions (the gateway). It holds the caller's identity, never its token: an inbound MCP token is for
this server only and is never passed upstream.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp.server.auth.provider import AccessToken


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str
    subject: str | None = None
    scopes: tuple[str, ...] = ()
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def principal(self) -> str:
        """The subject (the user) when the token names one, else the client."""
        return self.subject or self.client_id

    @classmethod
    def from_access_token(cls, token: AccessToken) -> Caller:
        return cls(client_id=token.client_id, subject=token.subject, scopes=tuple(token.scopes),
                   claims=dict(token.claims or {}))


_CURRENT: ContextVar[Caller | None] = ContextVar("specbridge_caller", default=None)


def current_caller() -> Caller | None:
    """The authenticated caller of the call in progress; None on stdio or without inbound auth."""
    return _CURRENT.get()


def current_principal() -> str | None:
    caller = _CURRENT.get()
    return caller.principal if caller is not None else None


@contextmanager
def calling_as(caller: Caller | None) -> Iterator[None]:
    token = _CURRENT.set(caller)
    try:
        yield
    finally:
        _CURRENT.reset(token)
