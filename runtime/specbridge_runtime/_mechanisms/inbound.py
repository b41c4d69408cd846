"""The server's own door: who may call a generated server over HTTP or SSE.

- `SPECBRIDGE_SERVER_TOKEN`: one static bearer token (caller `default`), and/or
  `SPECBRIDGE_SERVER_TOKENS="alice:<token>,bob:<token>"` naming each caller (for per-caller allowlists).
- OAuth resource-server mode: `SPECBRIDGE_AUTH_ISSUER` (the authorization server), with
  `SPECBRIDGE_AUTH_CLIENT_ID` / `SPECBRIDGE_AUTH_CLIENT_SECRET` (this server's credentials for token
  introspection, RFC 7662), optional `SPECBRIDGE_AUTH_INTROSPECTION_URL` (else discovered),
  `SPECBRIDGE_RESOURCE_URL` (this server's public URL, advertised as RFC 9728 protected resource
  metadata) and `SPECBRIDGE_AUTH_SCOPES` (scopes every token must carry).
Without any of these the server refuses to serve HTTP or SSE, unless it is bound to loopback with `--no-auth`.
The inbound token identifies the caller to this server only; it never reaches an upstream request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import httpx2
from mcp.server.auth.provider import AccessToken, TokenVerifier

from .._core.errors import ConfigurationError
from .._core.seams import InboundAuth
from .oauth.discovery import HTTP_TIMEOUT_S, discover_metadata

logger = logging.getLogger(__name__)

SERVER_TOKEN_ENV = "SPECBRIDGE_SERVER_TOKEN"  # noqa: S105 - the name of a variable, not a secret
SERVER_TOKENS_ENV = "SPECBRIDGE_SERVER_TOKENS"
ISSUER_ENV = "SPECBRIDGE_AUTH_ISSUER"
CLIENT_ID_ENV = "SPECBRIDGE_AUTH_CLIENT_ID"
CLIENT_SECRET_ENV = "SPECBRIDGE_AUTH_CLIENT_SECRET"  # noqa: S105 - the name of a variable
INTROSPECTION_URL_ENV = "SPECBRIDGE_AUTH_INTROSPECTION_URL"
RESOURCE_URL_ENV = "SPECBRIDGE_RESOURCE_URL"
SCOPES_ENV = "SPECBRIDGE_AUTH_SCOPES"
DEFAULT_CALLER = "default"
MIN_TOKEN_CHARS = 16
_CALLER = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class StaticTokenVerifier:
    """Accepts the configured tokens (compared in constant time); the caller is the token's name."""

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self._digests = [(caller, _digest(token)) for caller, token in tokens.items()]

    async def verify_token(self, token: str) -> AccessToken | None:
        presented = _digest(token)
        matched = None
        for caller, expected in self._digests:  # no early exit: timing does not tell which one matched
            if hmac.compare_digest(presented, expected):
                matched = caller
        # The token itself is not kept: nothing downstream of this door needs it.
        return AccessToken(token="", client_id=matched, scopes=[]) if matched is not None else None


class IntrospectionTokenVerifier:
    """OAuth resource-server mode: asks the authorization server whether a token is active (RFC 7662)."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        introspection_url: str = "",
        resource_url: str | None = None,
        timeout_s: float = HTTP_TIMEOUT_S,
    ) -> None:
        self.issuer = issuer
        self._client = (client_id, client_secret)
        self._url = introspection_url
        self.resource_url = resource_url
        self.timeout_s = timeout_s

    async def _introspection_url(self) -> str | None:
        if not self._url:
            metadata = await discover_metadata(self.issuer, timeout_s=self.timeout_s)
            if metadata is not None and metadata.introspection_endpoint is not None:
                self._url = str(metadata.introspection_endpoint)
        return self._url or None

    async def verify_token(self, token: str) -> AccessToken | None:
        url = await self._introspection_url()
        if url is None:
            logger.warning("inbound auth: %s offers no token introspection endpoint; calls are refused", self.issuer)
            return None
        try:
            async with httpx2.AsyncClient(timeout=self.timeout_s) as http:
                response = await http.post(
                    url, data={"token": token, "token_type_hint": "access_token"}, auth=self._client
                )
            answer: Any = response.json() if response.status_code == 200 else None
        except (httpx2.HTTPError, ValueError) as error:
            logger.warning("inbound auth: token introspection at %s failed: %s", url, type(error).__name__)
            return None
        if not isinstance(answer, dict) or answer.get("active") is not True:
            return None
        if not self._for_this_resource(answer.get("aud")):
            return None
        scope = answer.get("scope")
        expires = answer.get("exp")
        subject = answer.get("sub")
        return AccessToken(
            token="",
            client_id=str(answer.get("client_id") or ""),
            scopes=scope.split() if isinstance(scope, str) else [],
            expires_at=int(expires) if isinstance(expires, int | float) else None,
            subject=str(subject) if subject is not None else None,
            claims={"iss": answer["iss"]} if isinstance(answer.get("iss"), str) else None,
        )

    def _for_this_resource(self, audience: object) -> bool:
        """A token bound to an audience must name this server; an unbound one is the issuer's call."""
        if audience is None or not self.resource_url:
            return True
        audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
        return any(str(entry).rstrip("/") == self.resource_url.rstrip("/") for entry in audiences)


