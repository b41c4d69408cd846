"""Deterministic example values from a JSON Schema (a tool's advertised inputSchema): what a careful caller
would send. Honours $ref/$defs, const, enum, examples, default, formats, required, min/max (exclusive too),
multipleOf, lengths, patterns (a string made from the pattern with a seeded generator), item counts,
minProperties, anyOf/oneOf (the first branch that is not null) and allOf.

Only required properties are filled in (plus as many optional ones as minProperties asks for), so a call
exercises exactly what the schema demands.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from typing import Any

import rstr
from jsonschema import Draft202012Validator, FormatChecker

_FORMATS: dict[str, str] = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "date-time": "2024-01-02T03:04:05Z", "date": "2024-01-02",
    "time": "03:04:05Z", "email": "user@example.com", "uri": "https://example.com/x", "url": "https://example.com/x",
    "uri-reference": "https://example.com/x", "hostname": "example.com", "ipv4": "192.0.2.1", "ipv6": "2001:db8::1",
    "byte": "aGVsbG8=", "binary": "aGVsbG8=", "base64": "aGVsbG8=", "duration": "P1D", "password": "secret-1",
}
_DEPTH = 12


class ExampleError(ValueError):
    """The schema asks for something this builder cannot make (an unsatisfiable pattern, a cycle)."""


def example_arguments(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for a tool: a value of its input schema (an object)."""
    value = _Builder(schema).value(schema, 0)
    if not isinstance(value, dict):
        raise ExampleError("the input schema is not an object schema")
    return value


class _Builder:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.random = random.Random(0)

    def value(self, schema: Any, depth: int) -> Any:
        if depth > _DEPTH:
            raise ExampleError("the schema nests too deeply (a required cycle?)")
        if not isinstance(schema, Mapping):
            return "example"
        schema = self._resolved(schema)
        if "const" in schema:
            return schema["const"]
        enum = [item for item in schema.get("enum", []) if item is not None]
        if enum:
            return enum[0]
        for candidate in self._given(schema):
            if self._valid(schema, candidate):
                return candidate
        if "allOf" in schema:
            return self.value(self._merged(schema), depth + 1)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                branches = [b for b in schema[key] if not (isinstance(b, Mapping) and b.get("type") == "null")]
                return self.value(branches[0] if branches else {"type": "null"}, depth + 1)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((item for item in kind if item != "null"), "null")
        if kind is None:
            kind = "object" if "properties" in schema else "string"
        return getattr(self, f"_{kind}")(schema, depth)

    def _resolved(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in schema:
            seen += 1
            if seen > _DEPTH:
                raise ExampleError("a $ref chain does not end")
            target: Any = self.root
            for part in str(schema["$ref"]).removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return schema

    def _merged(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = self._resolved(part) if isinstance(part, Mapping) else {}
            for key, item in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **item}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *item]
                else:
                    merged.setdefault(key, item)
        return merged

    @staticmethod
    def _given(schema: Mapping[str, Any]) -> list[Any]:
        given = [item for item in schema.get("examples", []) if item is not None] if isinstance(
            schema.get("examples"), list) else []
        for key in ("example", "default"):
            if schema.get(key) is not None:
                given.append(schema[key])
        return given

    def _valid(self, schema: Mapping[str, Any], value: Any) -> bool:
        try:
            definitions = {key: self.root[key] for key in ("$defs", "definitions") if key in self.root}
            Draft202012Validator({**definitions, **schema}, format_checker=FormatChecker()).validate(value)
        except Exception:  # any failure (a bad schema too) means: make one instead
            return False
        return True

    def _string(self, schema: Mapping[str, Any], depth: int) -> str:
        minimum, maximum = int(schema.get("minLength", 0)), schema.get("maxLength")
        pattern = schema.get("pattern")
        text = _FORMATS.get(str(schema.get("format")), "example")
        if pattern and not re.search(pattern, text):
            generator = rstr.Rstr(self.random)
            for _ in range(50):
                text = generator.xeger(pattern)
                if (len(text) >= minimum and (maximum is None or len(text) <= maximum)
                        and re.search(pattern, text)):
                    return text
            raise ExampleError(f"no string of pattern {pattern!r} fits the lengths")
        text = text + "x" * max(0, minimum - len(text))
        return text[: int(maximum)] if maximum is not None else text

    def _integer(self, schema: Mapping[str, Any], depth: int) -> int:
        return int(self._number(schema, depth, step=1))

    def _number(self, schema: Mapping[str, Any], depth: int, step: float = 0.5) -> float:
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(schema.get("exclusiveMinimum"), int | float):
            low = schema["exclusiveMinimum"] + step
        if isinstance(schema.get("exclusiveMaximum"), int | float):
            high = schema["exclusiveMaximum"] - step
        value = low if low is not None else (high if high is not None and high < 1 else 1)
        multiple = schema.get("multipleOf")
        if multiple:
            value = math.ceil(value / multiple) * multiple
        return int(value) if step == 1 else value

    def _boolean(self, schema: Mapping[str, Any], depth: int) -> bool:
        return True

    def _null(self, schema: Mapping[str, Any], depth: int) -> None:
        return None

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        count = max(int(schema.get("minItems", 1)), 1)
        items = schema.get("items", {})
        first = self.value(items, depth + 1)
        values = [first]
        while len(values) < count:  # distinct values where uniqueItems needs them: numbers and text vary
            last = values[-1]
            values.append(last + 1 if isinstance(last, int) and not isinstance(last, bool) else
                          f"{last}{len(values)}" if isinstance(last, str) else last)
        return values

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties = schema.get("properties", {})
        wanted = list(schema.get("required", []))
        for name in properties:
            if len(wanted) >= int(schema.get("minProperties", 0)):
                break
            if name not in wanted:
                wanted.append(name)
        value = {name: self.value(properties.get(name, {}), depth + 1) for name in wanted}
        extra = schema.get("additionalProperties")
        number = 0
        while len(value) < int(schema.get("minProperties", 0)):
            number += 1
            value[f"key{number}"] = self.value(extra if isinstance(extra, Mapping) else {}, depth + 1)
        return value
