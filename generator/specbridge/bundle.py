"""Resolve a document's external `$ref`s into one self-contained document.

An external ref in a schema position becomes a component schema (`#/components/schemas/<name>`, or
`#/definitions/<name>` in Swagger 2.0) plus an internal ref to it, so the name survives into generated
models; any other external ref (a parameter, a response, a path item, an example) is inlined. Internal
refs are kept. Which positions hold schemas follows the OpenAPI and JSON Schema structure; values that
are plain data (examples, defaults, enums) are copied as they are.

Reading is delegated to the caller's `load` function, which applies the trust boundary (a spec is
untrusted: it may not make us read files outside its folder or URLs of another origin).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level

Context = Literal["other", "schema", "schemas", "data"]
MAX_DEPTH = 150

_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SCHEMAS = frozenset({
    "items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
    "unevaluatedProperties", "unevaluatedItems", "additionalItems", "contentSchema", "allOf", "anyOf", "oneOf",
    "prefixItems",
})
_SCHEMA_DATA = frozenset({"example", "examples", "default", "enum", "const"})
_OTHER_DATA = frozenset({"example", "value"})  # not "default": a key of Responses objects
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class Target:
    """Where a ref points: a loadable location (absolute path or URL, no fragment) and a JSON pointer."""

    location: str
    fragment: str


# Turns (ref, location of the document holding it) into a Target, or a reason it is refused.
Resolve = Callable[[str, str], "Target | str"]
# Reads a location: its data, or None when it could not be read (the loader reports why).
Load = Callable[[str], Any]


def has_external_refs(document: Any) -> bool:
    """True when any `$ref` in the document does not start with `#`."""
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and not ref.startswith("#"):
                return True
            stack.extend(value for value in node.values() if isinstance(value, dict | list))
        elif isinstance(node, list):
            stack.extend(value for value in node if isinstance(value, dict | list))
    return False


def bundle(document: dict[str, Any], location: str, *, resolve: Resolve, load: Load,
           display: Callable[[str], str]) -> tuple[dict[str, Any], tuple[Diagnostic, ...]]:
    bundler = _Bundler(document, location, resolve, load, display)
    return bundler.run(), tuple(bundler.diagnostics)


class _Bundler:
    def __init__(self, document: dict[str, Any], location: str, resolve: Resolve, load: Load,
                 display: Callable[[str], str]) -> None:
        self.root = document
        self.root_location = location
        self.resolve = resolve
        self.load = load
        self.display = display
        self.swagger = "swagger" in document
        self.diagnostics: list[Diagnostic] = []
        self.names: dict[Target, str] = {}
        self.new_schemas: dict[str, Any] = {}
        self.pending: deque[tuple[str, Target]] = deque()
        self.taken = set(_schemas_of(document, self.swagger))
        self.inlined: dict[tuple[Target, Context], Any] = {}
        self.active: set[tuple[Target, Context]] = set()

    def run(self) -> dict[str, Any]:
        bundled = self.walk(self.root, self.root_location, "other", "", "#", 0)
        while self.pending:
            name, target = self.pending.popleft()
            data = self._target_data(target, "#")
            self.new_schemas[name] = self.walk(data, target.location, "schema", name, f"#{target.fragment}", 0)
        if not self.new_schemas:
            return dict(bundled)
        schemas = {**_schemas_of(bundled, self.swagger), **self.new_schemas}
        if self.swagger:
            return {**bundled, "definitions": schemas}
        components = bundled.get("components")
        components = dict(components) if isinstance(components, dict) else {}
        return {**bundled, "components": {**components, "schemas": schemas}}

    def walk(self, node: Any, location: str, context: Context, key: str, pointer: str, depth: int) -> Any:
        if context == "data" or not isinstance(node, dict | list):
            return node
        if depth > MAX_DEPTH:
            self._report(Level.ERROR, codes.TOO_COMPLEX, f"nesting deeper than {MAX_DEPTH} levels", pointer, location)
            return {}
        if isinstance(node, list):
            return [self.walk(item, location, context, key, f"{pointer}/{index}", depth + 1)
                    for index, item in enumerate(node)]
        if isinstance(node.get("$ref"), str):
            # In a map of schemas (`properties`) a string `$ref` refers to the whole map; a property named
            # `$ref` would hold a schema object.
            return self._ref(node, location, context, key, pointer, depth)
        return {
            child: self.walk(value, location, _child_context(context, key, child, depth), child,
                             f"{pointer}/{_escape(child)}", depth + 1)
            for child, value in node.items()
        }

    def _ref(self, node: dict[str, Any], location: str, context: Context, key: str, pointer: str,
             depth: int) -> Any:
        ref: str = node["$ref"]
        siblings = {
            child: self.walk(value, location, _child_context(context, key, child, depth), child,
                             f"{pointer}/{_escape(child)}", depth + 1)
            for child, value in node.items() if child != "$ref"
        }
        target = self.resolve(ref, location)
        if isinstance(target, str):
            self._report(Level.WARNING, codes.REF_REFUSED, f"$ref {ref!r} was not followed: {target}", pointer,
                         location)
            return siblings
        if target.location == self.root_location:
            return {"$ref": f"#{target.fragment}", **siblings}
        if context == "schema":
            name = self._component(target, pointer, location)
            if name is None:
                return siblings
            prefix = "#/definitions/" if self.swagger else "#/components/schemas/"
            return {"$ref": prefix + _escape(name), **siblings}
        inlined = self._inline(target, context, key, pointer, location, depth)
        if siblings and isinstance(inlined, dict):
            return {**inlined, **siblings}
        return inlined

    def _component(self, target: Target, pointer: str, location: str) -> str | None:
        known = self.names.get(target)
        if known is not None:
            return known
        if self._target_data(target, pointer, location) is _MISSING:
            return None
        name = self._unique(_derived_name(target))
        self.names[target] = name
        self.pending.append((name, target))
        return name

    def _inline(self, target: Target, context: Context, key: str, pointer: str, location: str, depth: int) -> Any:
        memo_key = (target, context)
        if memo_key in self.inlined:
            return self.inlined[memo_key]
        if memo_key in self.active:
            self._report(Level.WARNING, codes.REF_CYCLE,
                         f"$ref to {self.display(target.location)}#{target.fragment} refers to itself; left empty",
                         pointer, location)
            return {}
        data = self._target_data(target, pointer, location)
        if data is _MISSING:
            return {}
        self.active.add(memo_key)
        walked = self.walk(data, target.location, context, key, f"#{target.fragment}", depth + 1)
        self.active.discard(memo_key)
        self.inlined[memo_key] = walked
        return walked

    def _target_data(self, target: Target, pointer: str, location: str | None = None) -> Any:
        document = self.load(target.location)
        if document is None:
            return _MISSING  # the loader reported why
        found = follow_pointer(document, target.fragment)
        if found is _MISSING and location is not None:
            self._report(Level.WARNING, codes.REF_UNRESOLVED,
                         f"$ref target #{target.fragment} does not exist in {self.display(target.location)}",
                         pointer, location)
        return found

    def _unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.taken:
            candidate, number = f"{name}_{number}", number + 1
        self.taken.add(candidate)
        return candidate

    def _report(self, level: Level, code: str, message: str, pointer: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(level, code, message, pointer, self.display(location)))


def _schemas_of(document: dict[str, Any], swagger: bool) -> dict[str, Any]:
    """The component schemas: `definitions` (Swagger 2.0) or `components.schemas`."""
    if swagger:
        found = document.get("definitions")
    else:
        components = document.get("components")
        found = components.get("schemas") if isinstance(components, dict) else None
    return found if isinstance(found, dict) else {}


class _Missing:
    pass


_MISSING: Any = _Missing()


def follow_pointer(document: Any, fragment: str) -> Any:
    """The node at a URI fragment holding a JSON pointer (`""`: the whole document), or `_MISSING`."""
    if fragment == "":
        return document
    if not fragment.startswith("/"):
        return _MISSING
    node = document
    for raw in fragment[1:].split("/"):
        part = unquote(raw).replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return _MISSING
    return node


def is_missing(value: Any) -> bool:
    return value is _MISSING


def _child_context(context: Context, key: str, child: str, depth: int) -> Context:
    if context == "schemas":
        return "schema"
    if context == "schema":
        if child in _SCHEMA_MAPS:
            return "schemas"
        if child in _SCHEMAS:
            return "schema"
        return "data" if child in _SCHEMA_DATA else "other"
    if child == "schema":
        return "schema"
    if (child == "schemas" and key == "components") or (child == "definitions" and depth == 0):
        return "schemas"
    return "data" if child in _OTHER_DATA else "other"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _derived_name(target: Target) -> str:
    if target.fragment:
        raw = target.fragment.rsplit("/", 1)[-1]
        base = unquote(raw).replace("~1", "/").replace("~0", "~")
    else:
        base = PurePosixPath(unquote(urlsplit(target.location).path)).stem
    return _NAME_UNSAFE.sub("_", base).strip("_") or "Schema"
