"""Contract tests of this generated package: the tools it advertises are the operations it runs, each
advertised input schema is exactly what its input model validates, and a call reaches the API."""

import asyncio
import json
from importlib import resources
from typing import Any

from pydantic import BaseModel
from specbridge_runtime.testing import MockUpstream, connect, provider_for

from notes_mcp import models
from notes_mcp.connector import PACKAGE
from notes_mcp.tools import OPERATIONS

TOOLS: list[dict[str, Any]] = json.loads(resources.files("notes_mcp").joinpath("tools.json").read_text("utf-8"))


def test_tools_json_lists_the_operations() -> None:
    assert [tool["name"] for tool in TOOLS] == [operation.tool for operation in OPERATIONS]
    assert len(PACKAGE.tools()) == len(OPERATIONS)


def test_each_advertised_input_schema_is_what_its_model_validates() -> None:
    advertised = {tool["name"]: tool["inputSchema"] for tool in TOOLS}
    different = []
    for operation in OPERATIONS:
        model = getattr(models, operation.input_model)
        assert isinstance(model, type) and issubclass(model, BaseModel)
        if model.model_json_schema(by_alias=True, mode="validation") != advertised[operation.tool]:
            different.append(operation.tool)
    assert not different


def test_a_call_reaches_the_api() -> None:
    upstream = MockUpstream()
    upstream.route("GET", "/notes", json={"ok": True})

    async def call() -> bool:
        async with connect(provider_for(PACKAGE, upstream)) as client:
            result = await client.call_tool("notes_list_notes", {})
        return result.is_error

    assert not asyncio.run(call())
    assert upstream.last_request.method == "GET"
