"""Contract tests of this generated package: the tools it advertises are the operations it runs, each
advertised input schema is exactly what its input model validates, each input model is a public name of
`models`, and a call reaches the API."""

import asyncio

from specbridge_runtime.testing import (
    MockUpstream,
    assert_schemas_match_models,
    assert_tools_match_operations,
    connect,
    provider_for,
)

from notes_mcp import models
from notes_mcp.connector import PACKAGE


def test_tools_json_lists_the_operations() -> None:
    assert_tools_match_operations(PACKAGE)


def test_each_advertised_input_schema_is_what_its_model_validates() -> None:
    assert_schemas_match_models(PACKAGE)


def test_each_input_model_is_a_public_name_of_models() -> None:
    for operation in PACKAGE.operations:
        assert getattr(models, operation.input_model) is PACKAGE.input_model(operation)


def test_a_call_reaches_the_api() -> None:
    upstream = MockUpstream()
    upstream.route("GET", "/notes", json={"ok": True})

    async def call() -> bool:
        async with connect(provider_for(PACKAGE, upstream)) as client:
            result = await client.call_tool("notes_list_notes", {})
        return result.is_error

    assert not asyncio.run(call())
    assert upstream.last_request.method == "GET"
