"""The hand-written fault API package keeps the emitted-package contract: tools.json advertises what the
models validate, and every operation has its model."""

from __future__ import annotations

import json
from importlib import resources

from tests.limits.fixtures.faultapi_mcp import models
from tests.limits.fixtures.faultapi_mcp.connector import PACKAGE


def test_tools_json_matches_the_models() -> None:
    listed = json.loads(resources.files(PACKAGE.package).joinpath("tools.json").read_text())
    assert [tool["name"] for tool in listed] == [operation.tool for operation in PACKAGE.operations]
    for tool, operation in zip(listed, PACKAGE.operations, strict=True):
        assert tool["inputSchema"] == getattr(models, operation.input_model).model_json_schema(by_alias=True)
