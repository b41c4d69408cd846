"""Swagger 2.0, OpenAPI 3.0 and 3.1 descriptions of the same API normalize to the same tools; base URLs."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from specbridge import codes
from specbridge.ir import RestConnector
from specbridge_runtime._core.descriptors import ServerVariable

from tests.generator_front.support import connector, normalize, oas3, op, swagger2

PET_20 = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "example": "Rex"}, "tag": {"type": "string", "x-nullable": True},
    "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
    "owner": {"$ref": "#/definitions/Owner"}}}
PET_30 = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "example": "Rex"}, "tag": {"type": "string", "nullable": True},
    "age": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
    "owner": {"$ref": "#/components/schemas/Owner"}}}
PET_31 = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "examples": ["Rex"]}, "tag": {"type": ["string", "null"]},
    "age": {"type": "integer", "exclusiveMinimum": 0},
    "owner": {"$ref": "#/components/schemas/Owner"}}}
OWNER = {"type": "object", "properties": {"email": {"type": "string"}, "pets": {"type": "array", "items": {
    "type": "integer"}}}}

SWAGGER = swagger2({"/pets/{petId}": {"put": op(
    operationId="updatePet", tags=["pets"], summary="Update a pet", consumes=["application/json"],
    parameters=[{"name": "petId", "in": "path", "required": True, "type": "integer", "format": "int64"},
                {"name": "tags", "in": "query", "type": "array", "items": {"type": "string"},
                 "collectionFormat": "multi"},
                {"name": "pet", "in": "body", "required": True, "schema": {"$ref": "#/definitions/Pet"}}],
    responses={"200": {"description": "ok", "schema": {"$ref": "#/definitions/Pet"}}},
    security=[{"key": []}])}},
    definitions={"Pet": PET_20, "Owner": OWNER},
    securityDefinitions={"key": {"type": "apiKey", "in": "header", "name": "X-Key"}})


def openapi3(version: str, pet: dict[str, Any]) -> dict[str, Any]:
    return oas3({"/pets/{petId}": {"put": op(
        operationId="updatePet", tags=["pets"], summary="Update a pet",
        parameters=[{"name": "petId", "in": "path", "required": True,
                     "schema": {"type": "integer", "format": "int64"}},
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
                     "style": "form", "explode": True}],
        requestBody={"required": True, "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Pet"}}}},
        responses={"200": {"description": "ok", "content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Pet"}}}}},
        security=[{"key": []}])}},
        version=version, components={"schemas": {"Pet": pet, "Owner": OWNER}, "securitySchemes": {
            "key": {"type": "apiKey", "in": "header", "name": "X-Key"}}})


def comparable(built: RestConnector) -> RestConnector:
    return replace(built, tools=tuple(replace(tool, location="") for tool in built.tools))


def test_the_three_dialects_normalize_alike() -> None:
    swagger, v30, v31 = (comparable(connector(document)) for document in (
        SWAGGER, openapi3("3.0.3", PET_30), openapi3("3.1.0", PET_31)))
    assert swagger == v30 == v31
    (tool,) = v31.tools
    assert [(a.name, a.schema) for a in tool.arguments] == [
        ("petId", {"type": "integer", "format": "int64"}),
        ("tags", {"type": "array", "items": {"type": "string"}}),
        ("name", {"type": "string", "examples": ["Rex"]}),
        ("tag", {"type": ["string", "null"]}),
        ("age", {"type": "integer", "exclusiveMinimum": 0}),
        ("owner", {"$ref": "#/components/schemas/Owner"}),
    ]
    assert v31.components == {"Owner": OWNER}
    assert v31.spec.base_url == "https://api.example.com/v1"


def test_base_url_precedence_and_server_variables() -> None:
    document = oas3({"/a": {"get": op()}}, servers=[
        {"url": "https://{region}.example.com/{version}/", "variables": {
            "region": {"default": "eu", "enum": ["eu", "us"]}, "version": {"default": "v2"}}},
        {"url": "https://other.example.com"}])
    spec = connector(document).spec
    assert spec.base_url == "https://{region}.example.com/{version}"
    assert spec.server_variables == (ServerVariable("region", "eu", ("eu", "us")), ServerVariable("version", "v2"))
    definition = {"type": "rest", "name": "x", "openapi": "x", "base_url": "https://def.example.com"}
    assert connector(document, definition).spec.base_url == "https://def.example.com"
    assert connector(document, definition, base_url="http://127.0.0.1:9000").spec.base_url == "http://127.0.0.1:9000"


def test_swagger2_host_scheme_and_base_path() -> None:
    assert connector(swagger2({"/a": {"get": op()}}, schemes=["http", "https"])).spec.base_url == (
        "https://api.example.com/v1")
    assert connector(swagger2({"/a": {"get": op()}}, schemes=["http"], basePath="/")).spec.base_url == (
        "http://api.example.com")


@pytest.mark.parametrize(("source", "expected", "warned"), [
    ("spec.yaml", "/api/v3", True),
    ("https://petstore.example.com/docs/openapi.json", "https://petstore.example.com/api/v3", False),
])
def test_relative_server_url(source: str, expected: str, warned: bool) -> None:
    result = normalize(oas3({"/a": {"get": op()}}, servers=[{"url": "/api/v3"}]), source=source, name="pets")
    assert result.connectors[0].spec.base_url == expected
    warnings = [d.message for d in result.diagnostics if d.code == codes.BASE_URL]
    assert bool(warnings) is warned
    if warned:
        assert "PETS_BASE_URL" in warnings[0]


def test_no_server_warns() -> None:
    result = normalize(oas3({"/a": {"get": op()}}, servers=[]))
    assert result.connectors[0].spec.base_url == ""
    assert [d.code for d in result.diagnostics if d.code == codes.BASE_URL] == [codes.BASE_URL]
