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


def test_object_response_is_loose_and_keeps_structure() -> None:
    built = tool(responding({"$ref": "#/components/schemas/Pet"}))
    assert built.wrap_output is False
    assert built.output_schema == {"type": "object", "description": "A pet", "properties": {
        "id": {"description": "Identifier"}, "status": {},
        "owner": {"description": "Who owns it", "properties": {"name": {}, "pets": {}}},
        "tags": {"items": {"properties": {"label": {}}}}}}
    schema = built.output_schema
    assert all_keys(schema) - {"type", "description", "properties", "items", "title"} <= {
        "id", "status", "owner", "name", "pets", "tags", "label"}
    validator = Draft202012Validator(schema)
    for value in ({}, {"id": "not a number", "status": 3, "owner": [1], "extra": True}, {"tags": "x"}):
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
    assert tool(created).output_schema == {"type": "object", "properties": {"made": {}}}
    assert tool(responding({"type": "string"}, media_type="text/plain")).output_schema is None
    assert tool(oas3({"/a": {"delete": op(responses={"204": {"description": "gone"}})}})).output_schema is None
    only_default = oas3({"/a": {"get": op(responses={"default": {"description": "x", "content": {
        "application/json": {"schema": {"type": "object", "properties": {"d": {}}}}}}})}})
    assert tool(only_default).output_schema == {"type": "object", "properties": {"d": {}}}
    assert tool(responding(None, media_type="application/problem+json")).output_schema == {"type": "object"}


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


def test_size_is_bounded() -> None:
    wide = {"type": "object", "properties": {f"p{index}": {"type": "object", "properties": {
        f"q{inner}": {"type": "string", "description": "x" * 1000} for inner in range(50)}} for index in range(50)}}
    built = tool(responding(wide))
    assert built.output_schema is not None
    assert property_count(built.output_schema) == output.MAX_NODES
    assert all(len(node.get("description", "")) <= output.DESCRIPTION_MAX
               for top in built.output_schema["properties"].values()
               for node in top.get("properties", {}).values())
