"""`login`: sign in to the connector's OAuth authorization server (authorization code with PKCE through a
loopback redirect), for a REST package's API or a wrapper's MCP server; the tokens go to the vault, where
the server finds and refreshes them."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .._core.descriptors import AuthScheme, RemoteUpstream
from .._core.errors import ConfigurationError
from .._mechanisms.oauth import LOGIN_TIMEOUT_S, StoredToken, describe_token
from .._mechanisms.secrets import Secrets
from .._providers.package import RestPackage, WrapperPackage

if TYPE_CHECKING:
    from .._mechanisms.oauth.client import OAuthClient
    from ._context import CliContext


def oauth_scheme(schemes: tuple[AuthScheme, ...], wanted: str | None) -> AuthScheme:
    oauth = [scheme for scheme in schemes if scheme.type == "oauth2"]
    if wanted is not None:
        oauth = [scheme for scheme in oauth if scheme.name == wanted]
    if len(oauth) == 1:
        return oauth[0]
    names = ", ".join(scheme.name for scheme in schemes if scheme.type == "oauth2")
    if not oauth:
        raise ConfigurationError(f"no OAuth scheme {wanted!r} here (OAuth schemes: {names or 'none'})")
    raise ConfigurationError(f"this connector has several OAuth schemes ({names}): choose one with --scheme")


class LoginCommand:
    name = "login"
    help = "sign in with OAuth (authorization code + PKCE in the browser); tokens are stored in the vault"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--scheme", help="the OAuth scheme to sign in for, when the connector has several")
        parser.add_argument("--no-browser", action="store_true", help="only print the URL to open")
        parser.add_argument("--port", type=int, default=0,
                            help="port of the 127.0.0.1 redirect listener (default: any free port)")
        parser.add_argument("--timeout", type=float, default=LOGIN_TIMEOUT_S, help="seconds to wait for the sign-in")

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        import anyio

        client, connector = _oauth_client(cli, args.scheme)
        scheme = client.scheme

        def show(url: str) -> None:
            cli.note(f"Open this URL in a browser to sign in{'' if args.no_browser else ' (opening it now)'}:\n{url}")

        async def sign_in() -> StoredToken:
            if not any(flow.grant == "authorization_code" for flow in scheme.flows) and scheme.flows:
                return await client.client_credentials()
            return await client.login(notify=show, open_browser=not args.no_browser, port=args.port,
                                      timeout_s=args.timeout)

        token = anyio.run(sign_in)
        cli.note(f"signed in to {scheme.name!r} of {connector}: {describe_token(token.to_json())}, "
                 "stored in the vault")
        return 0


def _oauth_client(cli: CliContext, wanted: str | None) -> tuple[OAuthClient, str]:
    """The OAuth client of the scheme to sign in with: a REST package's, or the one of a wrapper's MCP server."""
    from .._mechanisms.mcp_transports import mcp_oauth_client
    from .._mechanisms.oauth.client import OAuthClient

    target = cli.target
    if isinstance(target, RestPackage):
        scheme = oauth_scheme(target.connector.auth, wanted)
        return OAuthClient(scheme, Secrets(target.name, environ=cli.environ)), target.name
    if isinstance(target, WrapperPackage):
        upstream = target.connector.upstream
        auth = upstream.auth if isinstance(upstream, RemoteUpstream) else None
        if isinstance(upstream, RemoteUpstream) and auth is not None:
            scheme = oauth_scheme((auth,), wanted)
            return mcp_oauth_client(upstream, scheme, Secrets(target.name, environ=cli.environ)), target.name
    raise ConfigurationError("login is for servers that sign in with OAuth; this one has no OAuth scheme "
                             "(a wrapper signs in only to a remote MCP server whose auth is oauth2)")
