"""Request bodies: media type preference, flattening into arguments, whole-body arguments, files."""

from __future__ import annotations

from typing import Any

import pytest
from specbridge.normalize.schemas import binary_string
from specbridge_runtime.contract import Body, BodyField

from tests.generator_front.support import oas3, op, swagger2, tool

OBJECT = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "description": "Name"},
                                                                  "age": {"type": "integer"}}}


def with_body(content: dict[str, Any], required: bool = True, **extra: Any) -> dict[str, Any]:
    return oas3({"/things": {"post": op(requestBody={"required": required, "content": content})}}, **extra)


@pytest.mark.parametrize(("media_types", "chosen"), [
    (["application/xml", "application/json"], "application/json"),
    (["text/plain", "application/vnd.api+json"], "application/vnd.api+json"),
    (["multipart/form-data", "application/x-www-form-urlencoded"], "application/x-www-form-urlencoded"),
    (["application/octet-stream", "multipart/form-data"], "multipart/form-data"),
    (["application/octet-stream", "text/plain"], "text/plain"),
    (["image/png", "application/octet-stream"], "application/octet-stream"),
    (["application/xml", "application/yaml"], "application/xml"),
])
def test_media_type_preference(media_types: list[str], chosen: str) -> None:
    built = tool(with_body({media_type: {"schema": {"type": "string"}} for media_type in media_types}))
    assert built.body is not None and built.body.media_type == chosen


def test_object_body_is_flattened() -> None:
    built = tool(with_body({"application/json": {"schema": OBJECT}}))
    assert built.body == Body("application/json", fields=(BodyField(arg="name", prop="name"),
                                                          BodyField(arg="age", prop="age")), required=True)
    assert [(a.name, a.required, a.source, a.description) for a in built.arguments] == [
        ("name", True, "body", "Name"), ("age", False, "body", "")]


def test_optional_body_makes_no_field_required() -> None:
    built = tool(with_body({"application/json": {"schema": OBJECT}}, required=False))
    assert [a.required for a in built.arguments] == [False, False]


def test_body_through_a_component_ref_is_flattened_and_read_only_fields_dropped() -> None:
    schema = {**OBJECT, "properties": {**OBJECT["properties"], "id": {"type": "integer", "readOnly": True}}}
    built = tool(with_body({"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                           components={"schemas": {"Thing": schema}}))
    assert [a.name for a in built.arguments] == ["name", "age"]


@pytest.mark.parametrize("schema", [
    {"type": "array", "items": {"type": "string"}},
    {"allOf": [{"$ref": "#/components/schemas/Thing"}]},
    {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "string"}},
    {"type": "object"},
    {"$ref": "#/components/schemas/Thing"},
])
def test_other_bodies_are_one_body_argument(schema: dict[str, Any]) -> None:
    thing = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
    built = tool(with_body({"application/json": {"schema": schema}}, components={"schemas": {"Thing": thing}}))
    assert built.body == Body("application/json", arg="body", required=True)
    (argument,) = built.arguments
    assert (argument.name, argument.source, argument.required) == ("body", "body", True)


def test_body_argument_name_collides_with_a_parameter() -> None:
    document = oas3({"/things": {"post": op(
        parameters=[{"name": "body", "in": "query", "schema": {"type": "string"}}],
        requestBody={"content": {"text/plain": {"schema": {"type": "string"}}}})}})
    built = tool(document)
    assert [a.name for a in built.arguments] == ["body", "body_body"]
    assert built.body is not None and built.body.arg == "body_body"


def test_multipart_file_fields_and_binary_bodies() -> None:
    multipart = tool(with_body({"multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary"}, "files": {"type": "array", "items": {
            "type": "string", "format": "binary"}}, "caption": {"type": "string"}}}}}))
    assert multipart.body is not None and multipart.body.files == ("file", "files")
    assert multipart.arguments[0].schema == {"type": "string", "contentEncoding": "base64",
                                             "description": "File content, base64-encoded"}
    octets = tool(with_body({"application/octet-stream": {}}))
    assert octets.body == Body("application/octet-stream", arg="body", required=True, files=("body",))
    assert octets.arguments[0].schema == binary_string()
    text = tool(with_body({"text/csv": {}}))
    assert text.arguments[0].schema == {"type": "string"} and text.body is not None and text.body.files == ()


def test_swagger2_body_and_form_parameters() -> None:
    body = tool(swagger2({"/things": {"post": op(consumes=["application/xml", "application/json"], parameters=[
        {"name": "thing", "in": "body", "required": True, "schema": OBJECT}])}}))
    assert body.body == Body("application/json", fields=(BodyField(arg="name", prop="name"),
                                                         BodyField(arg="age", prop="age")), required=True)
    form = tool(swagger2({"/upload": {"post": op(parameters=[
        {"name": "file", "in": "formData", "type": "file", "required": True},
        {"name": "note", "in": "formData", "type": "string", "description": "A note"}])}}))
    assert form.body == Body("multipart/form-data", fields=(BodyField(arg="file", prop="file"),
                                                            BodyField(arg="note", prop="note")),
                             required=True, files=("file",))
    assert [(a.name, a.required, a.description) for a in form.arguments] == [("file", True, ""),
                                                                           ("note", False, "A note")]
    urlencoded = tool(swagger2({"/login": {"post": op(parameters=[
        {"name": "user", "in": "formData", "type": "string", "required": True}])}}))
    assert urlencoded.body is not None and urlencoded.body.media_type == "application/x-www-form-urlencoded"
