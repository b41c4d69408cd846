"""The emitted pydantic models validate what the schemas say, name the field at fault, and stay safe and
bounded on hostile or pathological schemas."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError
from specbridge import codes
from specbridge.models import MAX_DEPTH, emit_models

from tests.generator_back.conftest import arg, make_connector, make_tool, one_tool_connector


def model_of(run_models: Any, *arguments: Any, components: dict[str, Any] | None = None) -> type[BaseModel]:
    emitted, module = run_models(one_tool_connector(*arguments, components=components))
    model: type[BaseModel] = getattr(module, emitted.input_models["demo_do"])
    return model


def error_locations(model: type[BaseModel], data: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [error["loc"] for error in caught.value.errors()]


def test_one_field_per_argument_dumped_under_the_argument_names(run_models: Any) -> None:
    model = model_of(run_models, arg("pet-id", {"type": "integer"}, required=True, source="path"),
                     arg("userName", {"type": "string"}), arg("class", {"type": "boolean"}))
    instance = model.model_validate({"pet-id": 3, "class": True})
    assert instance.model_dump(mode="json", by_alias=True, exclude_unset=True) == {"pet-id": 3, "class": True}
    assert set(model.model_fields) == {"pet_id", "user_name", "class_"}


def test_an_input_key_never_fills_two_fields(run_models: Any) -> None:
    wire_names = ["class", "class_", "+1", "-1", "value_1", "userId", "user_id"]
    model = model_of(run_models, *(arg(name, {"type": "integer"}) for name in wire_names))
    for name in wire_names:
        assert model.model_validate({name: 1}).model_dump(by_alias=True, exclude_unset=True) == {name: 1}


def test_an_unknown_or_missing_argument_is_an_error_naming_it(run_models: Any) -> None:
    model = model_of(run_models, arg("pet-id", {"type": "integer"}, required=True))
    assert error_locations(model, {"pet-id": 1, "colour": "red"}) == [("colour",)]
    assert error_locations(model, {}) == [("pet-id",)]
    assert error_locations(model, {"pet-id": "x"}) == [("pet-id",)]


def test_enums_are_literals_and_null_only_when_listed(run_models: Any) -> None:
    model = model_of(run_models, arg("status", {"type": "string", "enum": ["open", "closed"]}),
                     arg("kind", {"enum": ["a", 1, True, None]}))
    model.model_validate({"status": "open", "kind": None})
    model.model_validate({"kind": 1})
    assert error_locations(model, {"status": "other"}) == [("status",)]
    schema = model.model_json_schema(by_alias=True)
    assert schema["properties"]["status"] == {"enum": ["open", "closed"], "type": "string"}


@pytest.mark.parametrize(("schema", "good", "bad"), [
    ({"type": "string", "minLength": 2, "maxLength": 3}, "abc", "abcd"),
    ({"type": "string", "pattern": "^[a-z]+$"}, "abc", "ABC"),
    ({"type": "integer", "minimum": 1, "maximum": 5}, 5, 6),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}, 0.5, 1),
    ({"type": "integer", "minimum": 0, "exclusiveMinimum": True}, 1, 0),  # OpenAPI 3.0 flags
    ({"type": "integer", "multipleOf": 5}, 10, 11),
    ({"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2}, ["a"], []),
    ({"type": "array", "items": {"type": "string", "maxLength": 1}}, ["a"], ["ab"]),
])
def test_constraints_are_checked(run_models: Any, schema: dict[str, Any], good: object, bad: object) -> None:
    model = model_of(run_models, arg("value", schema))
    model.model_validate({"value": good})
    assert error_locations(model, {"value": bad})[0][0] == "value"


@pytest.mark.parametrize("pattern", ["(?<=a)b", "\\p{L}+", "(unclosed", "a{2,1}"])
def test_a_pattern_one_regex_engine_rejects_is_dropped_with_a_warning(pattern: str) -> None:
    emitted = emit_models(one_tool_connector(arg("value", {"type": "string", "pattern": pattern})))
    assert [d.code for d in emitted.diagnostics] == [codes.PATTERN_DROPPED]
    assert "pattern=" not in emitted.source


def test_formats_keep_strings_and_are_advertised(run_models: Any) -> None:
    model = model_of(run_models, arg("when", {"type": "string", "format": "date-time"}),
                     arg("file", {"type": "string", "format": "binary"}))
    sent = {"when": "2024-01-01T00:00:00Z", "file": "aGVsbG8="}
    assert model.model_validate(sent).model_dump(by_alias=True, exclude_unset=True) == sent
    properties = model.model_json_schema(by_alias=True)["properties"]
    assert properties["when"] == {"format": "date-time", "type": "string"}
    assert properties["file"] == {"format": "binary", "type": "string"}


def test_literal_defaults_are_advertised_but_not_sent(run_models: Any) -> None:
    model = model_of(run_models, arg("limit", {"type": "integer", "default": 20}),
                     arg("tags", {"type": "array", "items": {"type": "string"}, "default": ["a"]}))
    assert model.model_validate({}).model_dump(by_alias=True, exclude_unset=True) == {}
    properties = model.model_json_schema(by_alias=True)["properties"]
    assert properties["limit"]["default"] == 20
    assert properties["tags"]["default"] == ["a"]


def test_a_default_that_does_not_fit_is_dropped() -> None:
    emitted = emit_models(one_tool_connector(arg("limit", {"type": "integer", "default": "many"})))
    assert [(d.code, d.level.value) for d in emitted.diagnostics] == [(codes.DEFAULT_DROPPED, "info")]


def test_null_is_advertised_only_where_the_schema_allows_it(run_models: Any) -> None:
    model = model_of(run_models, arg("a", {"type": ["string", "null"]}), arg("b", {"type": "string"}),
                     arg("c", {"anyOf": [{"type": "integer"}, {"type": "null"}]}))
    properties = model.model_json_schema(by_alias=True)["properties"]
    assert properties["a"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert properties["b"] == {"type": "string"}
    assert properties["c"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    # An optional argument sent as null means "not given" (models often send null for what they skip),
    # unless null is a value the schema allows.
    sent = model.model_validate({"a": None, "b": None, "c": None})
    assert sent.model_dump(mode="json", by_alias=True, exclude_unset=True) == {"a": None, "c": None}


def test_nested_objects_arrays_and_unions(run_models: Any) -> None:
    model = model_of(run_models, arg("items", {"type": "array", "items": {
        "type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "note": {"type": "string"}},
    }}), arg("either", {"oneOf": [{"type": "string"}, {"type": "object", "properties": {"x": {"type": "integer"}}}]}))
    model.model_validate({"items": [{"id": 1}], "either": "text"})
    model.model_validate({"either": {"x": 1}})
    assert error_locations(model, {"items": [{"note": "no id"}]})[0][:3] == ("items", 0, "id")


def test_all_of_objects_are_merged_into_one_class(run_models: Any) -> None:
    components = {
        "Named": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
        "Pet": {"allOf": [{"$ref": "#/components/schemas/Named"},
                          {"type": "object", "properties": {"age": {"type": "integer"}}}]},
    }
    _emitted, module = run_models(one_tool_connector(arg("pet", {"$ref": "#/components/schemas/Pet"}),
                                                     components=components))
    assert set(module.Pet.model_fields) == {"name", "age"}
    assert not hasattr(module, "Named")  # merged in, not referenced on its own
    assert error_locations(module.Pet, {"age": 1}) == [("name",)]


def test_all_of_that_cannot_be_merged_keeps_the_first_with_a_warning(run_models: Any) -> None:
    emitted, module = run_models(one_tool_connector(
        arg("value", {"allOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]})))
    assert [d.code for d in emitted.diagnostics] == [codes.ALL_OF_NOT_MERGED]
    module.DoInput.model_validate({"value": "ab"})


def test_recursive_schemas_validate_nested_data(run_models: Any) -> None:
    components = {"Node": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
        "parent": {"$ref": "#/components/schemas/Node"}}}}
    model = model_of(run_models, arg("tree", {"$ref": "#/components/schemas/Node"}, required=True),
                     components=components)
    model.model_validate({"tree": {"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]}})
    assert error_locations(model, {"tree": {"name": "a", "children": [{"children": []}]}}) == [
        ("tree", "children", 0, "name")]


def test_additional_properties(run_models: Any) -> None:
    model = model_of(run_models, arg("closed", {"type": "object", "additionalProperties": False,
                                                "properties": {"a": {"type": "integer"}}}),
                     arg("open", {"type": "object", "properties": {"a": {"type": "integer"}}}),
                     arg("counts", {"type": "object", "additionalProperties": {"type": "integer"}}))
    model.model_validate({"open": {"a": 1, "extra": True}, "counts": {"x": 1}})
    assert error_locations(model, {"closed": {"a": 1, "extra": True}}) == [("closed", "extra")]
    assert error_locations(model, {"counts": {"x": "one"}}) == [("counts", "x")]


def test_read_only_properties_are_not_inputs(run_models: Any) -> None:
    model = model_of(run_models, arg("pet", {"type": "object", "additionalProperties": False, "properties": {
        "id": {"type": "integer", "readOnly": True}, "name": {"type": "string"}}}))
    assert error_locations(model, {"pet": {"id": 1}}) == [("pet", "id")]


def test_only_reachable_components_and_each_inline_object_once() -> None:
    address = {"type": "object", "properties": {"city": {"type": "string"}}}
    connector = make_connector(
        make_tool("one", arg("address", address)), make_tool("two", arg("home", address)),
        components={"Used": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "Unused": {"type": "object", "properties": {"b": {"type": "string"}}}},
    )
    connector = make_connector(*connector.tools, make_tool("three", arg("u", {"$ref": "#/components/schemas/Used"})),
                               components=connector.components)
    source = emit_models(connector).source
    classes = [node.name for node in ast.parse(source).body if isinstance(node, ast.ClassDef)]
    assert classes == ["OneAddress", "OneInput", "TwoInput", "Used", "ThreeInput"]


def test_names_never_collide_with_the_input_classes() -> None:
    connector = make_connector(make_tool("do", arg("x", {"$ref": "#/components/schemas/DoInput"})),
                               components={"DoInput": {"type": "object", "properties": {"y": {"type": "string"}}}})
    emitted = emit_models(connector)
    assert emitted.input_models == {"demo_do": "DoInput"}
    assert "class DoInput2(BaseModel)" in emitted.source


def test_pathological_depth_falls_back_to_any_with_a_warning(run_models: Any) -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_DEPTH * 4):
        schema = {"type": "object", "properties": {"inner": schema}}
    emitted, module = run_models(one_tool_connector(arg("deep", schema)))
    assert [d.code for d in emitted.diagnostics] == [codes.TOO_DEEP]
    assert module.DoInput.model_json_schema()


def test_self_reference_without_an_object_and_unknown_references_do_not_loop() -> None:
    components = {"List": {"type": "array", "items": {"$ref": "#/components/schemas/List"}}}
    emitted = emit_models(one_tool_connector(arg("a", {"$ref": "#/components/schemas/List"}),
                                             arg("b", {"$ref": "#/components/schemas/Missing"}),
                                             arg("c", {"$ref": "other.json#/x"}), components=components))
    assert sorted(d.code for d in emitted.diagnostics) == [codes.MODEL_REF, codes.MODEL_REF, codes.MODEL_CYCLE]


def test_a_long_chain_of_references_does_not_recurse(run_models: Any) -> None:
    components = {f"N{i}": {"type": "object", "properties": {"next": {"$ref": f"#/components/schemas/N{i + 1}"}}}
                  for i in range(3000)}
    components["N3000"] = {"type": "object", "properties": {"end": {"type": "boolean"}}}
    emitted, module = run_models(one_tool_connector(arg("head", {"$ref": "#/components/schemas/N0"}),
                                                    components=components))
    assert not emitted.diagnostics
    assert hasattr(module, "N3000")


HOSTILE_TEXT = '"""\'\'\'"); import os; os.system("x")#\n\x00\u2028{{ x }}\\'


