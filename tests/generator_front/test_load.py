"""load: files and URLs, limits, and bundling of external $refs within the spec's folder or origin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specbridge import codes, load
from specbridge.diagnostics import Level
from specbridge.load import load_document

from tests.generator_front.conftest import SpecServer
from tests.support import SHARED_SPECS


def write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def spec_with(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths, **extra}


def body_schema(document: dict[str, Any], path: str = "/pets") -> Any:
    return document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]


PETS_WITH_REF = spec_with({"/pets": {"post": {
    "requestBody": {"content": {"application/json": {"schema": {"$ref": "models/pet.yaml"}}}},
    "responses": {"200": {"$ref": "responses.json#/ok"}}}}})


def test_yaml_file_with_external_refs_is_bundled(tmp_path: Path) -> None:
    write(tmp_path, "spec.json", PETS_WITH_REF)
    write(tmp_path, "models/pet.yaml", "type: object\nproperties:\n  owner: {$ref: 'owner.yaml'}\n")
    write(tmp_path, "models/owner.yaml", "type: object\nproperties:\n  name: {type: string}\n")
    write(tmp_path, "responses.json", {"ok": {"description": "fine", "headers": {"X-Rate": {"$ref": "#/rate"}}},
                                       "rate": {"schema": {"type": "integer"}}})
    loaded = load_document("spec.json", cwd=tmp_path)
    assert loaded.diagnostics == ()
    document = loaded.document
    assert document is not None
    # Schemas become named components with internal refs; other objects are inlined.
    assert body_schema(document) == {"$ref": "#/components/schemas/pet"}
    assert document["components"]["schemas"] == {
        "pet": {"type": "object", "properties": {"owner": {"$ref": "#/components/schemas/owner"}}},
        "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    assert document["paths"]["/pets"]["post"]["responses"]["200"] == {
        "description": "fine", "headers": {"X-Rate": {"schema": {"type": "integer"}}}}
    assert loaded.sources[0] == "spec.json"
    assert sorted(loaded.sources[1:]) == ["models/owner.yaml", "models/pet.yaml", "responses.json"]
    assert [source for source, _ in loaded.digests] == list(loaded.sources)


def test_derived_component_names_do_not_collide(tmp_path: Path) -> None:
    document = spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "a": {"$ref": "a/Pet.json"}, "b": {"$ref": "b/Pet.json"}, "c": {"$ref": "#/components/schemas/Pet"}}}}}},
        "responses": {"200": {"description": "ok"}}}}},
        components={"schemas": {"Pet": {"type": "string"}}})
    write(tmp_path, "spec.json", document)
    write(tmp_path, "a/Pet.json", {"type": "integer"})
    write(tmp_path, "b/Pet.json", {"type": "boolean"})
    loaded = load_document("spec.json", cwd=tmp_path)
    assert loaded.document is not None
    properties = body_schema(loaded.document)["properties"]
    assert properties == {"a": {"$ref": "#/components/schemas/Pet_2"}, "b": {"$ref": "#/components/schemas/Pet_3"},
                          "c": {"$ref": "#/components/schemas/Pet"}}
    assert loaded.document["components"]["schemas"] == {"Pet": {"type": "string"}, "Pet_2": {"type": "integer"},
                                                         "Pet_3": {"type": "boolean"}}


def test_circular_external_schemas_terminate_as_refs(tmp_path: Path) -> None:
    write(tmp_path, "spec.json", spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "node.json"}}}},
        "responses": {"200": {"description": "ok"}}}}}))
    write(tmp_path, "node.json", {"type": "object", "properties": {
        "children": {"type": "array", "items": {"$ref": "node.json"}}, "self": {"$ref": "#"}}})
    loaded = load_document("spec.json", cwd=tmp_path)
    assert loaded.diagnostics == ()
    assert loaded.document is not None
    assert loaded.document["components"]["schemas"]["node"]["properties"] == {
        "children": {"type": "array", "items": {"$ref": "#/components/schemas/node"}},
        "self": {"$ref": "#/components/schemas/node"}}


def test_circular_non_schema_refs_end_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "spec.json", spec_with({"/a": {"$ref": "item.json"}}))
    write(tmp_path, "item.json", {"get": {"responses": {"200": {"$ref": "item.json#/get/responses/200"}}}})
    loaded = load_document("spec.json", cwd=tmp_path)
    assert [d.code for d in loaded.diagnostics] == [codes.REF_CYCLE]
    assert loaded.document is not None


@pytest.mark.corpus
def test_swagger2_external_schemas_become_definitions() -> None:
    folder = SHARED_SPECS / "oai-v2.0-petstore-separate"
    loaded = load_document("spec/swagger.json", cwd=folder, root_dir=folder)
    assert loaded.diagnostics == ()
    document = loaded.document
    assert document is not None
    assert set(document["definitions"]) == {"Pet", "NewPet", "Error"}
    assert document["definitions"]["NewPet"]["allOf"][0] == {"$ref": "#/definitions/Pet"}
    get = document["paths"]["/pets"]["get"]
    assert [parameter["name"] for parameter in get["parameters"]] == ["tags", "limit"]
    assert get["responses"]["default"]["schema"] == {"$ref": "#/definitions/Error"}


def test_refs_leaving_the_spec_folder_are_refused(tmp_path: Path) -> None:
    secret = write(tmp_path, "secret.json", {"type": "string", "description": "TOP SECRET"})
    spec_folder = tmp_path / "spec"
    write(spec_folder, "spec.json", spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "up": {"$ref": "../secret.json"}, "absolute": {"$ref": str(secret)},
            "file_url": {"$ref": secret.as_uri()}, "remote": {"$ref": "http://127.0.0.1:9/x.json"}}}}}},
        "responses": {"200": {"description": "ok"}}}}}))
    loaded = load_document("spec/spec.json", cwd=tmp_path)
    assert loaded.document is not None
    assert "TOP SECRET" not in json.dumps(loaded.document)
    assert loaded.sources == ("spec/spec.json",)
    refused = [d for d in loaded.diagnostics if d.code == codes.REF_REFUSED]
    assert len(refused) == 4 and all(d.level is Level.WARNING for d in refused)
    assert body_schema(loaded.document)["properties"] == {"up": {}, "absolute": {}, "file_url": {}, "remote": {}}


def test_root_dir_widens_the_boundary(tmp_path: Path) -> None:
    write(tmp_path, "common/error.json", {"type": "string"})
    write(tmp_path, "spec/spec.json", spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "../common/error.json"}}}},
        "responses": {"200": {"description": "ok"}}}}}))
    loaded = load_document("spec/spec.json", cwd=tmp_path, root_dir=tmp_path)
    assert loaded.diagnostics == ()
    assert loaded.document is not None
    assert loaded.document["components"]["schemas"] == {"error": {"type": "string"}}


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "outside.json", {"type": "string"})
    write(tmp_path, "spec/spec.json", spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": "link.json"}}}},
        "responses": {"200": {"description": "ok"}}}}}))
    (tmp_path / "spec" / "link.json").symlink_to(tmp_path / "outside.json")
    loaded = load_document("spec/spec.json", cwd=tmp_path)
    assert [d.code for d in loaded.diagnostics] == [codes.REF_REFUSED]


def test_missing_ref_target_and_missing_file(tmp_path: Path) -> None:
    write(tmp_path, "spec.json", spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {
            "a": {"$ref": "other.json#/nope"}, "b": {"$ref": "gone.json"}}}}}},
        "responses": {"200": {"description": "ok"}}}}}))
    write(tmp_path, "other.json", {"yes": {}})
    loaded = load_document("spec.json", cwd=tmp_path)
    assert sorted(d.code for d in loaded.diagnostics) == [codes.UNREADABLE, codes.REF_UNRESOLVED]
    unreadable = next(d for d in loaded.diagnostics if d.code == codes.UNREADABLE)
    assert unreadable.source == "gone.json"


def test_unreadable_root_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    missing = load_document("nope.yaml", cwd=tmp_path)
    assert missing.document is None
    assert [(d.level, d.code) for d in missing.diagnostics] == [(Level.ERROR, codes.UNREADABLE)]
    write(tmp_path, "list.yaml", "- a\n- b\n")
    assert [d.code for d in load_document("list.yaml", cwd=tmp_path).diagnostics] == [codes.NOT_A_MAPPING]
    write(tmp_path, "bad.json", '{"openapi": }')
    (bad,) = load_document("bad.json", cwd=tmp_path).diagnostics
    assert bad.code == codes.SYNTAX and "line 1, column 13" in bad.message
    assert load_document(".", cwd=tmp_path).diagnostics[0].code == codes.UNREADABLE


def test_file_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_BYTES", 100)
    write(tmp_path, "big.json", {"openapi": "3.0.0", "x": "y" * 200})
    loaded = load_document("big.json", cwd=tmp_path)
    assert loaded.document is None
    assert [d.code for d in loaded.diagnostics] == [codes.TOO_LARGE]


def test_url_with_relative_refs_of_the_same_origin(spec_server: SpecServer) -> None:
    spec_server.files["/api/spec.json"] = json.dumps(PETS_WITH_REF).encode()
    spec_server.files["/api/models/pet.yaml"] = b"type: object\nproperties: {name: {type: string}}\n"
    spec_server.files["/api/responses.json"] = json.dumps({"ok": {"description": "fine"}}).encode()
    loaded = load_document(f"{spec_server.url}/api/spec.json", cwd=Path("/nonexistent"))
    assert loaded.diagnostics == ()
    assert loaded.document is not None
    assert loaded.document["components"]["schemas"]["pet"]["properties"] == {"name": {"type": "string"}}
    assert loaded.sources[0] == f"{spec_server.url}/api/spec.json"


def test_url_refs_to_another_origin_are_refused(spec_server: SpecServer) -> None:
    other = spec_server.url.replace("127.0.0.1", "localhost")
    spec_server.files["/spec.json"] = json.dumps(spec_with({"/pets": {"post": {
        "requestBody": {"content": {"application/json": {"schema": {"$ref": f"{other}/pet.json"}}}},
        "responses": {"200": {"description": "ok"}}}}})).encode()
    spec_server.files["/pet.json"] = b'{"type": "string"}'
    loaded = load_document(f"{spec_server.url}/spec.json", cwd=Path("."))
    assert [d.code for d in loaded.diagnostics] == [codes.REF_REFUSED]
    assert spec_server.requests == ["/spec.json"]


def test_url_errors_and_redirect_of_the_root(spec_server: SpecServer) -> None:
    missing = load_document(f"{spec_server.url}/missing.json", cwd=Path("."))
    assert missing.document is None
    assert [d.code for d in missing.diagnostics] == [codes.UNREADABLE]
    assert "HTTP 404" in missing.diagnostics[0].message
    spec_server.files["/v2/spec.json"] = json.dumps(spec_with({})).encode()
    spec_server.redirects["/latest.json"] = "/v2/spec.json"
    moved = load_document(f"{spec_server.url}/latest.json", cwd=Path("."))
    assert moved.diagnostics == ()
    assert moved.sources == (f"{spec_server.url}/v2/spec.json",)
    unreachable = load_document("http://127.0.0.1:9/spec.json", cwd=Path("."))
    assert [d.code for d in unreachable.diagnostics] == [codes.UNREADABLE]


def test_url_body_size_limit(spec_server: SpecServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(load, "MAX_BYTES", 1000)
    spec_server.files["/big.json"] = b'{"a": "' + b"x" * 5000 + b'"}'
    loaded = load_document(f"{spec_server.url}/big.json", cwd=Path("."))
    assert [d.code for d in loaded.diagnostics] == [codes.TOO_LARGE]


def test_hostile_file_refs_are_refused_not_raised(tmp_path: Path) -> None:
    write(tmp_path, "spec.json", spec_with({"/a": {"get": {"parameters": [
        {"$ref": "x\u0000y.json"}, {"$ref": "%00.json"}, {"$ref": "a" * 5000 + ".json"}, {"$ref": "http://[x"},
        {"$ref": "//[x/a"}], "responses": {}}}}))
    loaded = load_document("spec.json", cwd=tmp_path)
    assert loaded.document is not None
    assert sorted(d.code for d in loaded.diagnostics) == [codes.UNREADABLE] + [codes.REF_REFUSED] * 4
    assert [d.code for d in load_document("a\u0000b", cwd=tmp_path).diagnostics] == [codes.UNREADABLE]


def test_a_spec_url_that_redirects_to_an_html_page_says_so(spec_server: SpecServer, tmp_path: Path) -> None:
    spec_server.files["/login"] = (b"\n<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n"
                                   + b"<body>" + b"<p>please sign in</p>\n" * 100 + b"</body></html>")
    spec_server.redirects["/api/openapi.yaml"] = "/login"
    loaded = load_document(f"{spec_server.url}/api/openapi.yaml", cwd=tmp_path)
    assert loaded.document is None
    assert [(d.code, d.source) for d in loaded.diagnostics] == [(codes.HTML_PAGE, f"{spec_server.url}/login")]
    assert f"redirected from {spec_server.url}/api/openapi.yaml" in loaded.diagnostics[0].message
    page = tmp_path / "saved.yaml"
    page.write_bytes(b"\xef\xbb\xbf<!-- saved --><html lang=en><body>docs</body></html>")
    assert [d.code for d in load_document(str(page), cwd=tmp_path).diagnostics] == [codes.HTML_PAGE]
    page.write_text("openapi: 3.0.0\ninfo: {title: '<html>', version: '1'}\npaths: {}\n")
    assert load_document(str(page), cwd=tmp_path).diagnostics == ()
