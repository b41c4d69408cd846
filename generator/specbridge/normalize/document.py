"""Read access to one OpenAPI document: its version, component schemas and internal `$ref`s."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specbridge.bundle import follow_pointer, is_missing
from specbridge.diagnostics import pointer
from specbridge.validate import Version, detect_version

COMPONENT_PREFIX = "#/components/schemas/"
MAX_REF_CHAIN = 32


def escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1") if ("~" in part or "/" in part) else part


def component_ref(name: str) -> dict[str, str]:
    return {"$ref": COMPONENT_PREFIX + escape(name)}


class SpecDocument:
    """An OpenAPI document (or none, for hand-written operations only) and how to look inside it."""

    def __init__(self, data: Mapping[str, Any] | None) -> None:
        self.data: Mapping[str, Any] = data or {}
        self.version: Version | None = detect_version(data) if data is not None else None
        self.swagger = self.version == "2.0"
        found = self.data.get("definitions") if self.swagger else _get(self.data, "components", "schemas")
        self.schemas: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        self._schema_prefix = "#/definitions/" if self.swagger else COMPONENT_PREFIX
        self._pointer_cache: dict[str, Any] = {}

    def schemas_pointer(self, name: str) -> str:
        return pointer("definitions", name) if self.swagger else pointer("components", "schemas", name)

    def component_name(self, ref: str) -> str | None:
        """The component schema a ref names (`#/components/schemas/X`; `#/definitions/X` in 2.0), if any."""
        if not ref.startswith(self._schema_prefix):
            return None
        rest = ref[len(self._schema_prefix):]
        if "/" in rest:
            return None
        name = rest.replace("~1", "/").replace("~0", "~")
        return name if name in self.schemas else None

    def lookup(self, ref: str) -> Any:
        """The node an internal ref (`#/...`) points at, or None."""
        if not ref.startswith("#"):
            return None
        if ref not in self._pointer_cache:
            found = follow_pointer(self.data, ref[1:])
            self._pointer_cache[ref] = None if is_missing(found) else found
        return self._pointer_cache[ref]

    def deref(self, node: Any, where: str) -> tuple[Any, str]:
        """Follow a chain of internal refs (parameters, responses, request bodies, path items) to the
        object itself, with its pointer. An unresolvable ref gives (None, the ref)."""
        for _ in range(MAX_REF_CHAIN):
            if not (isinstance(node, Mapping) and isinstance(node.get("$ref"), str)):
                return node, where
            where = node["$ref"]
            node = self.lookup(where)
        return None, where


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    node: Any = data
    for key in keys:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node