def test_hostile_names_and_descriptions_cannot_add_statements(run_models: Any) -> None:
    hostile_schema = {"type": "object", "description": HOSTILE_TEXT, "properties": {
        HOSTILE_TEXT: {"type": "string", "description": HOSTILE_TEXT, "default": HOSTILE_TEXT,
                       "pattern": HOSTILE_TEXT, "enum": [HOSTILE_TEXT], "format": HOSTILE_TEXT},
        "../../x": {"type": "integer"}, "": {"type": "integer"}, "class": {"type": "integer"},
        "__import__('os')": {"type": "integer"}}}
    connector = make_connector(make_tool("do", arg(HOSTILE_TEXT, hostile_schema, description=HOSTILE_TEXT),
                                         arg("x", {"$ref": f"#/components/schemas/{HOSTILE_TEXT}"})),
                               components={HOSTILE_TEXT: {**hostile_schema, "title": HOSTILE_TEXT}})
    emitted, module = run_models(connector)
    tree = ast.parse(emitted.source)
    kinds = {type(node).__name__ for node in tree.body}
    assert kinds <= {"Expr", "ImportFrom", "FunctionDef", "Assign", "ClassDef"}
    assert {node.module for node in tree.body if isinstance(node, ast.ImportFrom)} == {
        "typing", "pydantic", "specbridge_runtime.modeling"}
    assert not [node for node in tree.body if isinstance(node, (ast.Assign, ast.FunctionDef))]
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            assert {type(member).__name__ for member in node.body} <= {"Expr", "Assign", "AnnAssign"}
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & {"os", "exec", "eval", "__import__", "open", "system"}
    schema = module.DoInput.model_json_schema(by_alias=True)
    assert HOSTILE_TEXT in schema["properties"]
    assert schema["properties"][HOSTILE_TEXT]["description"] == HOSTILE_TEXT


def test_emitting_twice_gives_the_same_source() -> None:
    components = {"Pet": {"type": "object", "properties": {"n": {"type": "string"}, "o": {"type": "object",
                  "properties": {"x": {"type": "integer"}}}}}}
    connector = one_tool_connector(arg("pet", {"$ref": "#/components/schemas/Pet"}), arg("z", {"enum": ["b", "a"]}),
                                   components=components)
    assert emit_models(connector).source == emit_models(connector).source
