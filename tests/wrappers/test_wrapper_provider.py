"""`WrapperProvider` against a real upstream MCP server (our test server, over stdio and streamable HTTP):
what it re-exposes, list changes, credentials. The npm reference server over each transport, down and back,
is in test_custom_wrappers.py."""

from __future__ import annotations

import dataclasses
import re
import sys
import time

import anyio
import pytest
from specbridge_runtime._core.descriptors import AuthScheme, RemoteUpstream, StdioUpstream
from specbridge_runtime._core.errors import ConfigurationError
from specbridge_runtime._core.naming import wrapped_tool_name
from specbridge_runtime._mechanisms.secrets import Secrets
from specbridge_runtime._providers.wrapper import Backoff, WrapperProvider

from tests.support import REPO
from tests.wrappers.conftest import UPSTREAM_MODULE

pytestmark = pytest.mark.timeout(120)

SECRET = "s3cret-value-123456"
ENVIRON = {"UPSTREAM_TOKEN": SECRET, "UPSTREAM_KEY": "key-abcdef"}


def stdio_upstream() -> StdioUpstream:
    return StdioUpstream(command=sys.executable, args=("-m", UPSTREAM_MODULE), cwd=str(REPO),
                         env=(("UPSTREAM_SECRET", "env:UPSTREAM_TOKEN"),))


def text_of(result) -> str:
    return "".join(getattr(part, "text", "") for part in result.content)


async def test_stdio_upstream_tools_are_prefixed_and_keep_their_metadata() -> None:
    provider = WrapperProvider("calc", stdio_upstream(), secrets=Secrets("calc", environ=ENVIRON))
    try:
        tools = {tool.name: tool for tool in await provider.list_tools()}
        assert {"calc_add", "calc_dotted_name", "calc_secret_env", "calc_grow"} <= set(tools)
        add = tools["calc_add"]
        assert add.title == "Add two numbers"
        assert add.description == "Adds a and b."
        assert add.annotations is not None and add.annotations.read_only_hint is True
        assert add.output_schema is not None and "total" in add.output_schema["properties"]
        assert set(add.input_schema["required"]) == {"a", "b"}

        result = await provider.call_tool("calc_add", {"a": 2, "b": 40})
        assert not result.is_error
        assert result.structured_content == {"total": 42}
        assert text_of(await provider.call_tool("calc_dotted_name", {})) == "dotted"
        # The secret reached the server through its environment, resolved from the env: reference.
        assert text_of(await provider.call_tool("calc_secret_env", {})) == SECRET

        unknown = await provider.call_tool("calc_nope", {})
        assert unknown.is_error and "calc_nope" in text_of(unknown)
    finally:
        await provider.stop()


async def test_upstream_tool_list_changes_are_followed() -> None:
    provider = WrapperProvider("calc", stdio_upstream(), secrets=Secrets("calc", environ=ENVIRON))
    changed = anyio.Event()

    async def on_change() -> None:
        changed.set()

    provider.on_tools_changed(on_change)
    try:
        assert "calc_extra" not in {tool.name for tool in await provider.list_tools()}
        assert text_of(await provider.call_tool("calc_grow", {})) == "grown"
        with anyio.fail_after(10):
            await changed.wait()
        assert "calc_extra" in {tool.name for tool in await provider.list_tools()}
        assert text_of(await provider.call_tool("calc_extra", {})) == "extra!"
    finally:
        await provider.stop()


async def test_remote_upstream_gets_headers_and_auth_from_secret_references(upstream_http: str) -> None:
    upstream = RemoteUpstream(
        upstream_http, "streamable_http", headers=(("X-API-Key", "env:UPSTREAM_KEY"),),
        auth=AuthScheme(name="token", type="bearer", secrets=(("token", "env:UPSTREAM_TOKEN"),)),
    )
    provider = WrapperProvider("calc", upstream, secrets=Secrets("calc", environ=ENVIRON))
    try:
        assert text_of(await provider.call_tool("calc_headers", {})) == f"key=key-abcdef auth=Bearer {SECRET}"
    finally:
        await provider.stop()


async def test_missing_secret_says_which_and_never_hangs() -> None:
    provider = WrapperProvider("calc", stdio_upstream(), secrets=Secrets("calc", environ={}),
                               backoff=Backoff(0.1, 0.5))
    try:
        started = time.monotonic()
        result = await provider.call_tool("calc_add", {"a": 1, "b": 2})
        assert result.is_error
        assert "upstream MCP server calc is down" in text_of(result)
        assert "UPSTREAM_TOKEN is not set" in text_of(result)
        assert time.monotonic() - started < 10
        status = await provider.status()
        assert not status.connected and "UPSTREAM_TOKEN" in status.detail
    finally:
        await provider.stop()


def test_exposed_names_follow_the_64_character_rule() -> None:
    long_name = "describe_" + "very_" * 20 + "long_operation"
    exposed = wrapped_tool_name("analytics", long_name)
    assert len(exposed) == 64 and re.fullmatch(r"[A-Za-z0-9_-]+", exposed)
    assert exposed == wrapped_tool_name("analytics", long_name)  # deterministic
    assert exposed != wrapped_tool_name("analytics", long_name + "2")
    assert wrapped_tool_name("calc", "dotted.name/v2") == "calc_dotted_name_v2"


async def test_oauth_uses_the_sdk_client_with_tokens_kept_in_the_vault(tmp_path, monkeypatch) -> None:
    from mcp.client.auth.extensions.client_credentials import ClientCredentialsOAuthProvider
    from mcp.shared.auth import OAuthToken
    from specbridge_runtime._core.descriptors import OAuthFlow
    from specbridge_runtime._mechanisms.mcp_transports import VaultTokenStorage, _http_auth

    environ = {"SPECBRIDGE_HOME": str(tmp_path), "CALC_CLIENT_SECRET": "client-secret-value"}
    secrets = Secrets("calc", environ=environ)
    scheme = AuthScheme(name="oauth", type="oauth2", secrets=(("client_id", "calc-client"),
                                                              ("client_secret", "env:CALC_CLIENT_SECRET")),
                        flows=(OAuthFlow(grant="client_credentials", scopes=("tools:read",)),))
    with pytest.raises(ConfigurationError, match="issuer_url"):  # never let the server pick the secret's recipient
        _http_auth(RemoteUpstream("https://mcp.example.com/mcp", auth=scheme), secrets, None)
    scheme = dataclasses.replace(scheme, issuer_url="https://auth.example.com")
    auth = _http_auth(RemoteUpstream("https://mcp.example.com/mcp", auth=scheme), secrets, None)
    assert isinstance(auth, ClientCredentialsOAuthProvider)
    assert auth._fixed_client_info.client_id == "calc-client"
    assert auth._fixed_client_info.client_secret == "client-secret-value"
    assert auth.context.client_metadata.scope == "tools:read"

    storage = VaultTokenStorage(secrets)
    await storage.set_tokens(OAuthToken(access_token="at-123456", refresh_token="rt-654321", expires_in=60))
    again = await VaultTokenStorage(Secrets("calc", environ=environ)).get_tokens()
    assert again is not None and again.access_token == "at-123456"
    assert await VaultTokenStorage(Secrets("other", environ=environ)).get_tokens() is None
    assert b"at-123456" not in b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
