"""Where an authorization server's endpoints are: its metadata (RFC 8414, OpenID Connect Discovery), and
for an MCP server, the authorization server it names in its protected-resource metadata (RFC 9728)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TypeVar

import httpx2
from mcp.client.auth.utils import (
    build_oauth_authorization_server_metadata_discovery_urls,
    build_protected_resource_metadata_discovery_urls,
)
from mcp.shared.auth import OAuthMetadata, ProtectedResourceMetadata
from pydantic import BaseModel, ValidationError

from .errors import OAuthError

HTTP_TIMEOUT_S = 30.0

Model = TypeVar("Model", bound=BaseModel)


def oauth_http(timeout_s: float) -> httpx2.AsyncClient:
    """A client for one exchange with an authorization server (or a resource's metadata)."""
    return httpx2.AsyncClient(timeout=timeout_s, headers={"Accept": "application/json"})


@dataclass(frozen=True, slots=True)
class Endpoints:
    token: str
    authorization: str | None = None
    registration: str | None = None
    issuer: str | None = None
    basic_auth: bool = True

    @classmethod
    def from_metadata(cls, metadata: OAuthMetadata) -> Endpoints:
        methods = metadata.token_endpoint_auth_methods_supported
        return cls(
            token=str(metadata.token_endpoint),
            authorization=str(metadata.authorization_endpoint),
            registration=str(metadata.registration_endpoint) if metadata.registration_endpoint else None,
            issuer=str(metadata.issuer),
            basic_auth=methods is None or "client_secret_basic" in methods or "client_secret_post" not in methods,
        )


@dataclass(frozen=True, slots=True)
class ProtectedResource:
    """What an MCP server says about itself: who issues its tokens, and which scopes it knows."""

    authorization_server: str
    scopes: tuple[str, ...] = ()


async def _first_valid(urls: list[str], model: type[Model], timeout_s: float) -> Model | None:
    async with oauth_http(timeout_s) as http:
        for url in urls:
            try:
                response = await http.get(url)
            except httpx2.HTTPError:
                continue
            if response.status_code == 200:
                with contextlib.suppress(ValidationError, ValueError):
                    return model.model_validate_json(response.content)
    return None


async def discover_metadata(
    issuer: str, openid_url: str = "", timeout_s: float = HTTP_TIMEOUT_S
) -> OAuthMetadata | None:
    """The authorization server's metadata: from `openid_url` when given, else from the RFC 8414 and
    OpenID Connect well-known URLs of `issuer`; None when none answers with valid metadata."""
    urls = [openid_url] if openid_url else build_oauth_authorization_server_metadata_discovery_urls(issuer, issuer)
    return await _first_valid(urls, OAuthMetadata, timeout_s)


async def discover_resource(resource_url: str, timeout_s: float = HTTP_TIMEOUT_S) -> ProtectedResource:
    """The authorization server of the MCP server at `resource_url`, from its RFC 9728 metadata."""
    urls = build_protected_resource_metadata_discovery_urls(None, resource_url)
    metadata = await _first_valid(urls, ProtectedResourceMetadata, timeout_s)
    if metadata is None or not metadata.authorization_servers:
        raise OAuthError(
            f"the MCP server at {resource_url} publishes no OAuth protected-resource metadata naming its "
            "authorization server; set `issuer_url` (or the token and authorization URLs) in the definition"
        )
    # Metadata for another resource would send this server's sign-in (and its tokens) elsewhere.
    if str(metadata.resource).rstrip("/") != resource_url.rstrip("/"):
        raise OAuthError(
            f"the MCP server at {resource_url} published protected-resource metadata for another resource "
            f"({metadata.resource}); refusing to sign in with it"
        )
    return ProtectedResource(str(metadata.authorization_servers[0]), tuple(metadata.scopes_supported or ()))
