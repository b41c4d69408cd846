"""The loose outputSchema of a tool, from the documented JSON response schema.

The MCP client rejects structured output that does not match the advertised schema, and real APIs do not
always honour their own documentation. So the schema keeps what helps a reader (property names,
titles, descriptions, nesting to depth 2 not counting array items) and nothing that constrains (no `type` below the
top, no `required`, `enum`, `format`, `additionalProperties` or `$ref`): any object satisfies it. A
documented non-object (an array, a string) is wrapped: `{"result": <value>}`. The size is bounded
per tool, so a spec with hundreds of large responses still lists its tools quickly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specbridge.normalize.schemas import SchemaNormalizer
from specbridge.normalize.text import clean_text, one_line

MAX_DEPTH = 2
MAX_NODES = 80  # property and item nodes per tool
DESCRIPTION_MAX = 200
MAX_COMPOSITION = 12  # nesting of allOf/anyOf/oneOf looked into
_NON_OBJECT = frozenset({"array", "string", "number", "integer", "boolean", "null"})


def output_schema(schema: Any, schemas: SchemaNormalizer) -> tuple[dict[str, Any], bool]:
    """(the loose schema, whether the value is wrapped as {"result": ...})."""
    builder = _Loose(schemas)
    resolved = schemas.resolve(schema)
    if _documents_non_object(resolved, schemas):
        result = builder.node(resolved, 1, ())
        return {"type": "object", "properties": {"result": result}, "required": ["result"]}, True
    body = builder.node(resolved, 0, ())
    body.pop("title", None)
    return {"type": "object", **body}, False


def _documents_non_object(schema: Any, schemas: SchemaNormalizer) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind in _NON_OBJECT
    if isinstance(kind, list) and kind:
        return "object" not in kind and all(isinstance(item, str) for item in kind)
    if "properties" in schema or "additionalProperties" in schema:
        return False
    members = schema.get("allOf")
    if isinstance(members, list) and members:
        return all(_documents_non_object(schemas.resolve(member), schemas) for member in members)
    return False


class _Loose:
    def __init__(self, schemas: SchemaNormalizer) -> None:
        self.schemas = schemas
        self.budget = MAX_NODES

    def node(self, raw: Any, depth: int, seen: tuple[int, ...]) -> dict[str, Any]:
        schema = self.schemas.resolve(raw)
        if not isinstance(schema, Mapping) or id(schema) in seen:
            return {}
        seen = (*seen, id(schema))
        out: dict[str, Any] = {}
        # A description next to a $ref says what this use of the referenced schema means.
        described = raw if isinstance(raw, Mapping) and "description" in raw else schema
        title = one_line(schema.get("title"))
        description = clean_text(described.get("description"), DESCRIPTION_MAX)
        if title:
            out["title"] = title
        if description:
            out["description"] = description
        if depth >= MAX_DEPTH:
            return out
        properties = self._properties(schema, seen)
        if properties:
            out["properties"] = {}
            for name, sub in properties.items():
                if self.budget <= 0:
                    break
                self.budget -= 1
                out["properties"][name] = self.node(sub, depth + 1, seen)
        items = schema.get("items")
        if isinstance(items, Mapping) and self.budget > 0:
            self.budget -= 1
            # An array's items are the same level for a reader: a list endpoint's entries keep their fields.
            out["items"] = self.node(items, depth, seen)
        return out

    def _properties(self, schema: Mapping[str, Any], seen: tuple[int, ...]) -> dict[str, Any]:
        """Own properties plus those of composed members (any of them may describe the value)."""
        found: dict[str, Any] = {}
        own = schema.get("properties")
        if isinstance(own, Mapping):
            found.update((str(name), sub) for name, sub in own.items())
        if len(seen) > MAX_COMPOSITION:
            return found
        for keyword in ("allOf", "anyOf", "oneOf"):
            members = schema.get(keyword)
            if not isinstance(members, list):
                continue
            for member in members:
                resolved = self.schemas.resolve(member)
                if isinstance(resolved, Mapping) and id(resolved) not in seen:
                    for name, sub in self._properties(resolved, (*seen, id(resolved))).items():
                        found.setdefault(name, sub)
        return found
