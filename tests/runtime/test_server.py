"""The MCP server over a provider, through a real `mcp.Client` in process, in both protocol eras."""

from collections.abc import Mapping
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import Client
from mcp.client.subscriptions import ToolsListChanged
from mcp.shared.exceptions import MCPError
from specbridge_runtime import OperationNotFound, build_server, current_caller
from specbridge_runtime.testing import assert_schemas_match_models, assert_tools_match_operations, connect, provider_for

MODES = ["auto", "legacy"]


def test_the_fixture_tools_json_is_what_its_models_advertise(package):
    assert_tools_match_operations(package)
    assert_schemas_match_models(package)


@pytest.mark.parametrize("mode", MODES)
async def test_tools_list_and_call_through_an_mcp_client(package, upstream, mode):
    upstream.route("GET", "/anything/{id}", json={"args": {"q": "x"}})
    async with Client(build_server(provider_for(package, upstream), version="1.0.0"), mode=mode, cache=None) as client:
        listed = await client.list_tools()
        assert [tool.name for tool in listed.tools] == [operation.tool for operation in package.operations]
        tool = next(tool for tool in listed.tools if tool.name == "sbfixture_get_anything")
        assert tool.input_schema["required"] == ["item_id"]
        assert tool.annotations.read_only_hint is True
        result = await client.call_tool("sbfixture_get_anything", {"item_id": "a/b", "q": "x"})
    assert not result.is_error
    assert result.structured_content == {"args": {"q": "x"}}
    assert upstream.last_request.url.raw_path == b"/api/anything/a%2Fb?q=x"


@pytest.mark.parametrize("mode", MODES)
async def test_errors_reach_the_client_as_error_results(package, upstream, mode):
    async with Client(build_server(provider_for(package, upstream)), mode=mode, cache=None) as client:
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("sbfixture_missing", {})
        invalid = await client.call_tool("sbfixture_status", {"code": "x"})
        upstream_404 = await client.call_tool("sbfixture_status", {"code": 404})
    # The MCP specification lists an unknown tool as the protocol error -32602 (invalid params).
    assert unknown.value.code == types.INVALID_PARAMS and "sbfixture_missing" in unknown.value.message
    assert invalid.is_error and "`code`" in invalid.content[0].text
    assert upstream_404.is_error and "HTTP 404" in upstream_404.content[0].text


async def test_json_results_satisfy_the_advertised_output_schemas(package, upstream):
    # The client validates structured content against outputSchema and raises on a mismatch.
    upstream.route("GET", "/items", json=[{"id": 1}])
    upstream.route("POST", "/anything/text", content=b"plain answer", headers={"content-type": "text/plain"})
    async with connect(provider_for(package, upstream)) as client:
        wrapped = await client.call_tool("sbfixture_list_items", {})
        text = await client.call_tool("sbfixture_post_text", {"body": "hi"})
    assert wrapped.structured_content == {"result": [{"id": 1}]}
    assert text.structured_content == {"result": "plain answer"}


async def test_a_cursor_is_invalid_params(package, upstream):
    # The server lists every tool in one page and hands out no cursor: any cursor is one it never gave.
    async with connect(provider_for(package, upstream)) as client:
        page = await client.list_tools()
        with pytest.raises(MCPError) as refused:
            await client.list_tools(cursor="anything")
    assert page.next_cursor is None and page.tools
    assert refused.value.code == types.INVALID_PARAMS and "cursor" in refused.value.message


class ChangingProvider:
    """A provider whose tools change, like a wrapper's upstream."""

    def __init__(self):
        self.tools = [types.Tool(name="first", input_schema={"type": "object"})]
        self.callbacks = []
        self.started = 0
        self.stopped = 0
        self.callers = []

    @property
    def name(self):
        return "changing"

    async def start(self):
        self.started += 1

    async def stop(self):
        self.stopped += 1

    async def list_tools(self):
        return self.tools

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        self.callers.append(current_caller())
        if name == "boom":
            raise RuntimeError("provider bug")
        if name != "first":
            raise OperationNotFound(f"operation not found: {name}")
        return types.CallToolResult(content=[types.TextContent(type="text", text="ok")])

    def on_tools_changed(self, callback):
        self.callbacks.append(callback)

    async def change(self):
        self.tools = [*self.tools, types.Tool(name="second", input_schema={"type": "object"})]
        for callback in self.callbacks:
            await callback()


async def test_the_provider_runs_while_a_client_is_connected():
    provider = ChangingProvider()
    async with connect(provider) as client:
        assert (provider.started, provider.stopped) == (1, 0)
        assert (await client.call_tool("first", {})).content[0].text == "ok"
    assert (provider.started, provider.stopped) == (1, 1)
    assert provider.callers == [None]


async def test_provider_failures_are_error_results():
    async with connect(ChangingProvider()) as client:
        crashed = await client.call_tool("boom", {})
        with pytest.raises(MCPError) as missing:
            await client.call_tool("nothing", {})
        after = await client.call_tool("first", {})
    assert crashed.is_error and "internal error" in crashed.content[0].text
    assert missing.value.code == types.INVALID_PARAMS and "operation not found" in missing.value.message
    assert not after.is_error


async def test_list_changed_reaches_a_handshake_era_client():
    provider = ChangingProvider()
    changed = anyio.Event()

    async def on_message(message):
        if isinstance(message, types.ServerNotification) and message.method == "notifications/tools/list_changed":
            changed.set()

    async with Client(build_server(provider), mode="legacy", cache=None, message_handler=on_message) as client:
        assert client.server_capabilities.tools.list_changed is True
        assert [tool.name for tool in (await client.list_tools()).tools] == ["first"]
        await provider.change()
        with anyio.fail_after(5):
            await changed.wait()
        assert [tool.name for tool in (await client.list_tools()).tools] == ["first", "second"]


async def test_list_changed_reaches_a_listening_2026_client():
    provider = ChangingProvider()
    async with connect(provider) as client:
        async with client.listen(tools_list_changed=True) as events:
            await provider.change()
            with anyio.fail_after(5):
                event = await anext(aiter(events))
        assert isinstance(event, ToolsListChanged)
        assert [tool.name for tool in (await client.list_tools()).tools] == ["first", "second"]


async def test_a_fixed_tool_sets_input_schemas_for_header_checks_are_the_ones_it_lists(package, upstream):
    # The SDK checks a 2026-07-28 call's Mcp-Param-* headers against the schema this lookup gives, where it
    # would otherwise run tools/list per call: it must be the schema listed, for every tool.
    server = build_server(provider_for(package, upstream))
    async with Client(server, mode="2026-07-28", cache=None) as client:
        listed = (await client.list_tools()).tools
    lookup = server.get_tool_input_schema
    assert lookup is not None
    assert {tool.name: lookup(tool.name) for tool in listed} == {tool.name: tool.input_schema for tool in listed}
    assert lookup("sbfixture_missing") is None


def test_a_tool_set_that_may_change_has_its_header_checks_run_on_its_own_listing():
    assert build_server(ChangingProvider()).get_tool_input_schema is None
