"""Hostile specs against the models, as a user meets them: `specbridge gen` on a spec file, then the generated
package's tools called through an MCP client. Each case is a diagnostic or simply works, and never loses the
rest of the spec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specbridge import codes
from specbridge.normalize.model_build import MAX_UNION

from tests.generator_back.conftest import operation, query, spec


async def test_a_union_of_thousands_of_members_accepts_any_value_with_a_diagnostic(gen: Any) -> None:
    members = [{"type": "string", "enum": [f"v{index}"]} for index in range(3_000)]
    checked = [{"type": "string", "enum": [f"v{index}"]} for index in range(MAX_UNION)]
    generated = gen(spec("Unions", {
        "/huge": {"get": operation("huge", parameters=[query("choice", {"oneOf": members})])},
        "/checked": {"get": operation("checked", parameters=[query("choice", {"anyOf": checked})])},
    }))
    assert generated.exit_code == 0, generated.printed
    assert codes.UNION_NOT_CHECKED in generated.printed and "3000 oneOf/anyOf members" in generated.printed
    result, upstream = await generated.call("huge", {"choice": "anything at all"})
    assert not result.is_error, result
    assert upstream.requests[0].url.params["choice"] == "anything at all"
    # A union within the limit is checked, on every call, deep in the server's stack.
    result, upstream = await generated.call("checked", {"choice": f"v{MAX_UNION - 1}"})
    assert not result.is_error, result
    assert upstream.requests[0].url.params["choice"] == f"v{MAX_UNION - 1}"
    result, upstream = await generated.call("checked", {"choice": "v-unknown"})
    assert result.is_error and upstream.requests == []


NON_FINITE_JSON = """{"openapi": "3.0.3", "info": {"title": "Bounds", "version": "1"},
 "servers": [{"url": "https://api.example.com"}],
 "paths": {
  "/big": {"get": {"operationId": "big", "responses": {"200": {"description": "ok"}}, "parameters": [
    {"name": "n", "in": "query", "schema": {"type": "number", "minimum": 0, "maximum": 1e400}},
    {"name": "m", "in": "query", "schema": {"type": "integer", "exclusiveMinimum": -1e999, "multipleOf": 1e400}},
    {"name": "s", "in": "query", "schema": {"type": "string", "maxLength": 1e400}}]}},
  "/other": {"get": {"operationId": "other", "responses": {"200": {"description": "ok"}}}}}}
"""

NON_FINITE_YAML = """openapi: 3.0.3
info: {title: Bounds, version: "1"}
servers: [{url: "https://api.example.com"}]
paths:
  /big:
    get:
      operationId: big
      responses: {"200": {description: ok}}
      parameters:
        - {name: n, in: query, schema: {type: number, minimum: 0, maximum: .inf}}
        - {name: m, in: query, schema: {type: integer, exclusiveMinimum: -.inf, multipleOf: .nan}}
        - {name: s, in: query, schema: {type: string, maxLength: .inf}}
  /other:
    get: {operationId: other, responses: {"200": {description: ok}}}
"""


@pytest.mark.parametrize(("document", "suffix"), [(NON_FINITE_JSON, ".json"), (NON_FINITE_YAML, ".yaml")])
async def test_a_numeric_constraint_that_is_not_finite_is_dropped_with_a_diagnostic(
        gen: Any, document: str, suffix: str) -> None:
    generated = gen(document, suffix)
    assert generated.exit_code == 0, generated.printed
    assert codes.INVALID_SCHEMA in generated.printed and "is not a finite number" in generated.printed
    tools = [tool["name"] for tool in generated.package.definitions()]
    assert tools == [f"{generated.name}_big", f"{generated.name}_other"]  # nothing of the spec is lost
    result, upstream = await generated.call("big", {"n": 1e300, "m": 7, "s": "x" * 10})
    assert not result.is_error, result
    assert upstream.requests[0].url.params["m"] == "7"
    result, upstream = await generated.call("big", {"n": -1})  # the finite bound is still checked
    assert result.is_error and upstream.requests == []


@pytest.mark.timeout(240)  # generation used to grow with the square of the width (over 300 s at 50,000)
async def test_an_object_with_tens_of_thousands_of_properties_generates_and_validates(
        gen: Any, tmp_path: Path) -> None:
    width = 30_000
    properties = {f"field{index}": {"type": "string"} for index in range(width)}
    properties["field-0"] = {"type": "integer"}  # wants the attribute name of `field0`'s neighbour
    (tmp_path / "wide.json").write_text(json.dumps(spec("Wide", {"/things": {"post": operation("create", body={
        "type": "object", "properties": {"payload": {"type": "object", "properties": properties,
                                                     "required": ["field-0"]}}})}})))
    # A budget large enough for every property to be checked (the default would leave `payload` open).
    generated = gen({"type": "rest", "openapi": "wide.json", "input_schema_budget": 10**9})
    assert generated.exit_code == 0, generated.printed
    payload = {"field0": "a", "field-0": 3, f"field{width - 1}": "z"}
    result, upstream = await generated.call("create", {"payload": payload})
    assert not result.is_error, result
    assert json.loads(upstream.requests[0].content) == {"payload": payload}
    result, upstream = await generated.call("create", {"payload": {"field0": "a"}})
    assert result.is_error and "field-0" in str(result.content) and upstream.requests == []
