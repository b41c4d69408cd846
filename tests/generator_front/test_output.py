"""Output schemas: loose (any JSON object satisfies them), bounded, wrapped for non-objects."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from specbridge.normalize import output

from tests.generator_front.support import oas3, op, swagger2, tool

PET = {"type": "object", "required": ["id"], "description": "A pet", "properties": {
    "id": {"type": "integer", "format": "int64", "description": "Identifier"},
    "status": {"type": "string", "enum": ["a", "b"]},
    "owner": {"$ref": "#/components/schemas/Owner", "description": "Who owns it"},
    "tags": {"type": "array", "items": {"type": "object", "properties": {"label": {"type": "string"}}}}}}
OWNER = {"type": "object", "additionalProperties": False, "properties": {
    "name": {"type": "string"}, "pets": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}


def responding(schema: Any, status: str = "200", media_type: str = "application/json") -> dict[str, Any]:
    responses = {status: {"description": "ok", "content": {media_type: {"schema": schema}}},
                 "404": {"description": "no", "content": {"application/json": {"schema": {"type": "string"}}}}}
    return oas3({"/pets": {"get": op(responses=responses)}},
                components={"schemas": {"Pet": PET, "Owner": OWNER}})


def all_keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {key for value in node.values() for key in all_keys(value)}
    if isinstance(node, list):
        return {key for value in node for key in all_keys(value)}
    return set()


def body_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The output schema without the `_response` every one names (checked on its own below)."""
    if schema is None:
        return None
    assert schema["properties"]["_response"] == output.response_node(())
    properties = {key: value for key, value in schema["properties"].items() if key != "_response"}
    rest = {key: value for key, value in schema.items() if key != "properties"}
    return {**rest, "properties": properties} if properties else rest


def test_object_response_is_loose_and_keeps_structure() -> None:
    built = tool(responding({"$ref": "#/components/schemas/Pet"}))
    assert built.wrap_output is False
    # Names only (descriptions live in the tool's description and input schema), to depth 2.
    assert body_schema(built.output_schema) == {"type": "object", "properties": {
        "id": {}, "status": {}, "owner": {"properties": {"name": {}, "pets": {}}},
        "tags": {"items": {"properties": {"label": {}}}}}}
    schema = body_schema(built.output_schema)
    assert all_keys(schema) - {"type", "properties", "items"} <= {
        "id", "status", "owner", "name", "pets", "tags", "label"}
    validator = Draft202012Validator(built.output_schema)
    for value in ({}, {"id": "not a number", "status": 3, "owner": [1], "extra": True}, {"tags": "x"},
                  {"id": 1, "_response": {"status": 200, "headers": {"etag": "x"}, "links": {"next": "/p?page=2"}}}):
        assert validator.is_valid(value)


@pytest.mark.parametrize("schema", [{"type": "array", "items": {"$ref": "#/components/schemas/Pet"}},
                                    {"type": "string"}, {"type": ["integer", "null"]}])
def test_non_object_response_is_wrapped(schema: dict[str, Any]) -> None:
    built = tool(responding(schema))
    assert built.wrap_output is True
    assert built.output_schema is not None
    assert built.output_schema["required"] == ["result"]
    assert Draft202012Validator(built.output_schema).is_valid({"result": [1, "two"]})


def test_first_success_response_wins_and_no_json_means_no_output() -> None:
    created = oas3({"/a": {"post": op(responses={
        "201": {"description": "made", "content": {"application/json": {"schema": {"type": "object", "properties": {
            "made": {}}}}}},
        "200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}},
        "default": {"description": "error", "content": {"application/json": {"schema": {"type": "string"}}}}})}})
    assert body_schema(tool(created).output_schema) == {"type": "object", "properties": {"made": {}}}
    assert tool(responding({"type": "string"}, media_type="text/plain")).output_schema is None
    assert tool(oas3({"/a": {"delete": op(responses={"204": {"description": "gone"}})}})).output_schema is None
    only_default = oas3({"/a": {"get": op(responses={"default": {"description": "x", "content": {
        "application/json": {"schema": {"type": "object", "properties": {"d": {}}}}}}})}})
    assert body_schema(tool(only_default).output_schema) == {"type": "object", "properties": {"d": {}}}
    problem = tool(responding(None, media_type="application/problem+json")).output_schema
    assert body_schema(problem) == {"type": "object"}


def test_swagger2_responses_and_produces() -> None:
    document = swagger2({"/a": {"get": op(responses={"200": {"description": "ok", "schema": {
        "type": "array", "items": {"type": "string"}}}})},
        "/b": {"get": op(produces=["text/html"], responses={"200": {"description": "ok", "schema": {
            "type": "string"}}})}})
    assert tool(document, "test_get_a").wrap_output is True
    assert tool(document, "test_get_b").output_schema is None


def property_count(node: Any) -> int:
    if not isinstance(node, dict):
        return 0
    properties = node.get("properties", {})
    return len(properties) + sum(property_count(value) for value in properties.values()) + property_count(
        node.get("items"))


def name_bytes(node: Any) -> int:
    if not isinstance(node, dict):
        return 0
    properties = node.get("properties", {})
    own = sum(len(name) + 5 for name in properties) + (len('"items":{},') if "items" in node else 0)
    return own + sum(name_bytes(value) for value in properties.values()) + name_bytes(node.get("items"))


def test_size_is_bounded_breadth_first() -> None:
    wide = {"type": "object", "description": "x" * 1000, "properties": {f"p{index}": {
        "type": "object", "description": "x" * 1000,
        "properties": {f"q{inner}": {"type": "string", "description": "x" * 1000} for inner in range(50)}}
        for index in range(50)}}
    built = tool(responding(wide))
    body = body_schema(built.output_schema)
    assert body is not None
    assert 0 < name_bytes(body) <= output.MAX_NAME_BYTES
    assert "description" not in all_keys(built.output_schema)
    top = list(body["properties"])
    # The top level's names come first (in document order), before any nested one.
    assert top == [f"p{index}" for index in range(len(top))]
    assert property_count(body) == len(top)


def test_output_schemas_none_advertises_none_but_still_wraps_non_objects() -> None:
    from tests.generator_front.support import connector

    array = responding({"type": "array", "items": {"$ref": "#/components/schemas/Pet"}})
    for built in (tool(array, output_schemas="none"),
                  connector(array, {"type": "rest", "name": "test", "openapi": "spec.json",
                                    "output_schemas": "none"}).tools[0]):
        assert built.output_schema is None
        assert built.wrap_output is True  # the result is still structured content, {"result": [...]}
    assert tool(array).output_schema is not None  # loose is the default


def test_documented_response_headers_are_named_and_reach_the_operation() -> None:
    headers = {"ETag": {"description": "Version of the record", "schema": {"type": "string"}},
               "Next-Page": {"$ref": "#/components/headers/NextPage"}}
    document = oas3({"/pets": {"get": op(responses={
        "200": {"description": "ok", "headers": headers,
                "content": {"application/json": {"schema": {"type": "array", "items": {}}}}},
        "304": {"description": "same", "headers": {"X-Not-Success": {}}}})}},
        components={"headers": {"NextPage": {"description": "URL of the next page", "schema": {"type": "string"}}}})
    built = tool(document)
    assert built.response_headers == ("ETag", "Next-Page")
    assert built.output_schema is not None and built.wrap_output is True
    assert built.output_schema["properties"]["_response"]["properties"]["headers"] == {
        "properties": {"etag": {}, "next-page": {}}}
