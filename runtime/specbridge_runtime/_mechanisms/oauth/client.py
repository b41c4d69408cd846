"""The OAuth 2.1 client of one `oauth2` auth scheme, for a REST API or an MCP server (`resource`).

- endpoints from the definition, completed by discovery: the authorization server's metadata (RFC 8414,
  OpenID Connect), found for an MCP server through its protected-resource metadata (RFC 9728)
- dynamic client registration (RFC 7591) when no client id is configured and the server offers it
- client credentials; authorization code with PKCE (S256) and state through a loopback redirect
- refresh (with rotation) ahead of expiry and once after a 401, one refresh however many calls wait, and
  with `locks` (Redis) however many replicas share the vault
- for an MCP server, the resource indicator (RFC 8707) in every authorization and token request
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
import webbrowser
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlencode, urlsplit

from mcp.client.auth.oauth2 import PKCEParameters

from ..._core.clock import SYSTEM_CLOCK, Clock
from ..._core.descriptors import AuthScheme, OAuthFlow
from ..._core.stores import LockStore
from ..secrets import CredentialMissing, Secrets
from . import LOGIN_TIMEOUT_S
from .discovery import HTTP_TIMEOUT_S, Endpoints, discover_metadata, discover_resource
from .errors import InvalidGrant, LoginRequired, OAuthError
from .exchange import Exchange
from .loopback import LoopbackRedirect
from .store import ClientIdentity, StoredToken, TokenStore, snake

REFRESH_SKEW_S = 60.0


class OAuthClient:
    """Tokens for one oauth2 scheme of one connector, kept in its vault (`TokenStore`)."""

    def __init__(
        self,
        scheme: AuthScheme,
        secrets_: Secrets,
        *,
        resource: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        locks: LockStore | None = None,
        renewed: Callable[[str], None] | None = None,
        skew_s: float = REFRESH_SKEW_S,
        http_timeout_s: float = HTTP_TIMEOUT_S,
        client_name: str | None = None,
    ) -> None:
        self.scheme = scheme
        self.secrets = secrets_
        self.resource = resource
        self.clock = clock
        self.skew_s = skew_s
        self.client_name = client_name or f"{secrets_.connector}-mcp"
        self.store = TokenStore(secrets_, scheme.name)
        self.exchange = Exchange(scheme.name, secrets_.connector, self.store.registration_name, http_timeout_s, clock)
        self._lock = asyncio.Lock()
        # Replicas sharing the vault renew one at a time, and read what the first stored (rotation: a refresh
        # token is presented once).
        self._locks = locks
        self._renewed = renewed  # told the scheme's name after each token fetched unattended (metrics)
        self._lock_key = f"oauth:{secrets_.connector}:{scheme.name}"
        self._metadata: Endpoints | None = None  # what discovery found
        self._discovered = False
        self._resource_scopes: tuple[str, ...] = ()
        self._issuer_from_resource = False  # the MCP server, not the definition, named the authorization server
        # The token this task sent, so a refresh after its 401 is skipped when another task already renewed.
        self._sent: ContextVar[str | None] = ContextVar(f"oauth_sent_{id(self)}", default=None)

    # -- what the call path uses -------------------------------------------------------------------

    def _flow(self, grant: str) -> OAuthFlow | None:
        return next((flow for flow in self.scheme.flows if flow.grant == grant), None)

    @property
    def scopes(self) -> tuple[str, ...]:
        scopes = tuple(dict.fromkeys(scope for flow in self.scheme.flows for scope in flow.scopes))
        if scopes or self._resource_scopes:
            return scopes or self._resource_scopes
        return ("openid",) if self.scheme.openid_url else ()  # OpenID Connect asks for at least this

    def available(self) -> bool:
        """A token is stored, or one can be fetched unattended (client credentials)."""
        if self.store.token() is not None:
            return True
        if self._flow("client_credentials") is None:
            return False
        configured = self._configured_client()
        if configured is not None:
            return configured.client_secret is not None
        return self.store.registration() is not None or self._can_register()

    async def access_token(self) -> str:
        token = self.store.token()
        if token is None or token.due(self.clock.time(), self.skew_s):
            async with self._lock, self._shared_lock():
                token = self.store.token()  # another task or replica may have renewed while this one waited
                if token is None or token.due(self.clock.time(), self.skew_s):
                    token = await self._renew(token)
        self._sent.set(token.access_token)
        return token.access_token

    async def refresh_after_rejection(self) -> bool:
        """After a 401: renew once, unless another task already replaced the token this task sent."""
        sent = self._sent.get()
        async with self._lock, self._shared_lock():
            token = self.store.token()
            if token is not None and sent is not None and token.access_token != sent:
                return True
            await self._renew(token, rejected=True)
            return True

    def _shared_lock(self) -> AbstractAsyncContextManager[object]:
        return self._locks.hold(self._lock_key) if self._locks is not None else contextlib.nullcontext()

    # -- clients -----------------------------------------------------------------------------------

    def _configured_client(self) -> ClientIdentity | None:
        """The client id and (for a confidential client) secret the definition names; a public client of
        the authorization-code grant has no secret, client credentials check for one when they need it."""
        reference = self.scheme.secret("client_id")
        client_id = self.secrets.lookup(reference) if reference else None
        if not client_id:
            return None
        secret_reference = self.scheme.secret("client_secret")
        return ClientIdentity(client_id, self.secrets.lookup(secret_reference) if secret_reference else None)

    def _can_register(self) -> bool:
        return self.scheme.dynamic_registration or bool(self.scheme.issuer_url or self.scheme.openid_url)

    async def _client(self, *, grant_types: list[str] | None = None, redirect_uri: str | None = None) -> ClientIdentity:
        """The configured client, else the one registered earlier, else a new registration."""
        configured = self._configured_client()
        if configured is not None:
            if configured.client_secret is not None and self._issuer_from_resource:
                # The MCP server chose the authorization server: it must not choose who gets the secret.
                raise OAuthError(
                    f"OAuth scheme {self.scheme.name!r} has a client secret but no `issuer_url`: set the "
                    "authorization server that issued it, so the MCP server cannot choose where it is sent"
                )
            return configured
        client = self.store.registration()
        if client is not None:
            return client
        endpoints = await self.endpoints(registering=True)
        if endpoints.registration is None:
            reference = self.scheme.secret("client_id") or f"vault:{snake(self.scheme.name)}_client_id"
            raise CredentialMissing(
                f"OAuth scheme {self.scheme.name!r} has no client id and the authorization server offers no dynamic "
                f"registration: {self.secrets.missing_message(reference)}"
            )
        return await self.register(grant_types or ["authorization_code", "refresh_token"], redirect_uri)

    async def register(self, grant_types: list[str], redirect_uri: str | None = None) -> ClientIdentity:
        """RFC 7591: register this connector as a client and keep the registration in the vault."""
        endpoints = await self.endpoints(registering=True)
        if endpoints.registration is None:
            raise OAuthError(f"the authorization server of {self.scheme.name!r} offers no dynamic client registration")
        interactive = "authorization_code" in grant_types
        metadata: dict[str, Any] = {
            "client_name": self.client_name,
            "grant_types": grant_types,
            "response_types": ["code"] if interactive else [],
            "token_endpoint_auth_method": "none" if interactive else "client_secret_basic",
        }
        if interactive and redirect_uri:
            metadata.update(redirect_uris=[redirect_uri], application_type="native")
        if self.scopes:
            metadata["scope"] = " ".join(self.scopes)
        client = await self.exchange.register(endpoints.registration, metadata)
        self.store.save_registration(client)
        return client

    # -- endpoints ---------------------------------------------------------------------------------

    async def endpoints(self, *, registering: bool = False) -> Endpoints:
        """Token, authorization and registration endpoints: from the spec's flows, completed by discovery
        (once per client) where one is missing or a client is to be registered."""
        flow = self._flow("client_credentials") or self._flow("authorization_code")
        token_url = flow.token_url if flow else ""
        code_flow = self._flow("authorization_code")
        authorization_url = code_flow.authorization_url if code_flow else ""
        incomplete = not token_url or (code_flow is not None and not authorization_url)
        if (incomplete or registering or self.scheme.dynamic_registration) and not self._discovered:
            self._metadata = await self._discover(token_url)
            self._discovered = True
        found = self._metadata
        if found is None:
            if not token_url:
                hint = self._issuer_hint(token_url)
                raise OAuthError(
                    f"OAuth scheme {self.scheme.name!r} has no token URL and no authorization-server metadata was "
                    f"found{' at ' + hint if hint else ''}"
                )
            return Endpoints(token=token_url, authorization=authorization_url or None)
        return Endpoints(
            token=token_url or found.token,
            authorization=authorization_url or found.authorization,
            registration=found.registration,
            issuer=found.issuer,
            basic_auth=found.basic_auth,
        )

    def _issuer_hint(self, token_url: str) -> str:
        if self.scheme.openid_url or self.scheme.issuer_url:
            return self.scheme.openid_url or self.scheme.issuer_url
        parts = urlsplit(token_url)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""

    async def _discover(self, token_url: str) -> Endpoints | None:
        issuer = self._issuer_hint(token_url)
        if not issuer and self.resource:
            found = await discover_resource(self.resource, self.exchange.timeout_s)
            issuer, self._resource_scopes, self._issuer_from_resource = found.authorization_server, found.scopes, True
        metadata = await discover_metadata(issuer, self.scheme.openid_url, self.exchange.timeout_s) if issuer else None
        return Endpoints.from_metadata(metadata) if metadata is not None else None

    # -- grants ------------------------------------------------------------------------------------

    def _with_resource(self, data: dict[str, str]) -> dict[str, str]:
        return {**data, "resource": self.resource} if self.resource else data

    async def _renew(self, token: StoredToken | None, *, rejected: bool = False) -> StoredToken:
        fresh = await self._renewal(token, rejected=rejected)
        if self._renewed is not None:
            self._renewed(self.scheme.name)
        return fresh

    async def _renewal(self, token: StoredToken | None, *, rejected: bool) -> StoredToken:
        if token is not None and token.refresh_token:
            try:
                return await self._refresh(token)
            except InvalidGrant:
                self.store.forget()
        if self._flow("client_credentials") is not None:
            return await self.client_credentials()
        why = "the authorization server refused the token" if rejected else "no valid token is stored"
        raise LoginRequired(
            f"OAuth scheme {self.scheme.name!r}: {why} and it cannot be refreshed; "
            f"sign in again with `{self.secrets.connector}-mcp login`"
        )

    async def _refresh(self, token: StoredToken) -> StoredToken:
        assert token.refresh_token is not None
        # No `scope`: the refreshed token keeps what was granted, which may be less than was asked for.
        data = self._with_resource({"grant_type": "refresh_token", "refresh_token": token.refresh_token})
        await self.endpoints()  # discovery first: it decides whether a configured secret may be sent
        client = await self._client()
        fresh = await self.exchange.token(await self.endpoints(), client, data, refreshing=True)
        # Rotation: a server that issues no new refresh token expects the old one again.
        if not fresh.refresh_token:
            fresh = StoredToken(fresh.access_token, token.refresh_token, fresh.expires_at, fresh.issued_at, fresh.scope)
        return self.store.save(fresh)

    async def client_credentials(self) -> StoredToken:
        await self.endpoints()  # discovery first: it decides whether a configured secret may be sent
        client = await self._client(grant_types=["client_credentials"])
        if client.client_secret is None:
            reference = self.scheme.secret("client_secret") or f"vault:{snake(self.scheme.name)}_client_secret"
            raise CredentialMissing(
                f"OAuth scheme {self.scheme.name!r} uses client credentials but has no client secret: "
                f"{self.secrets.missing_message(reference)}"
            )
        data = {"grant_type": "client_credentials"}
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        return self.store.save(await self.exchange.token(await self.endpoints(), client, self._with_resource(data)))

    async def login(
        self,
        *,
        notify: Callable[[str], None],
        open_browser: bool = True,
        port: int = 0,
        timeout_s: float = LOGIN_TIMEOUT_S,
    ) -> StoredToken:
        """Sign in through the browser: the user approves at the authorization server, which redirects
        to a listener on 127.0.0.1 with the code; the code and the PKCE verifier buy the tokens."""
        endpoints = await self.endpoints()
        if endpoints.authorization is None:
            raise OAuthError(f"OAuth scheme {self.scheme.name!r} has no authorization URL to sign in at")
        async with LoopbackRedirect(self.clock, port) as redirect:
            client = await self._client(grant_types=["authorization_code", "refresh_token"], redirect_uri=redirect.uri)
            pkce = PKCEParameters.generate()
            state = secrets.token_urlsafe(32)
            query = self._with_resource({
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect.uri,
                "state": state,
                "code_challenge": pkce.code_challenge,
                "code_challenge_method": "S256",
            })
            if self.scopes:
                query["scope"] = " ".join(self.scopes)
            separator = "&" if urlsplit(endpoints.authorization).query else "?"
            url = endpoints.authorization + separator + urlencode(query)
            notify(url)
            if open_browser:
                with contextlib.suppress(Exception):  # no browser here: the printed URL is the way
                    webbrowser.open(url)
            answer = await redirect.wait(timeout_s)
        if not hmac.compare_digest(answer.get("state", ""), state):
            raise OAuthError("the sign-in answer carried the wrong state (a stale or forged redirect); run login again")
        if "error" in answer:
            description = answer.get("error_description", "")
            raise OAuthError(f"sign-in was refused: {answer['error']}{': ' + description if description else ''}")
        if endpoints.issuer and "iss" in answer and answer["iss"] != endpoints.issuer:
            raise OAuthError(f"the sign-in answer came from issuer {answer['iss']!r}, not {endpoints.issuer!r}")
        if "code" not in answer:
            raise OAuthError("the sign-in answer carried no authorization code; run login again")
        data = self._with_resource({
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect.uri,
            "code_verifier": pkce.code_verifier,
        })
        return self.store.save(await self.exchange.token(endpoints, client, data))
