"""Streamable HTTP and SSE on 127.0.0.1 with the SDK's clients: serving, inbound auth (the caller reaches the
call), Host checks, and the refusal to expose a server without auth."""

import asyncio
import json
import socket
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
import uvicorn
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.server.auth.provider import AccessToken
from specbridge_runtime import ConfigurationError, InboundAuth, build_http_app, build_server, build_sse_app
from specbridge_runtime._mechanisms.transports import check_exposure, listen
from specbridge_runtime.testing import provider_for

from tests.runtime.test_rest_provider import RecordingAudit
from tests.support import free_port

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


class StaticVerifier:
    async def verify_token(self, token):
        if token == "good-token":
            return AccessToken(token=token, client_id="client-1", scopes=["mcp"], subject="alice")
        return None


AUTH = InboundAuth(verifier=StaticVerifier(), required_scopes=("mcp",))


@asynccontextmanager
async def serving(app, port):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None))
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


@pytest.fixture
def served(package, upstream):
    upstream.route("GET", "/headers", json={"headers": {}})
    audit = RecordingAudit()
    return build_server(provider_for(package, upstream, audit=audit)), audit


async def test_streamable_http_serves_an_sdk_client(served):
    server, audit = served
    port = free_port()
    async with serving(build_http_app(server, port=port), port) as url, Client(f"{url}/mcp", cache=None) as client:
        assert len((await client.list_tools()).tools) == 13
        result = await client.call_tool("sbfixture_get_headers", {})
    assert result.structured_content == {"headers": {}}
    assert audit.records[0].caller is None


async def test_sse_serves_an_sdk_client(served):
    server, _ = served
    port = free_port()
    async with serving(build_sse_app(server, port=port), port) as url, Client(sse_client(f"{url}/sse"),
                                                                             cache=None) as client:
        assert len((await client.list_tools()).tools) == 13
        result = await client.call_tool("sbfixture_get_headers", {})
    assert result.structured_content == {"headers": {}}


async def test_http_with_inbound_auth_refuses_without_a_valid_token_and_knows_the_caller(served):
    server, audit = served
    port = free_port()
    async with serving(build_http_app(server, port=port, inbound=AUTH), port) as url:
        async with httpx2.AsyncClient() as http:
            missing = await http.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            wrong = await http.post(f"{url}/mcp", json=INITIALIZE,
                                    headers={**MCP_HEADERS, "authorization": "Bearer bad-token"})
        assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
        assert wrong.status_code == 401
        authorized = httpx2.AsyncClient(headers={"Authorization": "Bearer good-token"})
        async with authorized, Client(streamable_http_client(f"{url}/mcp", http_client=authorized),
                                      cache=None) as client:
            result = await client.call_tool("sbfixture_get_headers", {})
    assert not result.is_error
    assert audit.records[0].caller == "alice"


async def test_sse_with_inbound_auth_refuses_without_a_token_and_knows_the_caller(served):
    server, audit = served
    port = free_port()
    async with serving(build_sse_app(server, port=port, inbound=AUTH), port) as url:
        async with httpx2.AsyncClient() as http:
            assert (await http.get(f"{url}/sse")).status_code == 401
            assert (await http.post(f"{url}/messages/?session_id=x", json=INITIALIZE)).status_code == 401
        async with Client(sse_client(f"{url}/sse", headers={"Authorization": "Bearer good-token"}),
                          cache=None) as client:
            result = await client.call_tool("sbfixture_get_headers", {})
    assert not result.is_error
    assert audit.records[0].caller == "alice"


async def test_resource_server_mode_publishes_protected_resource_metadata(served):
    server, _ = served
    port = free_port()
    inbound = InboundAuth(verifier=StaticVerifier(), resource_server_url=f"http://127.0.0.1:{port}/mcp",
                          authorization_servers=("https://auth.example.com",))
    async with serving(build_http_app(server, port=port, inbound=inbound), port) as url, httpx2.AsyncClient() as http:
        metadata = await http.get(f"{url}/.well-known/oauth-protected-resource/mcp")
        refused = await http.post(f"{url}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert metadata.status_code == 200
    assert metadata.json()["authorization_servers"] == ["https://auth.example.com"]
    assert "resource_metadata=" in refused.headers["www-authenticate"]


async def test_only_the_bound_and_allowed_host_names_are_answered(served):
    server, _ = served
    port = free_port()
    app = build_http_app(server, port=port, allowed_hosts=("mcp.example.com",))
    async with serving(app, port) as url, httpx2.AsyncClient() as http:
        async def initialize(host):
            response = await http.post(f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "host": host})
            return response.status_code

        assert await initialize(f"127.0.0.1:{port}") == 200
        assert await initialize(f"localhost:{port}") == 200
        assert await initialize("mcp.example.com") == 200
        assert await initialize("evil.example.com") == 421


def test_serving_without_inbound_auth_needs_no_auth_on_a_loopback_host():
    check_exposure("127.0.0.1", None, no_auth=True)
    check_exposure("::1", AUTH, no_auth=False)
    check_exposure("0.0.0.0", AUTH, no_auth=False)
    with pytest.raises(ConfigurationError, match="SPECBRIDGE_SERVER_TOKEN"):
        check_exposure("0.0.0.0", None, no_auth=False)
    with pytest.raises(ConfigurationError, match="--no-auth"):
        check_exposure("127.0.0.1", None, no_auth=False)
    with pytest.raises(ConfigurationError, match="only allowed on a loopback host"):
        check_exposure("10.1.2.3", AUTH, no_auth=True)


def test_initialize_advertises_tool_list_changes(served):
    server, _ = served
    options = server.create_initialization_options()
    assert json.loads(options.capabilities.model_dump_json(by_alias=True))["tools"]["listChanged"] is True


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
async def test_connections_accepted_on_the_listening_socket_send_without_nagle_delay(host):
    # Nagle's algorithm holds a response's second write (its body after its head) until the client ACKs the
    # first, which a client delaying its ACKs does ~40 ms later: every accepted connection must be TCP_NODELAY.
    try:
        sock = listen(host, 0)
    except ConfigurationError:
        pytest.skip(f"{host} is not available here")
    accepted: list[int] = []

    class Accepting(asyncio.Protocol):
        def connection_made(self, transport):
            accepted.append(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Accepting, sock=sock)
    async with server:
        reader, writer = await asyncio.open_connection(host, sock.getsockname()[1])
        assert await reader.read() == b""
        writer.close()
    assert accepted == [1]
