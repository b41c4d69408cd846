"""Request schemas of any dialect (Swagger 2.0, OpenAPI 3.0, 3.1, hand-written) as JSON Schema 2020-12.

- `nullable: true` / `x-nullable: true` become a `"null"` type (or an `anyOf` with `{"type": "null"}`);
- Swagger's `type: file`, `format: binary` and 3.1 binary strings become strings with
  `contentEncoding: base64` (tool arguments are JSON, so file content travels base64-encoded);
- 3.0's boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers, `example` becomes `examples`;
- refs to component schemas become `#/components/schemas/<name>` (names from the spec), other internal
  refs are inlined (cycles end in `{}` with a diagnostic); `$ref` siblings are kept (`allOf` when
  they constrain);
- `readOnly` properties are dropped (these schemas describe requests);
- unsupported keywords and invalid values are dropped, each reported once with a count.

Component schemas are normalized once and memoized; circular schemas stay circular through refs.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.normalize.document import SpecDocument, component_ref, escape
from specbridge.normalize.report import Reporter

MAX_DEPTH = 64
JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
BASE64 = "base64"
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "deprecated"})
_COMPOSITION = ("allOf", "anyOf", "oneOf")
_NUMBERS = frozenset({"minimum", "maximum", "multipleOf"})
_COUNTS = frozenset({"minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"})
_STRINGS = frozenset({"title", "description", "format", "contentEncoding", "contentMediaType"})
_BOOLEANS = frozenset({"uniqueItems", "deprecated"})
_DATA = frozenset({"default", "const"})
_SILENT = frozenset({
    "$ref", "nullable", "x-nullable", "readOnly", "writeOnly", "xml", "externalDocs", "$comment", "$schema", "$id",
    "$anchor", "$dynamicAnchor", "example", "exclusiveMinimum", "exclusiveMaximum",
})
_UNSUPPORTED = frozenset({
    "if", "then", "else", "dependentSchemas", "dependentRequired", "dependencies", "unevaluatedProperties",
    "unevaluatedItems", "propertyNames", "contains", "minContains", "maxContains", "additionalItems", "$defs",
    "definitions", "$dynamicRef", "$recursiveRef", "$recursiveAnchor", "contentSchema",
})
_TEXT_MEDIA = re.compile(r"^(text/|application/(json|xml|yaml|x-yaml)\b)|[+/](json|xml|yaml)\b")


class SchemaNormalizer:
    def __init__(self, document: SpecDocument, report: Reporter) -> None:
        self.document = document
        self.report = report
        self._components: dict[str, tuple[Any, frozenset[str]]] = {}
        self._inline: dict[str, tuple[Any, frozenset[str]]] = {}
        self._inline_active: set[str] = set()

    def request(self, schema: Any, where: str, refs: set[str]) -> Any:
        """The normalized schema; names of component schemas it refers to are added to `refs`."""
        return self._schema(schema, where, 0, refs)

    def component(self, name: str) -> tuple[Any, frozenset[str]]:
        known = self._components.get(name)
        if known is None:
            refs: set[str] = set()
            where = self.document.schemas_pointer(name)
            known = (self._schema(self.document.schemas.get(name), where, 0, refs), frozenset(refs))
            self._components[name] = known
        return known

    def closure(self, names: Iterable[str]) -> dict[str, Any]:
        """Every component schema reachable from `names`, normalized, sorted by name."""
        found: dict[str, Any] = {}
        pending = sorted(set(names))
        while pending:
            name = pending.pop()
            if name in found:
                continue
            schema, refs = self.component(name)
            found[name] = schema
            pending.extend(ref for ref in refs if ref not in found)
        return dict(sorted(found.items()))

    def resolve(self, schema: Any) -> Any:
        """The raw schema behind a chain of refs (for looking at a body's properties)."""
        for _ in range(32):
            if not (isinstance(schema, Mapping) and isinstance(schema.get("$ref"), str)):
                return schema
            ref = schema["$ref"]
            name = self.document.component_name(ref)
            schema = self.document.schemas.get(name) if name is not None else self.document.lookup(ref)
        return None

    # -- the walk -------------------------------------------------------------------------------------

    def _schema(self, node: Any, where: str, depth: int, refs: set[str]) -> Any:
        if isinstance(node, bool):
            return node
        if not isinstance(node, Mapping):
            self._invalid("a schema must be an object; replaced by {} (any value)", where)
            return {}
        if depth > MAX_DEPTH:
            self._invalid(f"schema nests deeper than {MAX_DEPTH} levels; the rest accepts any value", where)
            return {}
        out = self._keywords(node, where, depth, refs)
        ref = node.get("$ref")
        if isinstance(ref, str):
            out = _with_siblings(self._ref(ref, where, depth, refs), out)
        if node.get("nullable") is True or node.get("x-nullable") is True:
            out = _nullable(out)
        return out

    def _ref(self, ref: str, where: str, depth: int, refs: set[str]) -> Any:
        name = self.document.component_name(ref)
        if name is not None:
            refs.add(name)
            return component_ref(name)
        if not ref.startswith("#"):
            self.report.repeated(Level.WARNING, codes.SCHEMA_REF,
                                 f"external $ref {ref!r} was not bundled; it accepts any value", where)
            return {}
        known = self._inline.get(ref)
        if known is not None:
            refs.update(known[1])
            return known[0]
        target = self.document.lookup(ref)
        if target is None:
            self.report.repeated(Level.WARNING, codes.SCHEMA_REF,
                                 f"$ref {ref!r} points at nothing; it accepts any value", where)
            return {}
        if ref in self._inline_active:
            self.report.repeated(Level.WARNING, codes.SCHEMA_REF,
                                 f"$ref {ref!r} refers to itself outside the component schemas; the inner "
                                 "occurrence accepts any value", where)
            return {}
        self._inline_active.add(ref)
        inner: set[str] = set()
        out = self._schema(target, ref, depth + 1, inner)
        self._inline_active.discard(ref)
        self._inline[ref] = (out, frozenset(inner))
        refs.update(inner)
        return out

    def _keywords(self, node: Mapping[str, Any], where: str, depth: int, refs: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        binary = False
        read_only: set[str] = set()
        for key, value in node.items():
            if key in _SILENT or (isinstance(key, str) and key.startswith("x-")):
                continue
            if key == "type":
                types, binary_type = self._types(value, where)
                binary = binary or binary_type
                if types is not None:
                    out["type"] = types
            elif key == "properties":
                read_only = self._properties(value, out, where, depth, refs)
            elif key == "required":
                if isinstance(value, list) and all(isinstance(item, str) for item in value):
                    out["required"] = list(dict.fromkeys(value))
                else:
                    self._invalid("`required` is not a list of property names; dropped", where)
            elif key in ("items", "additionalProperties", "not"):
                self._subschema(key, value, out, where, depth, refs)
            elif key in _COMPOSITION or key == "prefixItems":
                if isinstance(value, list) and value:
                    out[key] = [self._schema(item, f"{where}/{key}/{index}", depth + 1, refs)
                                for index, item in enumerate(value)]
                else:
                    self._invalid(f"`{key}` is not a non-empty list of schemas; dropped", where)
            elif key == "patternProperties":
                self._pattern_properties(value, out, where, depth, refs)
            elif key in _NUMBERS:
                if _is_number(value) and (key != "multipleOf" or value > 0):
                    out[key] = value
                else:
                    self._invalid(f"`{key}` is not a finite number; dropped", where)
            elif key in _COUNTS:
                if _is_count(value):
                    out[key] = int(value)
                else:
                    self._invalid(f"`{key}` is not a non-negative integer below 2**63; dropped", where)
            elif key == "pattern":
                if isinstance(value, str) and _compiles(value):
                    out[key] = value
                else:
                    self._invalid("`pattern` is not a regular expression Python can use; dropped", where)
            elif key in _STRINGS:
                if not isinstance(value, str):
                    self._invalid(f"`{key}` is not a string; dropped", where)
                elif key == "format" and value == "binary":
                    binary = True
                else:
                    out[key] = value
            elif key in _BOOLEANS:
                if isinstance(value, bool):
                    out[key] = value
                else:
                    self._invalid(f"`{key}` is not a boolean; dropped", where)
            elif key == "enum":
                if isinstance(value, list) and value:
                    out[key] = list(value)
                else:
                    self._invalid("`enum` is not a non-empty list; dropped", where)
            elif key == "examples":
                if isinstance(value, list):
                    out[key] = list(value)
            elif key in _DATA:
                out[key] = value
            elif key == "discriminator":
                self.report.repeated(Level.INFO, codes.UNSUPPORTED_KEYWORD,
                                     "`discriminator` is dropped; union members are tried in order", where)
            elif key in _UNSUPPORTED:
                self.report.repeated(Level.WARNING, codes.UNSUPPORTED_KEYWORD,
                                     f"schema keyword `{key}` is not supported; dropped (inputs are checked less "
                                     "strictly)", where)
            else:
                self.report.repeated(Level.INFO, codes.UNSUPPORTED_KEYWORD,
                                     f"unknown schema keyword `{key}` dropped", where)
        if read_only and "required" in out:
            out["required"] = [name for name in out["required"] if name not in read_only]
        if "example" in node and "examples" not in node:
            out["examples"] = [node["example"]]
        _exclusive_bounds(node, out, lambda message: self._invalid(message, where))
        if binary or _is_raw_binary(out):
            out["contentEncoding"] = BASE64
            if "type" not in out:
                out["type"] = "string"
            said = str(out.get("description") or "").rstrip()
            out["description"] = f"{said} (base64-encoded file content)" if said else FILE_CONTENT
        return out

    def _types(self, value: Any, where: str) -> tuple[str | list[str] | None, bool]:
        names = value if isinstance(value, list) else [value]
        types: list[str] = []
        binary = False
        for name in names:
            if name == "file":
                name, binary = "string", True
            if isinstance(name, str) and name in _TYPE_SLIPS:
                self._invalid(f"type {name!r} is not a JSON Schema type; read as {_TYPE_SLIPS[name]!r}", where)
                name = _TYPE_SLIPS[name]
            if isinstance(name, str) and name in JSON_TYPES:
                if name not in types:
                    types.append(name)
            else:
                self._invalid(f"type {name!r} is not a JSON Schema type; dropped", where)
        if not types:
            return None, binary
        return (types[0] if len(types) == 1 else types), binary

    def _properties(self, value: Any, out: dict[str, Any], where: str, depth: int, refs: set[str]) -> set[str]:
        """Normalizes `properties` into `out`; returns the names of the read-only ones it left out."""
        if not isinstance(value, Mapping):
            self._invalid("`properties` is not an object; dropped", where)
            return set()
        properties: dict[str, Any] = {}
        read_only: set[str] = set()
        for name, schema in value.items():
            if isinstance(schema, Mapping) and schema.get("readOnly") is True:
                read_only.add(name)
                continue
            properties[name] = self._schema(schema, f"{where}/properties/{escape(str(name))}", depth + 1, refs)
        out["properties"] = properties
        return read_only

    def _subschema(self, key: str, value: Any, out: dict[str, Any], where: str, depth: int,
                   refs: set[str]) -> None:
        if key == "items" and isinstance(value, list):  # draft 4 tuple form
            if value:
                out["prefixItems"] = [self._schema(item, f"{where}/items/{index}", depth + 1, refs)
                                      for index, item in enumerate(value)]
            return
        if isinstance(value, bool | Mapping):
            out[key] = self._schema(value, f"{where}/{key}", depth + 1, refs)
        else:
            self._invalid(f"`{key}` is not a schema; dropped", where)

    def _pattern_properties(self, value: Any, out: dict[str, Any], where: str, depth: int,
                            refs: set[str]) -> None:
        if not isinstance(value, Mapping):
            self._invalid("`patternProperties` is not an object; dropped", where)
            return
        kept = {}
        for pattern, schema in value.items():
            if isinstance(pattern, str) and _compiles(pattern):
                kept[pattern] = self._schema(schema, f"{where}/patternProperties/{escape(pattern)}", depth + 1, refs)
            else:
                self._invalid("a `patternProperties` pattern is not a usable regular expression; dropped", where)
        out["patternProperties"] = kept

    def _invalid(self, message: str, where: str) -> None:
        self.report.repeated(Level.WARNING, codes.INVALID_SCHEMA, message, where)


def _with_siblings(target: Any, siblings: dict[str, Any]) -> Any:
    if not siblings:
        return target
    if isinstance(target, Mapping) and set(target) == {"$ref"} and _ANNOTATIONS.issuperset(siblings):
        return {**target, **siblings}
    return {"allOf": [target], **siblings}


def _nullable(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    kind = schema.get("type")
    constrained = any(key in schema for key in ("$ref", "not", "const", *_COMPOSITION))
    if kind is not None and not constrained:
        types = [kind] if isinstance(kind, str) else list(kind)
        out = {**schema, "type": types if "null" in types else [*types, "null"]}
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    core = {key: value for key, value in schema.items() if key not in _ANNOTATIONS}
    if not core:
        return schema
    annotations = {key: value for key, value in schema.items() if key in _ANNOTATIONS}
    if set(core) == {"anyOf"}:
        return {"anyOf": [*core["anyOf"], {"type": "null"}], **annotations}
    return {"anyOf": [core, {"type": "null"}], **annotations}


def _exclusive_bounds(node: Mapping[str, Any], out: dict[str, Any], report: Callable[[str], None]) -> None:
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = node.get(exclusive)
        if value is True and bound in out:
            out[exclusive] = out.pop(bound)
        elif _is_number(value):
            out[exclusive] = value
        elif value is not None and not isinstance(value, bool):
            report(f"`{exclusive}` is not a finite number; dropped")


# Type names real specs write by mistake (httpbin says `int`), read as what they obviously mean.
_TYPE_SLIPS = {"int": "integer", "long": "integer", "float": "number", "double": "number", "bool": "boolean",
               "str": "string"}


def _is_raw_binary(out: Mapping[str, Any]) -> bool:
    """A 3.1 string of a non-text media type without an encoding holds raw bytes."""
    media = out.get("contentMediaType")
    return (isinstance(media, str) and "contentEncoding" not in out and out.get("type") in (None, "string")
            and _TEXT_MEDIA.search(media) is None)


# Tool arguments are JSON: file content travels base64-encoded, and the schema says so.
FILE_CONTENT = "File content, base64-encoded"


def binary_string() -> dict[str, Any]:
    return {"type": "string", "contentEncoding": BASE64, "description": FILE_CONTENT}


def is_binary(schema: Any) -> bool:
    """A normalized schema of file content (a base64 string, or an array of them)."""
    if not isinstance(schema, Mapping):
        return False
    if schema.get("contentEncoding") == BASE64:
        return True
    items = schema.get("items")
    return isinstance(items, Mapping) and items.get("contentEncoding") == BASE64


def _is_number(value: Any) -> bool:
    """A usable numeric constraint: JSON allows 1e400 and YAML `.inf`, which read as infinity."""
    return isinstance(value, int | float) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))


_MAX_COUNT = 2**63  # pydantic's length constraints are 64-bit


def _is_count(value: Any) -> bool:
    return _is_number(value) and 0 <= value < _MAX_COUNT and (isinstance(value, int) or value.is_integer())


@functools.lru_cache(maxsize=4096)
def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    return True
