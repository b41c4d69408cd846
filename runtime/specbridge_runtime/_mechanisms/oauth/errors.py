"""What goes wrong with OAuth, as the runtime's credential errors (each message says what to do)."""

from __future__ import annotations

from ..secrets import CredentialError


class OAuthError(CredentialError):
    """The authorization server could not be used or refused us; the message says what to do."""


class LoginRequired(OAuthError):
    """No usable token and no way to get one unattended: the user must run `<name>-mcp login`."""


class ClientRejected(OAuthError):
    """The authorization server does not accept this client (revoked, or wrong credentials)."""


class InvalidGrant(Exception):
    """A refresh token the server no longer accepts (expired, revoked, already rotated)."""
