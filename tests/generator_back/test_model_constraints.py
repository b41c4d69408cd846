"""What the models check before a request is sent: the formats the README promises (the value sent stays the
text the client gave), object sizes, defaults through references; and every constraint they cannot check is
a diagnostic, never dropped silently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from specbridge import codes
from specbridge.models import emit_models

from tests.generator_back.conftest import arg, one_tool_connector, operation, query, spec

GOOD = {
    "uuid": ["123e4567-e89b-12d3-a456-426614174000", "00000000-0000-0000-0000-000000000000"],
    "date-time": ["2024-02-29T23:59:60.123456789-00:00", "1985-04-12t23:20:50.52z", "2024-01-01T00:00:00+14:00"],
    "date": ["2024-02-29", "0001-01-01"],
    "email": ["a.b+c@example.com", "user@[192.0.2.1]", "x@localhost"],
    "uri": ["https://example.com/a%20b?q=1#f", "urn:isbn:0451450523", "mailto:a@example.com"],
    "ipv4": ["192.0.2.1", "0.0.0.0"],
    "ipv6": ["::1", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1"],
}
BAD = {
    "uuid": ["123e4567e89b12d3a456426614174000", "{123e4567-e89b-12d3-a456-426614174000}", "x"],
    "date-time": ["2024-02-30T10:00:00Z", "2024-01-01 10:00:00Z", "2024-01-01T10:00:00", "2024-01-01T25:00:00Z"],
    "date": ["2024-1-01", "2023-02-29", "20240101"],
    "email": ["no-at-sign", "a@b@c", "a b@example.com", "a@", "@example.com"],
    "uri": ["no scheme", "/relative/path", "https://example.com/a b", "https://example.com/%zz"],
    "ipv4": ["256.0.0.1", "192.0.2", "01.2.3.4"],
    "ipv6": ["2001:db8::g", "fe80::1%eth0", "1.2.3.4"],
}


def model_of(run_models: Any, *arguments: Any, components: dict[str, Any] | None = None) -> type[BaseModel]:
    emitted, module = run_models(one_tool_connector(*arguments, components=components))
    model: type[BaseModel] = getattr(module, emitted.input_models["demo_do"])
    return model


@pytest.mark.parametrize("text_format", sorted(GOOD))
def test_the_promised_formats_are_checked_and_kept_as_given(run_models: Any, text_format: str) -> None:
    model = model_of(run_models, arg("value", {"type": "string", "format": text_format}))
    for good in GOOD[text_format]:
        assert model.model_validate({"value": good}).model_dump(mode="json") == {"value": good}
    for bad in BAD[text_format]:
        with pytest.raises(ValidationError, match=f"not a valid {text_format}"):
            model.model_validate({"value": bad})
    assert model.model_json_schema()["properties"]["value"]["format"] == text_format


def test_an_unknown_format_is_advertised_and_not_checked(run_models: Any) -> None:
    model = model_of(run_models, arg("value", {"type": "string", "format": "colour"}),
                     arg("count", {"type": "integer", "format": "int64"}))
    model.model_validate({"value": "anything", "count": 3})
    properties = model.model_json_schema()["properties"]
    assert properties["value"]["format"] == "colour" and properties["count"]["format"] == "int64"


async def test_a_bad_formatted_argument_never_reaches_the_api_and_a_good_one_goes_unchanged(gen: Any) -> None:
    generated = gen(spec("Formats", {"/things": {"get": operation("find", parameters=[
        query("id", {"type": "string", "format": "uuid"}), query("since", {"type": "string", "format": "date-time"}),
    ])}}))
    assert generated.exit_code == 0, generated.printed
    since = "2024-02-29t23:59:60.5+01:00"  # unusual but valid RFC 3339: sent exactly as written
    result, upstream = await generated.call("find", {"id": "123E4567-E89B-12D3-A456-426614174000", "since": since})
    assert not result.is_error, result
    assert dict(upstream.requests[0].url.params) == {"id": "123E4567-E89B-12D3-A456-426614174000", "since": since}
    result, upstream = await generated.call("find", {"id": "not-a-uuid"})
    assert result.is_error and "not a valid uuid" in str(result.content) and upstream.requests == []


def test_min_and_max_properties_of_a_map_are_checked_and_advertised(run_models: Any) -> None:
    model = model_of(run_models, arg("labels", {"type": "object", "additionalProperties": {"type": "string"},
                                                "minProperties": 1, "maxProperties": 2}, required=True))
    model.model_validate({"labels": {"a": "b"}})
    for bad in ({}, {"a": "1", "b": "2", "c": "3"}):
        with pytest.raises(ValidationError):
            model.model_validate({"labels": bad})
    advertised = model.model_json_schema()["properties"]["labels"]
    assert advertised["minProperties"] == 1 and advertised["maxProperties"] == 2


@pytest.mark.parametrize(("schema", "named"), [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "minProperties": 1}, "minProperties"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
     "additionalProperties"),
    ({"type": "array", "items": {"type": "string"}, "uniqueItems": True}, "uniqueItems"),
    ({"type": "string", "not": {"enum": ["x"]}}, "not"),
    ({"type": "object", "patternProperties": {"^x-": {"type": "string"}}}, "patternProperties"),
])
def test_a_constraint_the_models_cannot_check_is_reported(schema: dict[str, Any], named: str) -> None:
    emitted = emit_models(one_tool_connector(arg("value", schema)))
    reported = [d for d in emitted.diagnostics if d.code == codes.CONSTRAINT_NOT_CHECKED]
    assert len(reported) == 1 and named in reported[0].message


def test_a_component_class_reports_its_unchecked_constraints_once() -> None:
    components = {"Patch": {"type": "object", "properties": {"a": {"type": "string"}}, "minProperties": 1}}
    ref = {"$ref": "#/components/schemas/Patch"}
    emitted = emit_models(one_tool_connector(arg("first", ref), arg("second", ref), components=components))
    reported = [d for d in emitted.diagnostics if d.code == codes.CONSTRAINT_NOT_CHECKED]
    assert len(reported) == 1 and reported[0].location == "#/components/schemas/Patch"


def test_a_default_of_a_referenced_enum_is_kept(run_models: Any) -> None:
    components = {"Status": {"type": "string", "enum": ["open", "closed"]}}
    status = {"$ref": "#/components/schemas/Status", "default": "open"}
    emitted = emit_models(one_tool_connector(arg("status", status), components=components))
    assert [d.code for d in emitted.diagnostics] == []
    model = model_of(run_models, arg("status", status), components=components)
    assert model.model_validate({}).model_dump() == {"status": "open"}
    assert model.model_json_schema()["properties"]["status"]["default"] == "open"


def test_a_default_outside_a_referenced_enum_is_dropped_with_a_diagnostic() -> None:
    components = {"Status": {"type": "string", "enum": ["open", "closed"]}}
    emitted = emit_models(one_tool_connector(arg("status", {"$ref": "#/components/schemas/Status",
                                                            "default": "archived"}), components=components))
    assert [d.code for d in emitted.diagnostics] == [codes.DEFAULT_DROPPED]


def tree(depth: int, prefix: str = "n") -> dict[str, Any]:
    """An object nesting `depth` levels of distinct inline objects, four children each, ten strings a level."""
    properties: dict[str, Any] = {f"{prefix}_text{i}": {"type": "string", "description": f"text {i} of {prefix}"}
                                  for i in range(10)}
    if depth:
        properties |= {f"{prefix}_child{i}": tree(depth - 1, f"{prefix}{i}") for i in range(4)}
    return {"type": "object", "description": f"node {prefix}", "properties": properties}


TREE_SPEC = spec("Tree", {"/trees": {"post": operation("plant", body={
    "type": "object", "required": ["root"], "properties": {"root": tree(3)}})}})
DEEP_WRONG = {"n_child0": {"n0_child0": {"n00_text1": 5}}}  # a number where a string belongs, 3 levels down
SHALLOW_WRONG = ({"n_text0": 5}, {"n_child0": {"n0_text0": 5}})


async def test_an_input_schema_over_the_default_budget_keeps_what_fits_and_opens_the_deepest_objects(
        gen: Any) -> None:
    generated = gen(TREE_SPEC)
    assert generated.exit_code == 0, generated.printed
    assert codes.INPUT_SCHEMA_BUDGET in generated.printed
    [tool] = generated.package.definitions()
    schema_text = json.dumps(tool["inputSchema"], separators=(",", ":"))
    assert len(schema_text.encode()) <= 16 * 1024
    assert '"description":"node n00"' in schema_text  # an opened object keeps its description
    result, upstream = await generated.call("plant", {"root": DEEP_WRONG})
    assert not result.is_error, result  # left to the API, sent as given
    assert json.loads(upstream.requests[0].content) == {"root": DEEP_WRONG}
    for wrong in SHALLOW_WRONG:  # the two levels that fit are still checked
        result, upstream = await generated.call("plant", {"root": wrong})
        assert result.is_error and upstream.requests == []


async def test_the_budget_is_set_in_the_definition(gen: Any, tmp_path: Path) -> None:
    (tmp_path / "tree.json").write_text(json.dumps(TREE_SPEC))
    generated = gen({"type": "rest", "openapi": "tree.json", "input_schema_budget": 1_000_000})
    assert generated.exit_code == 0, generated.printed
    assert codes.INPUT_SCHEMA_BUDGET not in generated.printed
    result, upstream = await generated.call("plant", {"root": DEEP_WRONG})
    assert result.is_error and upstream.requests == []
