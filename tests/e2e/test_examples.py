"""The example-value builder the Prism tests call tools with: every value it makes validates against the
schema it was made from, and the same schema always gives the same value."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.examples import ExampleError, example_arguments

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "required": ["id", "when", "mail", "n", "ratio", "tags", "mode", "code"], "properties": {
        "id": {"type": "string", "format": "uuid"}, "when": {"type": "string", "format": "date-time"},
        "mail": {"type": "string", "format": "email"}, "optional": {"type": "string"},
        "n": {"type": "integer", "minimum": 10, "maximum": 20, "multipleOf": 3},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "tags": {"type": "array", "minItems": 3, "uniqueItems": True, "items": {"type": "string", "minLength": 2}},
        "mode": {"enum": [None, "fast", "slow"]},
        "code": {"type": "string", "pattern": "^AC[0-9a-f]{32}$"}}},
    {"type": "object", "required": ["body"], "$defs": {"Pet": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 3, "examples": ["Rex"]}, "kind": {"type": "string"}}}},
     "properties": {"body": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Pet"}]}}},
    {"type": "object", "required": ["filter"], "properties": {"filter": {
        "type": "object", "minProperties": 2, "additionalProperties": {"type": "integer", "minimum": 5}}}},
    {"type": "object", "required": ["all"], "properties": {"all": {"allOf": [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "boolean"}}},
        {"type": "object", "required": ["b"], "properties": {"b": {"const": 7}}}]}}},
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_examples_are_valid_and_deterministic(schema: dict[str, Any]) -> None:
    value = example_arguments(schema)
    Draft202012Validator(schema, format_checker=FormatChecker()).validate(value)
    assert example_arguments(schema) == value
    assert "optional" not in value


def test_given_examples_win_when_valid() -> None:
    assert example_arguments(SCHEMAS[1]) == {"body": {"name": "Rex"}}
    assert example_arguments(SCHEMAS[0])["n"] == 12 and example_arguments(SCHEMAS[0])["mode"] == "fast"


def test_an_unsatisfiable_pattern_is_an_error_not_a_bad_value() -> None:
    schema = {"type": "object", "required": ["x"], "properties": {"x": {
        "type": "string", "pattern": "^[a-z]{10}$", "maxLength": 3}}}
    with pytest.raises(ExampleError):
        example_arguments(schema)
