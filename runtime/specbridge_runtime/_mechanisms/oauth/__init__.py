"""One OAuth client for everything the runtime signs in to: the REST APIs of generated packages and the
MCP servers wrappers reach. Tokens and registered clients are kept in the connector's vault in one
format (`store`); `OAuthClient` (`client`) discovers (`discovery`), registers, fetches, refreshes
(single-flight) and signs in. The client and discovery are imported from their modules by what uses them:
they load the mcp SDK's OAuth models, httpx2 and a web server, which a server needs only for its first
OAuth call."""

from .errors import ClientRejected, LoginRequired, OAuthError
from .store import ClientIdentity, StoredToken, TokenStore, describe_token, snake

LOGIN_TIMEOUT_S = 300.0  # how long a sign-in waits for the browser (`login --timeout`)

__all__ = [
    "LOGIN_TIMEOUT_S",
    "ClientIdentity",
    "ClientRejected",
    "LoginRequired",
    "OAuthError",
    "StoredToken",
    "TokenStore",
    "describe_token",
    "snake",
]
