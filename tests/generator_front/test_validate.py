"""validate: versions are detected, structure problems are warnings, only hopeless input is an error."""

from __future__ import annotations

from typing import Any

import pytest
from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.validate import detect_version, is_openapi_document, validate_openapi

from tests.generator_front.support import oas3, op, swagger2


@pytest.mark.parametrize(("document", "version"), [
    ({"swagger": "2.0"}, "2.0"), ({"swagger": 2.0}, "2.0"), ({"openapi": "3.0.0"}, "3.0"),
    ({"openapi": "3.0.4"}, "3.0"), ({"openapi": "3.1.0"}, "3.1"), ({"openapi": "3.1.1"}, "3.1"),
    ({"openapi": "3.2.0"}, None), ({"openapi": "2.0"}, None), ({"swagger": "1.2"}, None), ({}, None),
])
def test_version_detection(document: dict[str, Any], version: str | None) -> None:
    assert detect_version(document) == version


@pytest.mark.parametrize(("document", "fragment"), [
    ({"openapi": "3.2.0", "paths": {}}, "openapi '3.2.0' is not supported"),
    ({"swagger": "1.2"}, "swagger '1.2' is not supported"),
    ({"info": {"title": "x"}}, "neither an `openapi` nor a `swagger` field"),
])
def test_unsupported_versions_are_errors(document: dict[str, Any], fragment: str) -> None:
    (diagnostic,) = validate_openapi(document, "spec.yaml")
    assert (diagnostic.level, diagnostic.code) == (Level.ERROR, codes.VERSION)
    assert fragment in diagnostic.message


def test_a_valid_document_has_no_diagnostics() -> None:
    document = oas3({"/pets/{id}": {"parameters": [{"name": "id", "in": "path", "required": True,
                                                     "schema": {"type": "string"}}],
                                     "get": op(operationId="getPet")}})
    assert validate_openapi(document, "spec.json") == ()
    assert validate_openapi(swagger2({"/pets": {"get": op(operationId="list")}}), "spec.json") == ()


def test_structural_problems_are_warnings_with_pointers() -> None:
    document = {
        "openapi": "3.0.3", "info": {"title": 3}, "servers": [{"description": "no url"}],
        "components": {"securitySchemes": {"weird": {"type": "magic"}}},
        "paths": {
            "pets": {"get": op(operationId="list")},
            "/pets/{id}": {"get": {"operationId": "list", "parameters": [
                {"name": "id", "in": "path"}, {"name": "q", "in": "body"}, {"in": "query"}]}},
            "/a/{b}": {"post": op(parameters=[{"name": "c", "in": "path", "required": True}])},
            "/x": {"get": "nonsense"},
        },
    }
    found = {(d.code, d.location) for d in validate_openapi(document, "spec.json")}
    assert all(d.level is Level.WARNING for d in validate_openapi(document, "spec.json"))
    assert found == {
        (codes.STRUCTURE, "#/info/title"), (codes.STRUCTURE, "#/info/version"), (codes.STRUCTURE, "#/servers/0"),
        (codes.STRUCTURE, "#/components/securitySchemes/weird"), (codes.STRUCTURE, "#/paths/pets"),
        (codes.DUPLICATE_OPERATION_ID, "#/paths/~1pets~1{id}/get/operationId"),
        (codes.STRUCTURE, "#/paths/~1pets~1{id}/get"),  # no responses
        (codes.STRUCTURE, "#/paths/~1pets~1{id}/get/parameters/1"),
        (codes.STRUCTURE, "#/paths/~1pets~1{id}/get/parameters/2"),
        (codes.PATH_TEMPLATE, "#/paths/~1pets~1{id}/get"),  # id not required
        (codes.PATH_TEMPLATE, "#/paths/~1a~1{b}/post"),  # {b} undeclared, c not in path
        (codes.STRUCTURE, "#/paths/~1x/get"),
    }


def test_refs_to_parameters_are_followed_and_missing_paths_allowed_in_31() -> None:
    document = oas3({"/p/{id}": {"get": op(parameters=[{"$ref": "#/components/parameters/id"}])}},
                    components={"parameters": {"id": {"name": "id", "in": "path", "required": True}}})
    assert validate_openapi(document, "spec.json") == ()
    assert validate_openapi({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "webhooks": {}}, "s") == ()
    assert [d.location for d in validate_openapi({"openapi": "3.0.0", "info": {"title": "t", "version": "1"}},
                                                 "s")] == ["#/paths"]


def test_openapi_document_or_definition() -> None:
    assert is_openapi_document({"openapi": "3.1.0", "info": {}})
    assert is_openapi_document({"swagger": "2.0"})
    assert not is_openapi_document({"type": "rest", "openapi": "specs/shop.yaml"})
    assert not is_openapi_document(["openapi"])
