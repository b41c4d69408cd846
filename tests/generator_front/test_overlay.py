"""OpenAPI Overlays 1.0: a user fixes what a spec gets wrong without forking it, through a definition's
`overlays` or `--overlay`; targets are RFC 9535 JSONPath, a target that matches nothing is reported, and an
overlay named in a definition may not leave the definition's folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from specbridge import cli, codes
from specbridge.diagnostics import Level
from specbridge.options import GenOptions
from specbridge.overlay import apply_overlay
from specbridge.pipeline import InspectResult, inspect

from tests.generator_front.support import oas3

PETS = oas3({
    "/pets": {
        "get": {"operationId": "listPets", "summary": "List pets",
                "parameters": [{"name": "limit", "in": "query", "schema": {"type": "string"}},
                               {"name": "debug", "in": "query", "schema": {"type": "boolean"}}],
                "responses": {"200": {"description": "ok"}}},
        "post": {"operationId": "addPet", "responses": {"201": {"description": "created"}}},
    },
    "/pets/{id}": {
        "delete": {"operationId": "deletePet", "summary": "Delete a pet",
                   "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                   "responses": {"204": {"description": "gone"}}},
    },
}, tags=[{"name": "pets"}])


def overlay(*actions: dict[str, Any]) -> dict[str, Any]:
    return {"overlay": "1.0.0", "info": {"title": "fixes", "version": "1"}, "actions": list(actions)}


def inspected(folder: Path, *overlays: dict[str, Any], cli_overlays: tuple[str, ...] = ()) -> InspectResult:
    """The pets spec through a definition naming `overlays` (written beside it)."""
    (folder / "pets.json").write_text(json.dumps(PETS))
    names = []
    for index, document in enumerate(overlays):
        names.append(f"fix{index}.yaml")
        (folder / names[-1]).write_text(json.dumps(document))
    definition = {"type": "rest", "name": "pets", "openapi": "pets.json", "overlays": names}
    (folder / "pets-definition.json").write_text(json.dumps(definition))
    return inspect("pets-definition.json", GenOptions(overlays=cli_overlays), cwd=folder)


def tools_of(result: InspectResult) -> dict[str, Any]:
    assert len(result.connectors) == 1, [d.render() for d in result.diagnostics]
    return {tool.name: tool for tool in result.connectors[0].tools}


def test_correct_a_fields_type(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths['/pets'].get.parameters[?@.name == 'limit'].schema",
                   "update": {"type": "integer", "minimum": 1}})
    limit = next(a for a in tools_of(inspected(tmp_path, fix))["pets_list_pets"].arguments if a.name == "limit")
    assert limit.schema["type"] == "integer" and limit.schema["minimum"] == 1


def test_add_missing_descriptions_to_every_operation_without_one(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths[*][?@.operationId && !@.description]",
                   "update": {"description": "Documented by the overlay."}},
                  {"target": "$.paths['/pets'].get", "update": {"description": "Every pet, oldest first."}})
    tools = tools_of(inspected(tmp_path, fix))
    assert tools["pets_list_pets"].description == "Every pet, oldest first."
    assert tools["pets_add_pet"].description == "Documented by the overlay."
    assert tools["pets_delete_pet"].description == "Documented by the overlay."


def test_hide_an_operation_and_a_parameter(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths['/pets/{id}'].delete", "remove": True},
                  {"target": "$.paths['/pets'].get.parameters[?@.name == 'debug']", "remove": True})
    tools = tools_of(inspected(tmp_path, fix))
    assert sorted(tools) == ["pets_add_pet", "pets_list_pets"]
    assert [a.name for a in tools["pets_list_pets"].arguments] == ["limit"]


def test_rename_a_tool_through_its_operation_id(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths['/pets'].post", "update": {"operationId": "adoptPet"}})
    assert sorted(tools_of(inspected(tmp_path, fix))) == ["pets_adopt_pet", "pets_delete_pet", "pets_list_pets"]


def test_rename_a_tool_through_an_x_extension(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths['/pets'].get", "update": {"x-specbridge-tool-name": "pets_browse"}},
                  {"target": "$.paths['/pets'].post", "update": {"x-specbridge-tool-name": "not a name!"}},
                  {"target": "$.paths['/pets/{id}'].delete", "update": {"x-specbridge-tool-name": "pets_browse"}})
    result = inspected(tmp_path, fix)
    assert sorted(tools_of(result)) == ["pets_add_pet", "pets_browse", "pets_delete_pet"]
    naming = [d for d in result.diagnostics if d.code == codes.NAMING]
    assert [d.location for d in naming] == ["#/paths/~1pets/post/x-specbridge-tool-name", "#/paths/~1pets~1{id}/delete"]


def test_overlays_apply_in_order_definition_first_then_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "last.json").write_text(json.dumps(overlay(
        {"target": "$.paths['/pets'].post", "update": {"operationId": "finalName"}})))
    first = overlay({"target": "$.paths['/pets'].post", "update": {"operationId": "firstName"}})
    result = inspected(tmp_path, first, cli_overlays=("last.json",))
    assert "pets_final_name" in tools_of(result)


def test_an_array_target_gets_the_update_appended() -> None:
    document = json.loads(json.dumps(PETS))
    assert apply_overlay(document, overlay({"target": "$.tags", "update": {"name": "owners"}}), "o.yaml") == ()
    assert document["tags"] == [{"name": "pets"}, {"name": "owners"}]


def test_a_target_that_matches_nothing_is_a_warning_naming_the_action(tmp_path: Path) -> None:
    fix = overlay({"target": "$.paths['/pets'].get", "update": {"summary": "Pets"}},
                  {"target": "$.paths['/cats'].get", "remove": True})
    result = inspected(tmp_path, fix)
    (warning,) = [d for d in result.diagnostics if d.code == codes.OVERLAY_NO_MATCH]
    assert warning.level is Level.WARNING
    assert (warning.source, warning.location) == ("fix0.yaml", "#/actions/1/target")
    assert "$.paths['/cats'].get" in warning.message
    assert len(tools_of(result)) == 3  # the other action still applied, generation went on


@pytest.mark.parametrize(("document", "where"), [
    ({"overlay": "2.0.0", "info": {"title": "x", "version": "1"}, "actions": [{"target": "$"}]}, "#/overlay"),
    ({"overlay": "1.0.0", "info": {"title": "x", "version": "1"}, "actions": []}, "#/actions"),
    (overlay({"target": "paths"}), "#/actions/0/target"),
    (overlay({"target": "$.paths[?@.x ~= 'y']", "remove": True}), "#/actions/0/target"),
    (overlay({"target": "$.a | $.b", "remove": True}), "#/actions/0/target"),  # a library extension, not RFC 9535
    (overlay({"target": "$", "remove": True}), "#/actions/0/target"),
])
def test_an_unusable_overlay_is_an_error_with_its_location(document: dict[str, Any], where: str) -> None:
    diagnostics = apply_overlay(json.loads(json.dumps(PETS)), document, "o.yaml")
    assert [(d.code, d.location) for d in diagnostics][:1] == [(codes.OVERLAY_INVALID, where)]


def test_an_overlay_may_not_leave_the_definitions_folder(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (tmp_path / "outside.yaml").write_text(json.dumps(overlay({"target": "$.info", "update": {"title": "pwned"}})))
    (project / "pets.json").write_text(json.dumps(PETS))
    definition = {"type": "rest", "name": "pets", "openapi": "pets.json",
                  "overlays": ["../outside.yaml", str(tmp_path / "outside.yaml"), "file:///etc/hostname"]}
    (project / "pets-definition.json").write_text(json.dumps(definition))
    result = inspect("pets-definition.json", GenOptions(), cwd=project)
    refused = [d for d in result.diagnostics if d.code == codes.OVERLAY_REFUSED]
    assert [d.location for d in refused] == ["#/overlays/0", "#/overlays/1", "#/overlays/2"]
    assert all(d.level is Level.ERROR for d in refused)
    assert not result.connectors


def test_gen_with_overlay_records_the_overlay_in_the_lock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pets.json").write_text(json.dumps(PETS))
    (tmp_path / "hide.yaml").write_text("overlay: 1.0.0\ninfo: {title: hide, version: '1'}\nactions:\n"
                                        "  - target: $.paths['/pets/{id}']\n    remove: true\n")
    assert cli.main(["gen", "pets.json", "--name", "pets", "--overlay", "hide.yaml"]) == 0
    tools = json.loads((tmp_path / "generated/pets/src/pets_mcp/tools.json").read_text())
    assert [tool["name"] for tool in tools] == ["pets_list_pets", "pets_add_pet"]
    assert "hide.yaml" in (tmp_path / "generated/pets/specbridge.lock").read_text()
    capsys.readouterr()
    # Changing the overlay is drift that `gen --check` sees.
    (tmp_path / "hide.yaml").write_text("overlay: 1.0.0\ninfo: {title: hide, version: '1'}\nactions:\n"
                                        "  - target: $.paths['/pets'].post\n    remove: true\n")
    assert cli.main(["gen", "pets.json", "--name", "pets", "--overlay", "hide.yaml", "--check"]) == 1


def test_a_definition_entry_naming_no_operation_is_reported_in_the_definition_not_the_spec(tmp_path: Path) -> None:
    (tmp_path / "pets.json").write_text(json.dumps(PETS))
    definition = {"type": "rest", "name": "pets", "openapi": "pets.json", "tool_names": {"nope": "pets_nope"},
                  "limits": {"operations": {"gone": {"timeout_s": 5}}}}
    (tmp_path / "pets-definition.json").write_text(json.dumps(definition))
    result = inspect("pets-definition.json", GenOptions(), cwd=tmp_path)
    assert sorted((d.source, d.location) for d in result.diagnostics if d.code == codes.DEFINITION_MISMATCH) == [
        ("pets-definition.json", "#/limits/operations/gone"), ("pets-definition.json", "#/tool_names/nope")]
