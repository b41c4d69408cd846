"""What tools.json advertises is computed from the models: valid JSON Schema, exactly the model's schema,
no noise titles, and per tool only the definitions that tool uses."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from specbridge.models import emit_models
from specbridge.schemas import input_schemas

from tests.generator_back.conftest import arg, make_connector, make_tool

COMPONENTS = {
    "Pet": {"type": "object", "required": ["name"], "description": "A pet.", "properties": {
        "name": {"type": "string", "title": "Name of the pet"}, "owner": {"$ref": "#/components/schemas/Owner"},
        "friends": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}},
    "Owner": {"type": "object", "properties": {"email": {"type": "string", "format": "email"}}},
    "Tag": {"type": "object", "properties": {"label": {"type": "string"}}},
}
CONNECTOR = make_connector(
    make_tool("add_pet", arg("pet", {"$ref": "#/components/schemas/Pet"}, required=True, source="body"),
              arg("dry-run", {"type": "boolean", "default": False})),
    make_tool("tag", arg("tag", {"$ref": "#/components/schemas/Tag"}), arg("limit", {"type": "integer", "maximum": 9})),
    make_tool("ping", method="GET"),
    components=COMPONENTS,
)


def schemas() -> dict[str, Any]:
    return dict(input_schemas(emit_models(CONNECTOR)).schemas)


def test_every_input_schema_is_valid_json_schema_of_an_object() -> None:
    for schema in schemas().values():
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert schema["additionalProperties"] is False


def test_titles_that_repeat_names_are_gone() -> None:
    def titles(value: Any) -> int:
        if isinstance(value, dict):
            return ("title" in value and isinstance(value["title"], str)) + sum(titles(v) for v in value.values())
        if isinstance(value, list):
            return sum(titles(v) for v in value)
        return 0

    assert all(titles(schema) == 0 for schema in schemas().values())


def test_definitions_are_kept_per_tool() -> None:
    found = schemas()
    assert set(found["demo_add_pet"]["$defs"]) == {"Pet", "Owner"}
    assert set(found["demo_tag"]["$defs"]) == {"Tag"}
    assert "$defs" not in found["demo_ping"]
    assert found["demo_ping"]["properties"] == {}


def test_the_advertised_schema_accepts_and_refuses_what_the_model_does() -> None:
    validator = Draft202012Validator(schemas()["demo_add_pet"])
    assert validator.is_valid({"pet": {"name": "Rex", "friends": [{"name": "Fido"}]}, "dry-run": True})
    assert not validator.is_valid({"pet": {"friends": []}})
    assert not validator.is_valid({"pet": {"name": "Rex"}, "unknown": 1})
    tag = Draft202012Validator(schemas()["demo_tag"])
    assert not tag.is_valid({"limit": 10})
    assert tag.is_valid({"limit": 9})


def test_a_tool_with_simple_required_arguments_is_picked_for_the_sample_call() -> None:
    connector = make_connector(
        make_tool("hard", arg("pet", {"$ref": "#/components/schemas/Pet"}, required=True)),
        make_tool("easy", arg("id", {"type": "integer", "minimum": 5}, required=True),
                  arg("mode", {"enum": ["b", "a"]}, required=True), arg("q", {"type": "string"})),
        components=COMPONENTS,
    )
    found = input_schemas(emit_models(connector), sample_order=["demo_hard", "demo_easy"])
    assert found.sample == ("demo_easy", {"id": 5, "mode": "b"})
