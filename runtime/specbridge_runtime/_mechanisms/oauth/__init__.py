"""One OAuth client for everything the runtime signs in to: the REST APIs of generated packages and the
MCP servers wrappers reach. Tokens and registered clients are kept in the connector's vault in one
format (`store`); `OAuthClient` discovers, registers, fetches, refreshes (single-flight) and signs in."""

from .client import LOGIN_TIMEOUT_S, REFRESH_SKEW_S, OAuthClient
from .discovery import HTTP_TIMEOUT_S, Endpoints, discover_metadata, discover_resource
from .errors import ClientRejected, LoginRequired, OAuthError
from .store import ClientIdentity, StoredToken, TokenStore, describe_token, snake

__all__ = [
    "HTTP_TIMEOUT_S",
    "LOGIN_TIMEOUT_S",
    "REFRESH_SKEW_S",
    "ClientIdentity",
    "ClientRejected",
    "Endpoints",
    "LoginRequired",
    "OAuthClient",
    "OAuthError",
    "StoredToken",
    "TokenStore",
    "describe_token",
    "discover_metadata",
    "discover_resource",
    "snake",
]
