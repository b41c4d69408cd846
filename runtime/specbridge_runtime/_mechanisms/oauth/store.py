"""What the OAuth client keeps in the connector's vault, in one format whether the protected resource is
a REST API or an MCP server: the token (`<scheme>_oauth_token`) and a dynamically registered client
(`<scheme>_oauth_client`)."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sqlite3
from dataclasses import asdict, dataclass

from ..._core.clock import SYSTEM_CLOCK, Clock
from ..secrets import Secrets, hold
from ..vault import VaultError

logger = logging.getLogger(__name__)


def snake(name: str) -> str:
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


def describe_token(text: str, clock: Clock = SYSTEM_CLOCK) -> str | None:
    """How `creds list` shows a stored token: never the token, only its state."""
    token = StoredToken.from_json(text)
    if token is None:
        return None
    parts = ["OAuth token"]
    if token.expires_at is not None:
        left = token.expires_at - clock.time()
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


class TokenStore:
    """The token and the registered client of one OAuth scheme of one connector."""

    def __init__(self, secrets: Secrets, scheme_name: str) -> None:
        self.secrets = secrets
        self.scheme_name = scheme_name
        self.token_name = f"{snake(scheme_name)}_oauth_token"
        self.registration_name = f"{snake(scheme_name)}_oauth_client"
        self._unsaved: StoredToken | None = None

    def token(self) -> StoredToken | None:
        text = self.secrets.load(self.token_name)
        token = StoredToken.from_json(text) if text is not None else self._unsaved
        if token is not None:  # an upstream that echoes its tokens must not hand them to the client
            hold(token.access_token, token.refresh_token)
        return token

    def save(self, token: StoredToken) -> StoredToken:
        hold(token.access_token, token.refresh_token)
        try:
            self.secrets.store(self.token_name, token.to_json())
        except (VaultError, OSError, sqlite3.Error) as error:
            # A read-only home (a container) must not stop the calls: the token lives in memory instead.
            logger.warning("OAuth scheme %r: the token is kept in memory only, the vault cannot store it: %s",
                           self.scheme_name, error)
            self._unsaved = token
        return token

    def forget(self) -> None:
        self.secrets.forget(self.token_name)
        self._unsaved = None

    def registration(self) -> ClientIdentity | None:
        text = self.secrets.load(self.registration_name)
        if text is None:
            return None
        with contextlib.suppress(ValueError, TypeError):
            return ClientIdentity(**json.loads(text))
        return None

    def save_registration(self, client: ClientIdentity) -> None:
        self.secrets.store(self.registration_name, json.dumps(asdict(client)))
