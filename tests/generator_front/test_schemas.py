"""Request schemas of every dialect as JSON Schema 2020-12, and the components tools refer to."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.normalize.document import SpecDocument
from specbridge.normalize.report import Reporter
from specbridge.normalize.schemas import SchemaNormalizer

from tests.generator_front.support import connector, oas3, op


def normalized(schema: Any, *, version: str = "3.0.3", schemas: dict[str, Any] | None = None
               ) -> tuple[Any, set[str], Reporter]:
    document = {"openapi": version, "components": {"schemas": schemas or {}}}
    report = Reporter("spec.json")
    refs: set[str] = set()
    result = SchemaNormalizer(SpecDocument(document), report).request(schema, "#/x", refs)
    Draft202012Validator.check_schema(result)
    return result, refs, report


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
    ({"type": "string", "x-nullable": True}, {"type": ["string", "null"]}),
    ({"type": ["string", "null"]}, {"type": ["string", "null"]}),
    ({"type": "string", "enum": ["a", "b"], "nullable": True}, {"type": ["string", "null"], "enum": ["a", "b", None]}),
    ({"$ref": "#/components/schemas/Pet", "nullable": True},
     {"anyOf": [{"$ref": "#/components/schemas/Pet"}, {"type": "null"}]}),
    ({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": True, "description": "d"},
     {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "description": "d"}),
    ({"type": "object", "allOf": [{"$ref": "#/components/schemas/Pet"}], "nullable": True},
     {"anyOf": [{"type": "object", "allOf": [{"$ref": "#/components/schemas/Pet"}]}, {"type": "null"}]}),
    ({"nullable": True, "description": "anything"}, {"description": "anything"}),
])
def test_nullable_becomes_a_null_type(schema: dict[str, Any], expected: dict[str, Any]) -> None:
    assert normalized(schema, schemas={"Pet": {"type": "object"}})[0] == expected


@pytest.mark.parametrize("schema", [
    {"type": "file"}, {"type": "string", "format": "binary"},
    {"type": "string", "contentMediaType": "application/octet-stream"},
])
def test_file_content_is_a_base64_string(schema: dict[str, Any]) -> None:
    result = normalized(schema)[0]
    assert result["type"] == "string" and result["contentEncoding"] == "base64"
    assert "format" not in result


def test_text_media_type_strings_stay_text() -> None:
    assert normalized({"type": "string", "contentMediaType": "application/json"})[0] == {
        "type": "string", "contentMediaType": "application/json"}


def test_30_keywords_become_2020_12() -> None:
    result = normalized({"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 10,
                         "exclusiveMaximum": False, "example": 5})[0]
    assert result == {"type": "number", "exclusiveMinimum": 0, "maximum": 10, "examples": [5]}
    assert normalized({"type": "array", "items": [{"type": "string"}, {"type": "integer"}]})[0] == {
        "type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}


def test_31_keywords_are_kept() -> None:
    schema = {"type": ["integer", "null"], "const": 3, "examples": [3], "exclusiveMaximum": 5,
              "prefixItems": [{"type": "string"}], "deprecated": True}
    assert normalized(schema, version="3.1.0")[0] == schema


def test_ref_siblings() -> None:
    pet = {"Pet": {"type": "object"}}
    described = normalized({"$ref": "#/components/schemas/Pet", "description": "the pet"}, schemas=pet)[0]
    assert described == {"$ref": "#/components/schemas/Pet", "description": "the pet"}
    constrained = normalized({"$ref": "#/components/schemas/Pet", "minProperties": 1}, schemas=pet)[0]
    assert constrained == {"allOf": [{"$ref": "#/components/schemas/Pet"}], "minProperties": 1}


def test_read_only_properties_are_dropped_from_requests() -> None:
    result = normalized({"type": "object", "required": ["id", "name"], "properties": {
        "id": {"type": "integer", "readOnly": True}, "name": {"type": "string"},
        "secret": {"type": "string", "writeOnly": True}}})[0]
    assert result == {"type": "object", "required": ["name"],
                      "properties": {"name": {"type": "string"}, "secret": {"type": "string"}}}


def test_unsupported_keywords_are_dropped_and_reported_once() -> None:
    result, _, report = normalized({"type": "object", "properties": {
        "a": {"type": "string", "if": {"minLength": 1}, "then": {"maxLength": 3}},
        "b": {"type": "string", "if": {"minLength": 1}, "discriminator": {"propertyName": "x"}},
        "c": {"type": "string", "x-internal": True, "xml": {"name": "c"}, "collectionFormat": "csv"}}})
    assert result["properties"] == {"a": {"type": "string"}, "b": {"type": "string"}, "c": {"type": "string"}}
    found = {(d.level, d.code, d.message, d.location) for d in report.finish()}
    assert (Level.WARNING, codes.UNSUPPORTED_KEYWORD, "schema keyword `if` is not supported; dropped (inputs are "
            "checked less strictly) (2 places; first here)", "#/x/properties/a") in found
    assert any(message.startswith("schema keyword `then`") for _, _, message, _ in found)
    assert any(level is Level.INFO and "`discriminator`" in message for level, _, message, _ in found)
    assert any(level is Level.INFO and "`collectionFormat`" in message for level, _, message, _ in found)
    assert len(found) == 4  # x-* and xml are dropped silently


@pytest.mark.parametrize(("schema", "expected"), [
    ({"type": "int"}, {"type": "integer"}), ({"type": "integer_"}, {}),
    ({"type": "string", "pattern": "(unclosed"}, {"type": "string"}),
    ({"type": "string", "minLength": "3"}, {"type": "string"}),
    ({"required": True}, {}), ({"enum": []}, {}), ({"allOf": []}, {}), ({"multipleOf": 0}, {}),
    ({"properties": {"a": "not a schema"}}, {"properties": {"a": {}}}), ("nonsense", {}),
])
def test_invalid_values_are_dropped_with_a_warning(schema: Any, expected: Any) -> None:
    result, _, report = normalized(schema)
    assert result == expected
    assert [(d.level, d.code) for d in report.finish()] == [(Level.WARNING, codes.INVALID_SCHEMA)]


def test_duplicate_required_names_are_merged_silently() -> None:
    result, _, report = normalized({"required": ["a", "a", "b"]})
    assert (result, report.finish()) == ({"required": ["a", "b"]}, ())


def test_inline_refs_missing_refs_and_inline_cycles() -> None:
    schemas = {"Pet": {"type": "object", "properties": {"name": {"type": "string"}}},
               "Loop": {"type": "object", "properties": {
                   "next": {"$ref": "#/components/schemas/Loop/properties/next"}}}}
    assert normalized({"$ref": "#/components/schemas/Pet/properties/name"}, schemas=schemas)[0] == {"type": "string"}
    missing, refs, report = normalized({"$ref": "#/components/schemas/Nope"}, schemas=schemas)
    assert (missing, refs) == ({}, set())
    assert [d.code for d in report.finish()] == [codes.SCHEMA_REF]
    cyclic, _, report = normalized({"$ref": "#/components/schemas/Loop/properties/next"}, schemas=schemas)
    assert cyclic == {}
    assert [d.code for d in report.finish()] == [codes.SCHEMA_REF]


def test_circular_components_survive_and_only_used_ones_are_kept() -> None:
    document = oas3({"/trees": {"post": op(requestBody={"content": {"application/json": {"schema": {
        "type": "object", "properties": {"root": {"$ref": "#/components/schemas/Node"}}}}}})}},
        components={"schemas": {
            "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {
                "$ref": "#/components/schemas/Node"}}, "meta": {"$ref": "#/components/schemas/Meta"}}},
            "Meta": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/Node"}}},
            "Unused": {"type": "string"}}})
    built = connector(document)
    assert list(built.components) == ["Meta", "Node"]
    assert built.components["Node"]["properties"]["children"]["items"] == {"$ref": "#/components/schemas/Node"}
    assert built.tools[0].arguments[0].schema == {"$ref": "#/components/schemas/Node"}