class AnyVerifier:
    """Accepts a token any of `verifiers` accepts (static tokens and OAuth side by side)."""

    def __init__(self, verifiers: Sequence[TokenVerifier]) -> None:
        self.verifiers = tuple(verifiers)

    async def verify_token(self, token: str) -> AccessToken | None:
        for verifier in self.verifiers:
            accepted = await verifier.verify_token(token)
            if accepted is not None:
                return accepted
        return None


def static_tokens(environ: Mapping[str, str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    single = environ.get(SERVER_TOKEN_ENV, "")
    if single:
        tokens[DEFAULT_CALLER] = single
    for entry in filter(None, (part.strip() for part in environ.get(SERVER_TOKENS_ENV, "").split(","))):
        caller, separator, token = entry.partition(":")
        if not separator or not _CALLER.fullmatch(caller) or not token:
            raise ConfigurationError(
                f"{SERVER_TOKENS_ENV} must be a comma-separated list of caller:token pairs "
                "(caller: letters, digits, '_', '.', '@', '-')"
            )
        tokens[caller] = token
    for caller, token in tokens.items():
        if len(token) < MIN_TOKEN_CHARS or token != token.strip():
            raise ConfigurationError(
                f"the inbound token of caller {caller!r} is too weak: use at least {MIN_TOKEN_CHARS} random "
                "characters without spaces (e.g. python -c \"import secrets; print(secrets.token_urlsafe(32))\")"
            )
    return tokens


def inbound_auth_from_env(environ: Mapping[str, str]) -> InboundAuth | None:
    """How the HTTP/SSE server authenticates its callers; None when nothing is configured (then the
    transports serve only a loopback host with `--no-auth`, see `check_exposure`)."""
    verifiers: list[TokenVerifier] = []
    tokens = static_tokens(environ)
    if tokens:
        verifiers.append(StaticTokenVerifier(tokens))
    issuer = environ.get(ISSUER_ENV, "")
    resource_url = environ.get(RESOURCE_URL_ENV) or None
    if issuer:
        client_id, client_secret = environ.get(CLIENT_ID_ENV, ""), environ.get(CLIENT_SECRET_ENV, "")
        if not client_id or not client_secret or not resource_url:
            raise ConfigurationError(
                f"OAuth resource-server mode ({ISSUER_ENV}) needs {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} (this "
                f"server's credentials for token introspection) and {RESOURCE_URL_ENV} (the URL clients reach "
                "this server at, e.g. https://mcp.example.com/mcp)"
            )
        verifiers.append(
            IntrospectionTokenVerifier(
                issuer,
                client_id,
                client_secret,
                introspection_url=environ.get(INTROSPECTION_URL_ENV, ""),
                resource_url=resource_url,
            )
        )
    if not verifiers:
        return None
    return InboundAuth(
        verifier=verifiers[0] if len(verifiers) == 1 else AnyVerifier(verifiers),
        required_scopes=tuple(environ.get(SCOPES_ENV, "").split()),
        resource_server_url=resource_url if issuer else None,
        authorization_servers=(issuer,) if issuer else (),
    )
