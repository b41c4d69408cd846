"""Talking to an authorization server's token endpoint (any grant) and registration endpoint (RFC 7591),
with its refusals turned into errors that say what to do."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken
from pydantic import ValidationError

from ..._core.clock import Clock
from ..secrets import redact
from .discovery import Endpoints, oauth_http
from .errors import ClientRejected, InvalidGrant, OAuthError
from .store import ClientIdentity, StoredToken


@dataclass(frozen=True, slots=True)
class Exchange:
    """The requests of one scheme of one connector (`connector` and `registration_name` are for messages)."""

    scheme: str
    connector: str
    registration_name: str
    timeout_s: float
    clock: Clock

    async def token(self, endpoints: Endpoints, client: ClientIdentity, data: Mapping[str, str], *,
                    refreshing: bool = False) -> StoredToken:
        """One token request; a refused refresh token raises `InvalidGrant`, a refused client `ClientRejected`."""
        headers: dict[str, str] = {}
        body = dict(data)
        if client.client_secret is not None and endpoints.basic_auth:
            pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            body["client_id"] = client.client_id
            if client.client_secret is not None:
                body["client_secret"] = client.client_secret
        issued_at = self.clock.time()
        try:
            async with oauth_http(self.timeout_s) as http:
                response = await http.post(endpoints.token, data=body, headers=headers)
        except httpx2.HTTPError as error:
            raise OAuthError(f"cannot reach the token endpoint {endpoints.token}: {type(error).__name__}") from None
        if response.status_code != 200:
            problem = redact(_oauth_error(response), client.client_secret, data.get("refresh_token"))
            code = _error_code(response)
            if code == "invalid_client" or response.status_code == 401:
                raise ClientRejected(
                    f"OAuth scheme {self.scheme!r}: the authorization server rejected client "
                    f"{client.client_id!r} ({problem}): it was revoked or its credentials are wrong. Store the right "
                    f"client id and secret, or delete `{self.registration_name}` with "
                    f"`{self.connector}-mcp creds delete` to register again"
                )
            if refreshing and code == "invalid_grant":
                raise InvalidGrant(problem)
            raise OAuthError(f"OAuth scheme {self.scheme!r}: the token request was refused ({problem})")
        try:
            token = OAuthToken.model_validate_json(response.content)
        except ValidationError:
            raise OAuthError(f"the token endpoint {endpoints.token} answered no bearer access token") from None
        return StoredToken(
            access_token=token.access_token,
            refresh_token=token.refresh_token,
            expires_at=issued_at + token.expires_in if token.expires_in is not None else None,
            issued_at=issued_at,
            scope=token.scope,
        )

    async def register(self, endpoint: str, metadata: Mapping[str, Any]) -> ClientIdentity:
        """RFC 7591: register a client with `metadata`; the caller keeps what comes back."""
        try:
            async with oauth_http(self.timeout_s) as http:
                response = await http.post(endpoint, json=dict(metadata))
        except httpx2.HTTPError as error:
            raise OAuthError(f"cannot reach the registration endpoint {endpoint}: {error}") from None
        if response.status_code not in (200, 201):
            raise OAuthError(f"dynamic client registration at {endpoint} failed: {_oauth_error(response)}")
        try:
            info = OAuthClientInformationFull.model_validate_json(response.content)
            extra = response.json()
        except (ValidationError, ValueError):
            raise OAuthError(f"the registration endpoint {endpoint} answered no client id") from None
        return ClientIdentity(
            info.client_id,
            info.client_secret,
            extra.get("registration_access_token"),
            extra.get("registration_client_uri"),
        )


def _error_code(response: httpx2.Response) -> str | None:
    with contextlib.suppress(ValueError):
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            return str(body["error"])
    return None


def _oauth_error(response: httpx2.Response) -> str:
    """The server's error code and description (RFC 6749 §5.2), or its status, kept short."""
    code = _error_code(response)
    if code is None:
        return f"HTTP {response.status_code}"
    description = response.json().get("error_description")
    text = f"{code}: {description}" if isinstance(description, str) and description else code
    return text[:300]
