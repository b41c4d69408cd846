"""Questions about normalized schemas the model builder asks: which JSON types a schema names, whether it
accepts null, and what an `allOf` amounts to once its references are followed (one object, or one type with
every constraint).

References to component schemas are followed iteratively (chains can be long) and never twice (cycles end).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_COMPONENT_REF = "#/components/schemas/"
_LOWER_BOUNDS = frozenset({"minLength", "minItems", "minimum", "exclusiveMinimum", "minProperties"})
_UPPER_BOUNDS = frozenset({"maxLength", "maxItems", "maximum", "exclusiveMaximum", "maxProperties"})
ANNOTATIONS_ONLY = frozenset({"description", "title", "example", "examples", "deprecated", "readOnly", "writeOnly",
                              "externalDocs", "xml", "$comment", "default", "nullable", "discriminator"})


def json_types(schema: Mapping[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    if "properties" in schema or "additionalProperties" in schema:
        return ["object"]
    if "items" in schema:
        return ["array"]
    return []


def is_null_only(schema: object) -> bool:
    return isinstance(schema, Mapping) and json_types(schema) == ["null"]


def accepts_null(schema: Mapping[str, Any]) -> bool:
    enum = schema.get("enum")
    return (
        "null" in json_types(schema)
        or ("const" in schema and schema["const"] is None)
        or (isinstance(enum, list) and None in enum)
        or schema.get("nullable") is True
    )


def is_annotation_only(schema: Mapping[str, Any]) -> bool:
    return all(key in ANNOTATIONS_ONLY for key in schema)


def component_name(ref: str) -> str | None:
    if not ref.startswith(_COMPONENT_REF):
        return None
    return ref.removeprefix(_COMPONENT_REF).replace("~1", "/").replace("~0", "~")


def is_number(value: object) -> bool:
    """A finite number (JSON's 1e400 and YAML's .inf read as infinity; no constraint can be written of it)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))


def _is_object_part(schema: Mapping[str, Any]) -> bool:
    """A schema an allOf of objects can merge: an object, or object constraints without a type."""
    types = set(json_types(schema))
    has_object_keywords = any(key in schema for key in ("properties", "required", "additionalProperties"))
    return types <= {"object", "null"} and (bool(types) or has_object_keywords) \
        and "oneOf" not in schema and "anyOf" not in schema


def _only_requires_alternatives(schema: Mapping[str, Any]) -> bool:
    """`anyOf: [{required: [a]}, {required: [b]}]` and the like: which properties must be present."""
    options = [*(schema.get("anyOf") or ()), *(schema.get("oneOf") or ())]
    return bool(options) and all(key in ANNOTATIONS_ONLY | {"anyOf", "oneOf"} for key in schema) and all(
        isinstance(option, Mapping) and set(option) <= {"required", "title", "description"} for option in options)


def substantive(members: object) -> list[Mapping[str, Any]]:
    """The members of an allOf that say something about the value (not just a description)."""
    if not isinstance(members, list):
        return []
    return [m for m in members if isinstance(m, Mapping) and not is_annotation_only(m)]


class Shapes:
    """The shapes of schemas that may refer to `components` (normalized component schemas by name)."""

    def __init__(self, components: Mapping[str, Any]) -> None:
        self.components = components

    def resolved(self, schema: Mapping[str, Any], seen: frozenset[str] = frozenset()
                 ) -> tuple[Mapping[str, Any], frozenset[str]] | None:
        """`schema` with references (to references) followed; None for a cycle or an unknown schema."""
        while isinstance(schema.get("$ref"), str):
            name = component_name(schema["$ref"])
            target = self.components.get(name) if name is not None else None
            if name is None or name in seen or not isinstance(target, Mapping):
                return None
            seen, schema = seen | {name}, target
        return schema, seen

    def object_schema(self, schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """`schema` as one object schema with properties (an allOf of objects merged into one), or None when
        it is not one. An allOf of a single reference stays that reference."""
        if "allOf" not in schema:
            properties = schema.get("properties")
            is_object = set(json_types(schema)) <= {"object", "null"}
            return schema if is_object and isinstance(properties, Mapping) and properties else None
        members = substantive(schema.get("allOf"))
        own = {key: value for key, value in schema.items() if key != "allOf"}
        if len(members) == 1 and "$ref" in members[0] and not own.get("properties"):
            return None
        parts = self._all_of_parts(schema, frozenset())
        if parts is None:
            return None
        merged_properties: dict[str, Any] = {}
        required: list[str] = []
        for part in parts:
            properties = part.get("properties")
            if isinstance(properties, Mapping):
                merged_properties.update(properties)
            names = part.get("required")
            required.extend(n for n in names or () if isinstance(n, str) and n not in required)
        if not merged_properties:
            return None
        merged: dict[str, Any] = {"type": "object", "properties": merged_properties, "required": required}
        for key in ("additionalProperties", "minProperties", "maxProperties"):
            if key in schema:
                merged[key] = schema[key]
        descriptions = (part.get("description") for part in (schema, *parts))
        description = next((text for text in descriptions if isinstance(text, str) and text), None)
        if description:
            merged["description"] = description
        return merged

    def merged_constraints(self, schema: Mapping[str, Any]) -> dict[str, Any] | None:
        """An allOf of schemas of one type (a string and its length limit, say) as one schema with every
        constraint (the tighter bound where two give one); None when the members are of different types."""
        merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
        types: set[str] = set(json_types(merged)) - {"null"}
        for member in substantive(schema.get("allOf")):
            found = self.resolved(member)
            if found is None or any(key in found[0] for key in ("allOf", "oneOf", "anyOf", "properties")):
                return None
            resolved = found[0]
            member_types = set(json_types(resolved)) - {"null"}
            if member_types and types and member_types != types:
                return None
            types |= member_types
            for key, value in resolved.items():
                if key in _LOWER_BOUNDS and is_number(value) and is_number(merged.get(key)):
                    merged[key] = max(merged[key], value)
                elif key in _UPPER_BOUNDS and is_number(value) and is_number(merged.get(key)):
                    merged[key] = min(merged[key], value)
                else:
                    merged.setdefault(key, value)
        return merged

    def _all_of_parts(self, schema: Mapping[str, Any], seen: frozenset[str]) -> list[Mapping[str, Any]] | None:
        """The object schemas an allOf combines, nested allOfs and references resolved; None when one of
        them is not an object (or refers back to itself)."""
        own = {key: value for key, value in schema.items() if key != "allOf"}
        parts: list[Mapping[str, Any]] = [own] if own.get("properties") or own.get("required") else []
        for member in substantive(schema.get("allOf")):
            found = self.resolved(member, seen)
            if found is None:
                return None
            resolved, seen = found
            if _only_requires_alternatives(resolved):
                continue  # "one of these properties is required": a class cannot say it; left to the API
            if "allOf" in resolved:
                nested = self._all_of_parts(resolved, seen)
                if nested is None:
                    return None
                parts.extend(nested)
            elif _is_object_part(resolved):
                parts.append(resolved)
            else:
                return None
        return parts
