"""`WrapperProvider` against a real upstream MCP server (our test server, over stdio and streamable HTTP):
what it re-exposes, list changes, credentials. The npm reference server over each transport, down and back,
is in test_custom_wrappers.py."""

from __future__ import annotations

import dataclasses
import re
import sys

import anyio
import pytest
from specbridge_runtime._core.descriptors import AuthScheme, RemoteUpstream, StdioUpstream
from specbridge_runtime._core.errors import ConfigurationError, OperationNotFound
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

        with pytest.raises(OperationNotFound, match="calc_nope"):
            await provider.call_tool("calc_nope", {})
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
        with anyio.fail_after(10):  # a bound for the test run: the call answers, it does not wait to connect
            result = await provider.call_tool("calc_add", {"a": 1, "b": 2})
        assert result.is_error
        assert "upstream MCP server calc is down" in text_of(result)
        assert "UPSTREAM_TOKEN is not set" in text_of(result)
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


def test_client_credentials_for_an_mcp_server_need_their_authorization_server(tmp_path) -> None:
    """The client secret goes to the authorization server the definition names, never to one the MCP
    server would name in its metadata. (Signing in and calling through OAuth: tests/auth/test_mcp_login.py.)"""
    from specbridge_runtime._core.descriptors import OAuthFlow
    from specbridge_runtime._mechanisms.mcp_transports import mcp_oauth_client

    secrets = Secrets("calc", environ={"SPECBRIDGE_HOME": str(tmp_path), "CALC_CLIENT_SECRET": "client-secret-value"})
    scheme = AuthScheme(name="oauth", type="oauth2", secrets=(("client_id", "calc-client"),
                                                              ("client_secret", "env:CALC_CLIENT_SECRET")),
                        flows=(OAuthFlow(grant="client_credentials", scopes=("tools:read",)),))
    upstream = RemoteUpstream("https://mcp.example.com/mcp", auth=scheme)
    with pytest.raises(ConfigurationError, match="issuer_url"):
        mcp_oauth_client(upstream, scheme, secrets)
    named = dataclasses.replace(scheme, issuer_url="https://auth.example.com")
    assert mcp_oauth_client(upstream, named, secrets).resource == upstream.url  # the RFC 8707 resource indicator
