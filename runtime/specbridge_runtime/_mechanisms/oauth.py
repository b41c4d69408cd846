"""The OAuth 2.1 client of one `oauth2` auth scheme: tokens for upstream calls, kept in the vault.

- authorization-server metadata discovery (RFC 8414, OpenID Connect Discovery)
- dynamic client registration (RFC 7591) when no client id is configured and the server offers it
- client credentials; authorization code with PKCE (S256) and state through a loopback redirect
- refresh (with rotation) ahead of expiry and once after a 401, one refresh however many calls wait
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import json
import logging
import re
import secrets
import sqlite3
import time
import webbrowser
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import httpx2
from mcp.client.auth.oauth2 import PKCEParameters
from mcp.client.auth.utils import build_oauth_authorization_server_metadata_discovery_urls
from mcp.shared.auth import OAuthClientInformationFull, OAuthMetadata, OAuthToken
from pydantic import ValidationError

from .._core.descriptors import AuthScheme, OAuthFlow
from .secrets import CredentialError, CredentialMissing, Secrets, redact
from .vault import VaultError

logger = logging.getLogger(__name__)

REFRESH_SKEW_S = 60.0
HTTP_TIMEOUT_S = 30.0
LOGIN_TIMEOUT_S = 300.0


class OAuthError(CredentialError):
    """The authorization server could not be used or refused us; the message says what to do."""


class LoginRequired(OAuthError):
    """No usable token and no way to get one unattended: the user must run `<name>-mcp login`."""


class ClientRejected(OAuthError):
    """The authorization server does not accept this client (revoked, or wrong credentials)."""


class _InvalidGrant(Exception):
    """A refresh token the server no longer accepts (expired, revoked, already rotated)."""


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "oauth"


@dataclass(frozen=True, slots=True)
class StoredToken:
    access_token: str
    refresh_token: str | None = None
    expires_at: float | None = None
    issued_at: float = 0.0
    scope: str | None = None

    def due(self, now: float, skew_s: float) -> bool:
        """Time to renew: within `skew_s` of expiry, or in the last quarter of a short lifetime."""
        if self.expires_at is None:
            return False
        lifetime = max(self.expires_at - self.issued_at, 0.0)
        return now >= self.expires_at - min(skew_s, lifetime / 4)

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> StoredToken | None:
        try:
            data = json.loads(text)
            return cls(**data) if isinstance(data, dict) and isinstance(data.get("access_token"), str) else None
        except (ValueError, TypeError):
            return None


def describe_token(text: str, now: float | None = None) -> str | None:
    """How `creds list` shows a stored token: never the token, only its state."""
    token = StoredToken.from_json(text)
    if token is None:
        return None
    parts = ["OAuth token"]
    if token.expires_at is not None:
        left = token.expires_at - (time.time() if now is None else now)
        parts.append(f"expires in {int(left)} s" if left > 0 else "expired")
    parts.append("refreshable" if token.refresh_token else "no refresh token")
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    client_id: str
    client_secret: str | None = None
    # RFC 7592 management of a dynamically registered client.
    registration_access_token: str | None = None
    registration_client_uri: str | None = None


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


async def discover_metadata(
    issuer: str, openid_url: str = "", timeout_s: float = HTTP_TIMEOUT_S
) -> OAuthMetadata | None:
    """The authorization server's metadata: from `openid_url` when given, else from the RFC 8414 and
    OpenID Connect well-known URLs of `issuer`; None when none answers with valid metadata."""
    urls = [openid_url] if openid_url else build_oauth_authorization_server_metadata_discovery_urls(issuer, issuer)
    async with httpx2.AsyncClient(timeout=timeout_s, headers={"Accept": "application/json"}) as http:
        for url in urls:
            try:
                response = await http.get(url)
            except httpx2.HTTPError:
                continue
            if response.status_code == 200:
                with contextlib.suppress(ValidationError, ValueError):
                    return OAuthMetadata.model_validate_json(response.content)
    return None


class OAuthClient:
    """Tokens for one oauth2 scheme of one connector, stored in the vault as `<scheme>_oauth_token`."""

    def __init__(
        self,
        scheme: AuthScheme,
        secrets_: Secrets,
        *,
        skew_s: float = REFRESH_SKEW_S,
        http_timeout_s: float = HTTP_TIMEOUT_S,
        client_name: str | None = None,
    ) -> None:
        self.scheme = scheme
        self.secrets = secrets_
        self.skew_s = skew_s
        self.http_timeout_s = http_timeout_s
        self.client_name = client_name or f"{secrets_.connector}-mcp"
        self.token_name = f"{_snake(scheme.name)}_oauth_token"
        self.registration_name = f"{_snake(scheme.name)}_oauth_client"
        self._lock = asyncio.Lock()
        self._metadata: Endpoints | None = None  # what discovery found
        self._discovered = False
        self._unsaved: StoredToken | None = None
        # The token this task sent, so a refresh after its 401 is skipped when another task already renewed.
        self._sent: ContextVar[str | None] = ContextVar(f"oauth_sent_{id(self)}", default=None)

    # -- what the call path uses -------------------------------------------------------------------

    def _flow(self, grant: str) -> OAuthFlow | None:
        return next((flow for flow in self.scheme.flows if flow.grant == grant), None)

    @property
    def scopes(self) -> tuple[str, ...]:
        scopes = tuple(dict.fromkeys(scope for flow in self.scheme.flows for scope in flow.scopes))
        return scopes or (("openid",) if self.scheme.openid_url else ())  # OpenID Connect asks for at least this

    def available(self) -> bool:
        """A token is stored, or one can be fetched unattended (client credentials)."""
        if self._stored() is not None:
            return True
        if self._flow("client_credentials") is None:
            return False
        configured = self._configured_client()
        if configured is not None:
            return configured.client_secret is not None
        return self._registered() is not None or self._can_register()

    async def access_token(self) -> str:
        token = self._stored()
        if token is None or token.due(time.time(), self.skew_s):
            async with self._lock:
                token = self._stored()  # another task may have renewed while this one waited
                if token is None or token.due(time.time(), self.skew_s):
                    token = await self._renew(token)
        self._sent.set(token.access_token)
        return token.access_token

    async def refresh_after_rejection(self) -> bool:
        """After a 401: renew once, unless another task already replaced the token this task sent."""
        sent = self._sent.get()
        async with self._lock:
            token = self._stored()
            if token is not None and sent is not None and token.access_token != sent:
                return True
            await self._renew(token, rejected=True)
            return True

    # -- storage -----------------------------------------------------------------------------------

    def _stored(self) -> StoredToken | None:
        text = self.secrets.load(self.token_name)
        return StoredToken.from_json(text) if text is not None else self._unsaved

    def _save(self, token: StoredToken) -> StoredToken:
        try:
            self.secrets.store(self.token_name, token.to_json())
        except (VaultError, OSError, sqlite3.Error) as error:
            # A read-only home (a container) must not stop the calls: the token lives in memory instead.
            logger.warning("OAuth scheme %r: the token is kept in memory only, the vault cannot store it: %s",
                           self.scheme.name, error)
            self._unsaved = token
        return token

    def _configured_client(self) -> ClientIdentity | None:
        """The client id and (for a confidential client) secret the definition names; a public client of
        the authorization-code grant has no secret, client credentials check for one when they need it."""
        reference = self.scheme.secret("client_id")
        client_id = self.secrets.lookup(reference) if reference else None
        if not client_id:
            return None
        secret_reference = self.scheme.secret("client_secret")
        return ClientIdentity(client_id, self.secrets.lookup(secret_reference) if secret_reference else None)

    def _registered(self) -> ClientIdentity | None:
        text = self.secrets.load(self.registration_name)
        if text is None:
            return None
        with contextlib.suppress(ValueError, TypeError):
            return ClientIdentity(**json.loads(text))
        return None

    def _can_register(self) -> bool:
        return self.scheme.dynamic_registration or bool(self.scheme.issuer_url or self.scheme.openid_url)

    # -- renewal -----------------------------------------------------------------------------------

    async def _renew(self, token: StoredToken | None, *, rejected: bool = False) -> StoredToken:
        if token is not None and token.refresh_token:
            try:
                return await self._refresh(token)
            except _InvalidGrant:
                self.secrets.forget(self.token_name)
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
        data = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        fresh = await self._token_request(data, await self._client(), refreshing=True)
        # Rotation: a server that issues no new refresh token expects the old one again.
        return self._save(fresh if fresh.refresh_token else _with_refresh(fresh, token.refresh_token))

    async def client_credentials(self) -> StoredToken:
        data = {"grant_type": "client_credentials"}
        if self.scopes:
            data["scope"] = " ".join(self.scopes)
        client = await self._client(grant_types=["client_credentials"])
        if client.client_secret is None:
            reference = self.scheme.secret("client_secret") or f"vault:{_snake(self.scheme.name)}_client_secret"
            raise CredentialMissing(
                f"OAuth scheme {self.scheme.name!r} uses client credentials but has no client secret: "
                f"{self.secrets.missing_message(reference)}"
            )
        return self._save(await self._token_request(data, client))

    async def _client(self, *, grant_types: list[str] | None = None, redirect_uri: str | None = None) -> ClientIdentity:
        """The configured client, else the one registered earlier, else a new registration."""
        client = self._configured_client() or self._registered()
        if client is not None:
            return client
        endpoints = await self.endpoints(registering=True)
        if endpoints.registration is None:
            reference = self.scheme.secret("client_id") or f"vault:{_snake(self.scheme.name)}_client_id"
            raise CredentialMissing(
                f"OAuth scheme {self.scheme.name!r} has no client id and the authorization server offers no dynamic "
                f"registration: {self.secrets.missing_message(reference)}"
            )
        return await self.register(grant_types or ["authorization_code", "refresh_token"], redirect_uri)

    # -- the authorization server ------------------------------------------------------------------

    def _http(self) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(timeout=self.http_timeout_s, headers={"Accept": "application/json"})

    async def endpoints(self, *, registering: bool = False) -> Endpoints:
        """Token, authorization and registration endpoints: from the spec's flows, completed by discovery
        (once per process) where one is missing or a client is to be registered."""
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
        metadata = await discover_metadata(issuer, self.scheme.openid_url, self.http_timeout_s) if issuer else None
        return Endpoints.from_metadata(metadata) if metadata is not None else None

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
        try:
            async with self._http() as http:
                response = await http.post(endpoints.registration, json=metadata)
        except httpx2.HTTPError as error:
            raise OAuthError(f"cannot reach the registration endpoint {endpoints.registration}: {error}") from None
        if response.status_code not in (200, 201):
            raise OAuthError(
                f"dynamic client registration at {endpoints.registration} failed: {_oauth_error(response)}"
            )
        try:
            info = OAuthClientInformationFull.model_validate_json(response.content)
            extra = response.json()
        except (ValidationError, ValueError):
            raise OAuthError(f"the registration endpoint {endpoints.registration} answered no client id") from None
        client = ClientIdentity(
            info.client_id,
            info.client_secret,
            extra.get("registration_access_token"),
            extra.get("registration_client_uri"),
        )
        self.secrets.store(self.registration_name, json.dumps(asdict(client)))
        return client

    async def _token_request(
        self, data: dict[str, str], client: ClientIdentity, *, refreshing: bool = False
    ) -> StoredToken:
        endpoints = await self.endpoints()
        headers: dict[str, str] = {}
        body = dict(data)
        if client.client_secret is not None and endpoints.basic_auth:
            pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + _b64(pair)
        else:
            body["client_id"] = client.client_id
            if client.client_secret is not None:
                body["client_secret"] = client.client_secret
        issued_at = time.time()
        try:
            async with self._http() as http:
                response = await http.post(endpoints.token, data=body, headers=headers)
        except httpx2.HTTPError as error:
            raise OAuthError(f"cannot reach the token endpoint {endpoints.token}: {type(error).__name__}") from None
        if response.status_code != 200:
            problem = redact(_oauth_error(response), client.client_secret, data.get("refresh_token"))
            code = _error_code(response)
            if code == "invalid_client" or response.status_code == 401:
                raise ClientRejected(
                    f"OAuth scheme {self.scheme.name!r}: the authorization server rejected client "
                    f"{client.client_id!r} ({problem}): it was revoked or its credentials are wrong. Store the right "
                    f"client id and secret, or delete `{self.registration_name}` with "
                    f"`{self.secrets.connector}-mcp creds delete` to register again"
                )
            if refreshing and code == "invalid_grant":
                raise _InvalidGrant(problem)
            raise OAuthError(f"OAuth scheme {self.scheme.name!r}: the token request was refused ({problem})")
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

    # -- authorization code with PKCE --------------------------------------------------------------

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
        async with LoopbackRedirect(port) as redirect:
            client = await self._client(grant_types=["authorization_code", "refresh_token"], redirect_uri=redirect.uri)
            pkce = PKCEParameters.generate()
            state = secrets.token_urlsafe(32)
            query = {
                "response_type": "code",
                "client_id": client.client_id,
                "redirect_uri": redirect.uri,
                "state": state,
                "code_challenge": pkce.code_challenge,
                "code_challenge_method": "S256",
            }
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
        data = {
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": redirect.uri,
            "code_verifier": pkce.code_verifier,
        }
        return self._save(await self._token_request(data, client))


def _with_refresh(token: StoredToken, refresh_token: str) -> StoredToken:
    return StoredToken(token.access_token, refresh_token, token.expires_at, token.issued_at, token.scope)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


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


class LoopbackRedirect:
    """A one-shot HTTP listener on 127.0.0.1 that receives the authorization server's redirect."""

    def __init__(self, port: int = 0) -> None:
        self._port = port
        self._server: asyncio.Server | None = None
        self._answer: asyncio.Future[dict[str, str]] | None = None
        self.uri = ""

    async def __aenter__(self) -> LoopbackRedirect:
        self._answer = asyncio.get_running_loop().create_future()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self._port)
        port = self._server.sockets[0].getsockname()[1]
        self.uri = f"http://127.0.0.1:{port}/callback"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.wait_closed(), 5)

    async def wait(self, timeout_s: float) -> dict[str, str]:
        assert self._answer is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._answer), timeout_s)
        except TimeoutError:
            raise OAuthError(f"no sign-in answer within {int(timeout_s)} s; run login again") from None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), 10)
            while (await asyncio.wait_for(reader.readline(), 10)) not in (b"\r\n", b"\n", b""):
                pass
            target = request_line.decode("latin-1").split(" ")[1] if request_line.count(b" ") >= 2 else ""
            parts = urlsplit(target)
            if parts.path != "/callback" or self._answer is None or self._answer.done():
                await _respond(writer, 404, "Not found.")
                return
            self._answer.set_result(_single_values(parse_qs(parts.query)))
            await _respond(writer, 200, "Signed in. You can close this window and return to the terminal.")
        except (TimeoutError, OSError, UnicodeDecodeError, IndexError):
            pass
        finally:
            writer.close()


def _single_values(query: Mapping[str, list[str]]) -> dict[str, str]:
    return {name: values[0] for name, values in query.items() if values}


async def _respond(writer: asyncio.StreamWriter, status: int, text: str) -> None:
    body = f"<!doctype html><title>specbridge</title><p>{text}</p>".encode()
    reason = "OK" if status == 200 else "Not Found"
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    writer.write(head.encode() + body)
    with contextlib.suppress(OSError):
        await writer.drain()
