"""Normalized input schemas -> the typed model IR (`model_ir`): one input class per tool, one field per
argument, plus a class for every component schema reachable from the inputs and for every inline object (the
same inline object is one class, whoever uses it).

Hostile or pathological schemas are bounded: past `MAX_DEPTH` nested levels or `MAX_CLASSES` classes a part
becomes any value / any object, with a diagnostic; reference chains are followed without recursion.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level, pointer
from specbridge.escape import Identifier, is_literal_value, to_class_name, to_identifier
from specbridge.ir import RestConnector, RestTool
from specbridge.normalize.model_constraints import constrained
from specbridge.normalize.model_ir import (
    ANY,
    NONE,
    Constrained,
    Default,
    DictOf,
    ListOf,
    LiteralOf,
    ModelClass,
    ModelField,
    ModelSet,
    Reference,
    Scalar,
    TypeNode,
    UnionOf,
    accepts_null,
    nullable,
    references,
    union,
)
from specbridge.normalize.schema_shapes import (
    Shapes,
    component_name,
    is_annotation_only,
    is_null_only,
    json_types,
    substantive,
)
from specbridge.normalize.schema_shapes import accepts_null as schema_accepts_null

MAX_DEPTH = 24  # nested inline levels (objects, arrays, unions, inlined references) below a field
MAX_CLASSES = 20_000
MAX_ENUM = 2_000
# Members of one oneOf/anyOf: pydantic validates a union by recursing through its members, so thousands of
# them exhaust the stack of a call (and a `|` chain that long, Python's compiler).
MAX_UNION = 256
# Constraints normalize keeps that no model type can check: reported (SB512), never dropped silently.
_UNCHECKED = ("not", "patternProperties", "prefixItems", "uniqueItems")


def build_models(connector: RestConnector, object_levels: Mapping[str, int] | None = None) -> ModelSet:
    """The model IR of a REST connector's tool inputs. `object_levels`: for the tools it names, how many levels
    of objects below the input are classes; deeper objects are accepted as open objects (input budgets)."""
    return _Builder(connector, object_levels or {}).build()


def within_levels(connector: RestConnector, built: ModelSet, object_levels: Mapping[str, int]) -> ModelSet:
    """`built` (the connector's models) with the tools of `object_levels` rebuilt within those levels. The
    other tools keep their classes and names, so their advertised schemas stay as they were; classes no input
    reaches any more are left out."""
    tools = tuple(tool for tool in connector.tools if tool.name in object_levels)
    builder = _Builder(dataclasses.replace(connector, tools=tools), object_levels)
    builder.class_names.update(model.name for model in built.classes)
    rebuilt = builder.build({tool.name: built.input_models[tool.name] for tool in tools})
    replaced = set(rebuilt.input_models.values())
    classes = [model for model in built.classes if model.name not in replaced] + list(rebuilt.classes)
    return ModelSet(_reachable(classes, built.input_models.values()), built.input_models,
                    tuple(dict.fromkeys((*built.diagnostics, *rebuilt.diagnostics))))


def _reachable(classes: Sequence[ModelClass], roots: Iterable[str]) -> tuple[ModelClass, ...]:
    by_name: dict[str, ModelClass] = {model.name: model for model in classes}
    seen: set[str] = set()
    pending = [name for name in roots if name in by_name]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(ref for f in by_name[name].fields for ref in references(f.type) if ref in by_name)
    return tuple(model for model in classes if model.name in seen)


@dataclass(frozen=True, slots=True)
class _At:
    """Where a schema is: a JSON pointer (exact for components, the operation's for arguments) and a path
    of names for messages."""

    pointer: str
    path: tuple[str, ...]
    exact: bool

    def child(self, *parts: str) -> _At:
        location = self.pointer + "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
        return _At(location if self.exact else self.pointer, (*self.path, *parts), self.exact)

    @property
    def label(self) -> str:
        return ".".join(self.path)


class _FieldNames:
    """The attribute names of one class's fields. An attribute never equals the wire name of another field:
    the models accept attribute names too (`populate_by_name`), and one input key must not fill two fields.
    One set holds both the wire names and the names taken, so naming a field costs the same for any width."""

    def __init__(self, wire_names: Iterable[str]) -> None:
        self.avoid: set[str] = set(wire_names)
        self.taken: set[str] = set()

    def attribute(self, wire_name: str) -> Identifier:
        own = wire_name in self.avoid and wire_name not in self.taken
        if own:
            self.avoid.discard(wire_name)  # a field may keep its own wire name
        name = to_identifier(wire_name, used=self.avoid)
        self.taken.add(name)
        if own:
            self.avoid.add(wire_name)
        return name


def _canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=lambda o: dict(o) if isinstance(o, Mapping) else list(o))


def _component_at(component: str) -> _At:
    return _At(pointer("components", "schemas", component), (component,), exact=True)


def _description(*schemas: Mapping[str, Any]) -> str | None:
    found = next((schema["description"] for schema in schemas if schema.get("description")), None)
    return found if isinstance(found, str) else None


def _open_object(schema: Mapping[str, Any]) -> TypeNode:
    """Any object, advertised with the description of the object schema it stands for."""
    description = _description(schema)
    return Constrained(DictOf(ANY), advertised=(("description", description),)) if description else DictOf(ANY)


def _names_a_class(node: TypeNode) -> bool:
    """A class, or a class or null."""
    members = node.members if isinstance(node, UnionOf) else (node,)
    return isinstance(members[0], Reference) and members[1:] in ((), (NONE,))


class _Builder:
    def __init__(self, connector: RestConnector, object_levels: Mapping[str, int]) -> None:
        self.connector = connector
        self.object_levels = object_levels
        # While a tool with a level limit is built: the object levels left below the current class. Its classes
        # are its own (a shared class may be deeper elsewhere) and built at once, not queued.
        self.levels_left: int | None = None
        self.shapes = Shapes(connector.components)
        self.source = connector.sources[0] if connector.sources else ""
        self.class_names: set[str] = set()
        self.classes: list[ModelClass] = []
        self.component_classes: dict[str, Identifier] = {}
        self.component_queue: deque[str] = deque()
        self.inline_classes: dict[str, Identifier] = {}
        self.inlining: set[str] = set()  # non-object components being inlined, to stop reference cycles
        self.diagnostics: list[Diagnostic] = []

    def build(self, input_names: Mapping[str, Identifier] | None = None) -> ModelSet:
        prefix = f"{self.connector.spec.name}_"
        input_names = input_names or {
            tool.name: to_class_name(tool.name.removeprefix(prefix), used=self.class_names, suffix="Input")
            for tool in self.connector.tools
        }
        for tool in self.connector.tools:
            self.levels_left = self.object_levels.get(tool.name)
            self._input_class(tool, input_names[tool.name])
            self._drain_components()
        # A schema built for a tool with a level limit and again for another is reported once.
        return ModelSet(tuple(self.classes), input_names, tuple(dict.fromkeys(self.diagnostics)))

    def _warn(self, code: str, at: _At, message: str, level: Level = Level.WARNING) -> None:
        where = f"{at.label}: " if at.path else ""
        self.diagnostics.append(Diagnostic(level, code, where + message, at.pointer, self.source))

    # --- classes ------------------------------------------------------------------------------------

    def _input_class(self, tool: RestTool, name: Identifier) -> None:
        at = _At(tool.location, (tool.name,), exact=False)
        hint = name.removesuffix("Input")
        names = _FieldNames(argument.name for argument in tool.arguments)
        fields = [self._field(argument.name, argument.schema, argument.required, argument.description, hint,
                              at.child(argument.name), names)
                  for argument in tool.arguments]
        self.classes.append(ModelClass(name, tuple(fields), closed=True))

    def _object_class(self, schema: Mapping[str, Any], hint: str, at: _At, depth: int) -> TypeNode:
        """The class of an inline object schema: the same schema always gives the same class."""
        if self.levels_left == 0:
            return _open_object(schema)
        key = _canonical(schema) if self.levels_left is None else f"{self.levels_left}:{_canonical(schema)}"
        if key in self.inline_classes:
            return Reference(self.inline_classes[key])
        if len(self.class_names) >= MAX_CLASSES:
            self._warn(codes.TOO_MANY_MODELS, at,
                       f"more than {MAX_CLASSES} model classes; this object is accepted as any object")
            return DictOf(ANY)
        name = to_class_name(hint, used=self.class_names)
        self.inline_classes[key] = name
        self._nested_class(name, schema, at, depth, None)
        return Reference(name)

    def _nested_class(self, name: Identifier, schema: Mapping[str, Any], at: _At, depth: int,
                      description: str | None) -> None:
        """The class `name` of an object one level down (one level less left, when levels are limited)."""
        if self.levels_left is None:
            self._class_from_schema(name, schema, hint=name, at=at, depth=depth, description=description)
            return
        self.levels_left -= 1
        try:
            self._class_from_schema(name, schema, hint=name, at=at, depth=depth, description=description)
        finally:
            self.levels_left += 1

    def _class_from_schema(self, name: Identifier, schema: Mapping[str, Any], *, hint: str, at: _At, depth: int,
                           description: str | None) -> None:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        required = schema.get("required")
        required_names = set(required) if isinstance(required, list) else set()
        names = _FieldNames(str(prop) for prop in properties)
        fields = [
            self._field(str(prop), prop_schema, prop in required_names, "", hint,
                        at.child("properties", str(prop)), names, depth)
            for prop, prop_schema in properties.items()
            # readOnly: sent by the server only; an input never carries it
            if not (isinstance(prop_schema, Mapping) and prop_schema.get("readOnly") is True)
        ]
        additional = schema.get("additionalProperties")
        # An open class takes any extra key as it is, so what the schema says of extra values is not checked.
        values = ("additionalProperties",) if isinstance(additional, Mapping) and not is_annotation_only(additional) \
            else ()
        self._unchecked(schema, (*_UNCHECKED, "minProperties", "maxProperties", *values), at)
        self.classes.append(ModelClass(name, tuple(fields), additional is False, description))

    def _component(self, component: str, at: _At, depth: int) -> TypeNode:
        schema = self.connector.components.get(component)
        if not isinstance(schema, Mapping):
            self._warn(codes.MODEL_REF, at, f"reference to an unknown schema {component!r}; any value is accepted")
            return ANY
        found: TypeNode
        if self.levels_left is None and component in self.component_classes:
            found = Reference(self.component_classes[component])
        else:
            merged = self.shapes.object_schema(schema)
            if merged is None:
                return self._inlined_component(component, schema, at, depth)
            if self.levels_left is not None:
                found = self._limited_component(component, schema, merged)
            else:
                self.component_classes[component] = to_class_name(component, used=self.class_names)
                self.component_queue.append(component)
                found = Reference(self.component_classes[component])
        return nullable(found) if schema_accepts_null(schema) else found

    def _limited_component(self, component: str, schema: Mapping[str, Any], merged: Mapping[str, Any]) -> TypeNode:
        """A component's class within a level limit: its own class per level left, or an open object."""
        if self.levels_left == 0:
            return _open_object(merged)
        key = f"{self.levels_left}:#{component}"
        if key not in self.inline_classes:
            name = to_class_name(f"{component} within {self.levels_left}", used=self.class_names)
            self.inline_classes[key] = name
            self._nested_class(name, merged, _component_at(component), 0, _description(merged, schema))
        return Reference(self.inline_classes[key])

    def _inlined_component(self, component: str, schema: Mapping[str, Any], at: _At, depth: int) -> TypeNode:
        """A component that is not an object (a string enum, an array, a union) is written where it is used."""
        if component in self.inlining:
            self._warn(codes.MODEL_CYCLE, at, f"schema {component!r} refers to itself without an object in between; "
                                    "the inner value is accepted as any value")
            return ANY
        self.inlining.add(component)
        try:
            return self._type(schema, to_class_name(component, used=set()), at, depth + 1)
        finally:
            self.inlining.discard(component)

    def _drain_components(self) -> None:
        """The classes of referenced components, iteratively (a long chain of references must not recurse)."""
        while self.component_queue:
            component = self.component_queue.popleft()
            name = self.component_classes[component]
            schema = self.connector.components[component]
            merged = self.shapes.object_schema(schema) or schema
            self._class_from_schema(name, merged, hint=name, at=_component_at(component), depth=0,
                                    description=_description(merged, schema))

    def _unchecked(self, schema: Mapping[str, Any], keywords: Sequence[str], at: _At) -> None:
        found = [key for key in keywords if schema.get(key) not in (None, False)]
        if found:
            self._warn(codes.CONSTRAINT_NOT_CHECKED, at,
                       f"{', '.join(found)} not checked before sending (left to the API)")

    # --- fields -------------------------------------------------------------------------------------

    def _field(self, name: str, schema: object, required: bool, description: str, hint: str, at: _At,
               names: _FieldNames, depth: int = 0) -> ModelField:
        ident = names.attribute(name)
        field_type = self._type(schema, f"{hint}{to_class_name(name, used=set())}", at, depth + 1)
        text = description or (schema.get("description") if isinstance(schema, Mapping) else None)
        default = None
        if not required and isinstance(schema, Mapping) and "default" in schema:
            default = self._default(schema, schema["default"], at)
        return ModelField(ident, name, field_type, required, default, text if isinstance(text, str) and text else None)

    def _default(self, schema: Mapping[str, Any], value: object, at: _At) -> Default | None:
        """A spec default is kept only when it is a literal JSON value of a type the schema names."""
        if value is None:
            return None
        if is_literal_value(value) and self._default_fits(schema, value):
            return Default(value)
        self._warn(codes.DEFAULT_DROPPED, at, f"default {value!r:.60} does not fit the schema; not advertised",
                   Level.INFO)
        return None

    def _default_fits(self, schema: Mapping[str, Any], value: object, hops: int = 0) -> bool:
        members = substantive(schema.get("allOf"))
        if "$ref" in schema or (len(members) == 1 and not json_types(schema)):
            # `{$ref: Status, default: open}`: the default is checked against what the reference names
            found = self.shapes.resolved(schema if "$ref" in schema else members[0])
            return found is not None and hops < MAX_DEPTH and self._default_fits(found[0], value, hops + 1)
        enum = schema.get("enum")
        if isinstance(enum, list) and value not in enum:
            return False
        checks: dict[str, type | tuple[type, ...]] = {
            "string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict,
        }
        types = json_types(schema)
        if not types:
            return True
        if isinstance(value, bool):
            return "boolean" in types
        return any(isinstance(value, checks[t]) for t in types if t in checks)

    # --- types --------------------------------------------------------------------------------------

    def _type(self, schema: object, hint: str, at: _At, depth: int) -> TypeNode:
        """The type accepting what `schema` accepts."""
        if not isinstance(schema, Mapping):
            return ANY
        if depth > MAX_DEPTH:
            self._warn(codes.TOO_DEEP, at, f"schema nested deeper than {MAX_DEPTH} levels; the inner value is accepted "
                                    "as any value")
            return ANY
        found = self._base(schema, hint, at, depth)
        if found != ANY and not _names_a_class(found):  # a class reports its own (`_class_from_schema`)
            self._unchecked(schema, _UNCHECKED, at)
        if found != ANY and schema_accepts_null(schema) and not accepts_null(found):
            return nullable(found)
        return found

    def _base(self, schema: Mapping[str, Any], hint: str, at: _At, depth: int) -> TypeNode:
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return self._ref(ref, at, depth)
        if "enum" in schema:
            literal = self._enum(schema["enum"], at)
            if literal is not None:
                return literal
        if "const" in schema and is_literal_value(schema["const"]):
            literal = self._enum([schema["const"]], at)
            if literal is not None:
                return literal
        if "allOf" in schema:
            return self._all_of(schema, hint, at, depth)
        if ("oneOf" in schema or "anyOf" in schema) and "properties" not in schema:
            return self._one_of(schema, hint, at, depth)
        types = [t for t in json_types(schema) if t != "null"]
        if not types:
            return NONE if is_null_only(schema) else ANY
        return union(self._typed(schema, t, hint, at, depth) for t in types)

    def _ref(self, ref: str, at: _At, depth: int) -> TypeNode:
        component = component_name(ref)
        if component is None:
            self._warn(codes.MODEL_REF, at,
                       f"reference {ref!r:.80} is not to a component schema; any value is accepted")
            return ANY
        return self._component(component, at, depth)

    def _enum(self, values: object, at: _At) -> TypeNode | None:
        if not isinstance(values, list) or not values:
            return None
        members = [v for v in values if v is not None]
        if len(members) > MAX_ENUM or not all(isinstance(v, str | int) for v in members):
            self._warn(codes.ENUM_NOT_CHECKED, at,
                       f"enum values other than strings, integers and booleans (or over {MAX_ENUM}) are not checked")
            return None
        if not members:
            return NONE
        unique: list[str | int] = []
        for value in members:
            if not any(type(value) is type(seen) and value == seen for seen in unique):
                unique.append(value)
        literal = LiteralOf(tuple(unique))
        return nullable(literal) if len(members) < len(values) else literal

    def _one_of(self, schema: Mapping[str, Any], hint: str, at: _At, depth: int) -> TypeNode:
        members: list[tuple[str, int, object]] = [
            (keyword, index, member)
            for keyword in ("oneOf", "anyOf")
            if isinstance(schema.get(keyword), list)
            for index, member in enumerate(schema[keyword])
        ]
        if not members:
            return ANY
        if len(members) > MAX_UNION:
            self._warn(codes.UNION_NOT_CHECKED, at, f"{len(members)} oneOf/anyOf members, over the {MAX_UNION} the "
                       "models check; any value is accepted")
            return ANY
        return union(
            NONE if is_null_only(member)
            else self._type(member, f"{hint}Option{position + 1}", at.child(keyword, str(index)), depth + 1)
            for position, (keyword, index, member) in enumerate(members)
        )

    def _all_of(self, schema: Mapping[str, Any], hint: str, at: _At, depth: int) -> TypeNode:
        merged = self.shapes.object_schema(schema)
        if merged is not None:
            return self._object_class(merged, hint, at, depth)
        members = substantive(schema.get("allOf"))
        if len(members) == 1:
            return self._type(members[0], hint, at.child("allOf", "0"), depth + 1)
        if not members:
            return ANY
        constraints = self.shapes.merged_constraints(schema)
        if constraints is not None:
            return self._type(constraints, hint, at, depth + 1)
        self._warn(codes.ALL_OF_NOT_MERGED, at,
                   "allOf of schemas of different types cannot be merged; only the first is checked")
        return self._type(members[0], hint, at.child("allOf", "0"), depth + 1)

    def _typed(self, schema: Mapping[str, Any], json_type: str, hint: str, at: _At, depth: int) -> TypeNode:
        if json_type == "string":
            return self._constrained(Scalar("str"), schema, at)
        if json_type in ("integer", "number"):
            return self._constrained(Scalar("int" if json_type == "integer" else "float"), schema, at)
        if json_type == "boolean":
            return Scalar("bool")
        if json_type == "array":
            items = schema.get("items")
            item = self._type(items, f"{hint}Item", at.child("items"), depth + 1) if isinstance(items, Mapping) \
                else ANY
            return self._constrained(ListOf(item), schema, at)
        if json_type == "object":
            object_schema = self.shapes.object_schema(schema)
            if object_schema is not None:
                return self._object_class(object_schema, hint, at, depth)
            values = schema.get("additionalProperties")
            if isinstance(values, Mapping) and not is_annotation_only(values):
                value = self._type(values, f"{hint}Value", at.child("additionalProperties"), depth + 1)
                return self._constrained(DictOf(value), schema, at)
            return self._constrained(DictOf(ANY), schema, at)
        return ANY

    def _constrained(self, base: Scalar | ListOf | DictOf, schema: Mapping[str, Any], at: _At) -> TypeNode:
        found, dropped_pattern = constrained(base, schema)
        if dropped_pattern is not None:
            self._warn(codes.PATTERN_DROPPED, at,
                       f"pattern {dropped_pattern!r:.80} does not compile in Python's and Rust's regex; not checked")
        return found
