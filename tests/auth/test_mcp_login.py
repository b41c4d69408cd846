"""A wrapper of an MCP server protected by OAuth (the mcp SDK's own auth support, tokens checked against
oidc-provider) signs in with `NAME-mcp login` (authorization code + PKCE through the browser, the
authorization server found through the MCP server's protected-resource metadata, the client registered
dynamically) and then lists and calls the server's tools, as a user runs it."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from mcp import Client, StdioServerParameters
from specbridge.cli import main as specbridge
from specbridge_runtime._core.descriptors import AuthScheme, OAuthFlow, RemoteUpstream
from specbridge_runtime._mechanisms.oauth import OAuthError, StoredToken
from specbridge_runtime._mechanisms.oauth.client import OAuthClient
from specbridge_runtime._mechanisms.secrets import Secrets
from specbridge_runtime._providers.wrapper import WrapperProvider

from tests.auth.conftest import AuthServer, client_secret
from tests.auth.test_oauth import play_browser
from tests.support import REPO, free_port, serving

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def guarded(auth_server: AuthServer) -> Iterator[str]:
    """The protected MCP server on 127.0.0.1; its URL."""
    port = free_port()
    command = [sys.executable, "-m", "tests.auth.protected_mcp_server", str(port), auth_server.issuer, "mcp-server"]
    with serving(command, port, cwd=REPO, env={**os.environ, "MCP_CLIENT_SECRET": client_secret("mcp-server")}):
        yield f"http://127.0.0.1:{port}/mcp"


def generate(tmp_path: Path, url: str) -> Path:
    """`specbridge gen` of a custom wrapper whose only auth is OAuth, everything else discovered."""
    definition = tmp_path / "guarded.json"
    definition.write_text(json.dumps({
        "type": "custom", "name": "guarded", "title": "Guarded", "transport": {"type": "http", "url": url},
        "auth": [{"type": "oauth2", "scopes": ["read"]}]}))
    out = tmp_path / "guarded"
    assert specbridge(["gen", str(definition), "-o", str(out)]) == 0
    return out


def text_of(result) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def login(env: dict[str, str]) -> tuple[str, str]:
    """`guarded-mcp login --no-browser` with the test playing the browser: the sign-in URL and the output."""
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "guarded_mcp", "login", "--no-browser",
                                                   env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    try:
        url, seen = "", ""
        while not url.startswith("http"):
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, f"login ended without printing a URL: {seen}"
            url = line.decode().strip()
            seen += url + "\n"
        landed = await play_browser(url)
        assert landed.status_code == 200 and "Signed in" in landed.text
        _, rest = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode == 0, rest.decode()
    return url, rest.decode()


async def test_a_wrapper_signs_in_to_an_oauth_protected_mcp_server(guarded: str, auth_server: AuthServer,
                                                                  tmp_path: Path) -> None:
    out = generate(tmp_path, guarded)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": str(tmp_path / "home"),
           "SPECBRIDGE_AUDIT": "off"}
    server = StdioServerParameters(command=sys.executable, args=["-m", "guarded_mcp"], env=env)

    async with Client(server, cache=None) as client:  # not signed in yet: the call says what to do
        refused = await client.call_tool("guarded_whoami", {})
    assert refused.is_error and "guarded-mcp login" in text_of(refused)

    url, output = await login(env)
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).netloc == urlsplit(auth_server.issuer).netloc  # found through the server's metadata
    assert query["resource"] == [guarded] and query["code_challenge_method"] == ["S256"]
    assert query["redirect_uri"][0].startswith("http://127.0.0.1:") and query["scope"] == ["read"]
    assert "signed in to" in output and "refreshable" in output

    async with Client(server, cache=None) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert tools == {"guarded_whoami", "guarded_add"}
        added = await client.call_tool("guarded_add", {"a": 2, "b": 3})
        assert not added.is_error and text_of(added) == "5"
        whoami = await client.call_tool("guarded_whoami", {})
        assert text_of(whoami) == "subject=test-user scopes=read"


async def test_a_client_secret_never_goes_where_the_mcp_server_points(guarded: str, secrets: Secrets) -> None:
    """An MCP server's metadata names the authorization server; a confidential client's secret is only
    sent to one the definition names (`issuer_url`), so a hostile server cannot collect it."""
    scheme = AuthScheme(name="app", type="oauth2", flows=(OAuthFlow("authorization_code", scopes=("read",)),),
                        secrets=(("client_id", "vault:app_client_id"), ("client_secret", "vault:app_client_secret")))
    secrets.store("app_client_id", "machine")
    secrets.store("app_client_secret", client_secret("machine"))
    urls: list[str] = []
    with pytest.raises(OAuthError, match="issuer_url"):
        await OAuthClient(scheme, secrets, resource=guarded).login(notify=urls.append, open_browser=False,
                                                                    timeout_s=30)
    assert urls == []  # refused before any sign-in began


async def test_a_wrapper_uses_client_credentials_with_the_issuer_it_names(guarded: str, auth_server: AuthServer,
                                                                          secrets: Secrets) -> None:
    """Unattended: the client credentials go to the definition's `issuer_url`, the token (for the MCP server's
    URL as resource) is kept in the vault in the one format, and the calls go through."""
    secrets.store("machine_client_secret", client_secret("machine"))
    scheme = AuthScheme(name="machine", type="oauth2", issuer_url=auth_server.issuer,
                        secrets=(("client_id", "machine"), ("client_secret", "vault:machine_client_secret")),
                        flows=(OAuthFlow("client_credentials", scopes=("read",)),))
    before = auth_server.stats().get("client_credentials", 0)
    provider = WrapperProvider("guarded", RemoteUpstream(guarded, auth=scheme), secrets=secrets)
    try:
        assert {tool.name for tool in await provider.list_tools()} == {"guarded_whoami", "guarded_add"}
        result = await provider.call_tool("guarded_whoami", {})
        assert not result.is_error and text_of(result) == "subject=None scopes=read"
    finally:
        await provider.stop()
    assert auth_server.stats().get("client_credentials", 0) == before + 1
    assert StoredToken.from_json(secrets.load("machine_oauth_token") or "") is not None
