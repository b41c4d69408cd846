"""The loose outputSchema of a tool, from the documented JSON response schema.

The MCP client rejects structured output that does not match the advertised schema, and real APIs do not
always honour their own documentation. So the schema keeps only what tells a reader the shape (property
names, to depth 2 not counting array items, breadth first) and nothing that constrains (no `type` below the
top, no `required`, `enum`, `format`, `additionalProperties` or `$ref`): any object satisfies it. A
documented non-object (an array, a string) is wrapped: `{"result": <value>}`. Descriptions and titles stay
out (the tool's description says what it returns; the input schemas carry the descriptions that matter),
and the names per tool are bounded in bytes: Stripe's 468 tools list in about 1.4 MB, not 4 MB.

Every output schema also names `_response`, where the runtime puts the response headers an agent needs to
continue (`status`, `headers` with the documented ones by lower-case name, `links`, `next_arguments`; see
the runtime's `_mechanisms/headers.py` and the README).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from specbridge.normalize.schemas import SchemaNormalizer

MAX_DEPTH = 2
MAX_NAME_BYTES = 160  # property names per tool, each counted with its JSON punctuation
MAX_COMPOSITION = 12  # nesting of allOf/anyOf/oneOf looked into
_NON_OBJECT = frozenset({"array", "string", "number", "integer", "boolean", "null"})


RESPONSE_KEY = "_response"
MAX_HEADER_NAMES = 12  # documented response headers named under `_response.headers`


def output_schema(schema: Any, schemas: SchemaNormalizer,
                  headers: tuple[str, ...] = ()) -> tuple[dict[str, Any], bool]:
    """(the loose schema, whether the value is wrapped as {"result": ...}); `headers`: the documented
    response headers."""
    resolved = schemas.resolve(schema)
    if _documents_non_object(resolved, schemas):
        result = _names(resolved, schemas, top_depth=1)
        properties = {"result": result, RESPONSE_KEY: response_node(headers)}
        return {"type": "object", "properties": properties, "required": ["result"]}, True
    body = _names(resolved, schemas, top_depth=0)
    body.setdefault("properties", {}).setdefault(RESPONSE_KEY, response_node(headers))
    return {"type": "object", **body}, False


def response_node(headers: tuple[str, ...]) -> dict[str, Any]:
    """The names of `_response`, its documented headers among them."""
    documented: dict[str, Any] = {name.lower(): {} for name in headers[:MAX_HEADER_NAMES]}
    return {"properties": {"status": {}, "headers": {"properties": documented} if documented else {},
                           "links": {}, "next_arguments": {}}}


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


def _names(schema: Any, schemas: SchemaNormalizer, *, top_depth: int) -> dict[str, Any]:
    """The property-name tree of `schema`, breadth first so that the top level's names come first."""
    top: dict[str, Any] = {}
    budget = MAX_NAME_BYTES
    queue: deque[tuple[Any, dict[str, Any], int, tuple[int, ...]]] = deque([(schema, top, top_depth, ())])
    while queue:
        raw, out, depth, seen = queue.popleft()
        resolved = schemas.resolve(raw)
        if not isinstance(resolved, Mapping) or id(resolved) in seen or depth >= MAX_DEPTH:
            continue
        seen = (*seen, id(resolved))
        for name, sub in _properties(resolved, seen, schemas).items():
            cost = len(name) + 5  # "name":{},
            if cost > budget:
                return top
            budget -= cost
            child: dict[str, Any] = {}
            out.setdefault("properties", {})[name] = child
            queue.append((sub, child, depth + 1, seen))
        items = resolved.get("items")
        if isinstance(items, Mapping) and budget >= len('"items":{},'):
            budget -= len('"items":{},')
            # An array's items are the same level for a reader: a list endpoint's entries keep their fields.
            out["items"] = {}
            queue.append((items, out["items"], depth, seen))
    return top


def _properties(schema: Mapping[str, Any], seen: tuple[int, ...], schemas: SchemaNormalizer) -> dict[str, Any]:
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
            resolved = schemas.resolve(member)
            if isinstance(resolved, Mapping) and id(resolved) not in seen:
                for name, sub in _properties(resolved, (*seen, id(resolved)), schemas).items():
                    found.setdefault(name, sub)
    return found
