"""How a wrapper reaches its upstream MCP server: the client transports (stdio, streamable HTTP, SSE,
WebSocket) that open what a `StdioUpstream` or `RemoteUpstream` descriptor describes.

Values that may be secret (environment variables of a stdio server, header values, auth secrets) are
references (`env:`, `vault:`, `enc:`) in the descriptors, resolved only when a connection is opened, so
a generated package never holds a secret and a rotated secret is picked up on the next reconnect.
Secrets never reach a command line: a stdio server gets them through its environment.
"""

from __future__ import annotations

import sys
import sysconfig
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx2
from mcp import StdioServerParameters
from mcp.client._transport import TransportStreams
from mcp.client.sse import sse_client
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from .._core.descriptors import AuthScheme, RemoteUpstream, StdioUpstream
from .._core.errors import ConfigurationError
from .._core.seams import UpstreamAuth
from .auth import OAuth2Auth, scheme_auth
from .oauth.client import OAuthClient
from .secrets import Secrets

CONNECT_TIMEOUT_S = 30.0
SSE_READ_TIMEOUT_S = 300.0

Upstream = StdioUpstream | RemoteUpstream


def describe(upstream: Upstream) -> str:
    """What the upstream is, for messages: never argument or header values (they may be sensitive)."""
    if isinstance(upstream, StdioUpstream):
        return f"stdio command {upstream.command!r}"
    return f"{upstream.transport.replace('_', ' ')} at {upstream.url}"


def open_transport(upstream: Upstream, secrets: Secrets) -> AbstractAsyncContextManager[TransportStreams]:
    """A transport for `mcp.Client`; secrets are resolved now, at connect time."""
    if isinstance(upstream, StdioUpstream):
        return stdio_client(stdio_parameters(upstream, secrets))
    headers = {name: secrets(value) for name, value in upstream.headers}
    auth = _http_auth(upstream, secrets)
    if upstream.transport == "sse":
        return sse_client(
            upstream.url, headers=headers, timeout=CONNECT_TIMEOUT_S, sse_read_timeout=SSE_READ_TIMEOUT_S, auth=auth
        )
    if upstream.transport == "websocket":
        # Imported here: it brings in wsproto, which every server would otherwise load at start for nothing.
        from .websocket import websocket_client

        return websocket_client(upstream.url, headers=headers, auth=auth, timeout_s=CONNECT_TIMEOUT_S)
    return _streamable_http(upstream.url, headers, auth)


@asynccontextmanager
async def _streamable_http(
    url: str, headers: dict[str, str], auth: httpx2.Auth | None
) -> AsyncIterator[TransportStreams]:
    timeout = httpx2.Timeout(CONNECT_TIMEOUT_S, read=SSE_READ_TIMEOUT_S)
    async with (
        httpx2.AsyncClient(headers=headers, auth=auth, timeout=timeout) as http,
        streamable_http_client(url, http_client=http) as streams,
    ):
        yield streams


def stdio_parameters(upstream: StdioUpstream, secrets: Secrets) -> StdioServerParameters:
    command = _installed_script(upstream.command) if upstream.python_script else upstream.command
    return StdioServerParameters(
        command=command,
        args=list(upstream.args),
        env={name: secrets(value) for name, value in upstream.env},
        cwd=upstream.cwd,
    )


def _installed_script(name: str) -> str:
    folder = Path(sysconfig.get_path("scripts"))
    candidates = [folder / name, Path(sys.executable).parent / name]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise ConfigurationError(
        f"the upstream server's command {name!r} is not installed beside {sys.executable}; "
        "reinstall this connector package (pip installs the server it depends on)"
    )


class _SchemeAuth(httpx2.Auth):
    """The runtime's upstream auth (bearer, API key, basic, custom headers) as an httpx2 auth flow, so
    credentials are read per request and a 401 may refresh them once."""

    def __init__(self, auth: UpstreamAuth) -> None:
        self._auth = auth

    async def async_auth_flow(self, request: httpx2.Request) -> AsyncGenerator[httpx2.Request, httpx2.Response]:
        await self._auth.apply(request)
        response = yield request
        if response.status_code == 401 and await self._auth.refresh():
            await self._auth.apply(request)
            yield request


def _http_auth(upstream: RemoteUpstream, secrets: Secrets) -> httpx2.Auth | None:
    scheme = upstream.auth
    if scheme is None or scheme.type == "none":
        return None
    if scheme.type == "api_key" and scheme.location != "header":
        raise ConfigurationError(f"an MCP server's API key goes in a header, not in the {scheme.location}")
    if scheme.type == "oauth2":
        return _SchemeAuth(OAuth2Auth(mcp_oauth_client(upstream, scheme, secrets)))
    return _SchemeAuth(scheme_auth(scheme, secrets))


def mcp_oauth_client(upstream: RemoteUpstream, scheme: AuthScheme, secrets: Secrets) -> OAuthClient:
    """The runtime's OAuth client for an MCP server: the server is the protected resource (its metadata
    names the authorization server, its URL is the resource indicator); tokens from `login` or client
    credentials, in the connector's vault like a REST package's."""
    if any(flow.grant == "client_credentials" for flow in scheme.flows) and not (
        scheme.issuer_url or scheme.openid_url or any(flow.token_url for flow in scheme.flows)
    ):  # else the MCP server would choose where the client secret is sent
        raise ConfigurationError(f"auth {scheme.name!r}: client credentials for an MCP server need `issuer_url`, "
                                 "the authorization server that issued them")
    return OAuthClient(scheme, secrets, resource=upstream.url)
