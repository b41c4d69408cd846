"""A request body as tool arguments: an object body with plain properties is flattened into one argument
per property; anything else is one argument holding the whole body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specbridge_runtime.contract import Body, BodyField

from specbridge.ir import Argument
from specbridge.naming import NameAllocator, argument_name
from specbridge.normalize import media
from specbridge.normalize.document import escape
from specbridge.normalize.drafts import BodyDraft
from specbridge.normalize.schemas import SchemaNormalizer, binary_string, is_binary
from specbridge.normalize.text import clean_text

_FLATTENABLE = frozenset({"json", "form", "multipart"})
_COMPOSITION = ("allOf", "anyOf", "oneOf", "not")


def build_body(draft: BodyDraft, schemas: SchemaNormalizer, names: NameAllocator, refs: set[str]
               ) -> tuple[Body, list[Argument]]:
    kind = media.kind(draft.media_type)
    resolved = schemas.resolve(draft.schema)
    if kind in _FLATTENABLE and _flattenable(resolved):
        return _flattened(draft, resolved, kind, schemas, names, refs)
    schema = schemas.request(draft.schema, draft.where, refs) if draft.schema is not None else _undescribed(kind)
    if kind == "binary" and not is_binary(schema):
        schema = binary_string()
    arg = names.claim("body", prefix="body")
    if kind == "binary":
        files: tuple[str, ...] = (arg,)
    elif kind == "multipart" and isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        files = tuple(name for name, sub in schema["properties"].items() if is_binary(sub))
    else:
        files = ()
    argument = Argument(arg, schema, draft.required, "body", clean_text(draft.description))
    return Body(draft.media_type, arg=arg, required=draft.required, files=files), [argument]


def _flattenable(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    properties = schema.get("properties")
    kind = schema.get("type")
    return (isinstance(properties, Mapping) and bool(properties)
            and not any(keyword in schema for keyword in _COMPOSITION)
            and (kind is None or kind == "object")
            and schema.get("additionalProperties") in (None, False))


def _flattened(draft: BodyDraft, schema: Mapping[str, Any], kind: str, schemas: SchemaNormalizer,
               names: NameAllocator, refs: set[str]) -> tuple[Body, list[Argument]]:
    required = schema["required"] if isinstance(schema.get("required"), list) else []
    where = draft.where
    if isinstance(draft.schema, Mapping) and isinstance(draft.schema.get("$ref"), str):
        where = draft.schema["$ref"]
    fields: list[BodyField] = []
    files: list[str] = []
    arguments: list[Argument] = []
    for raw_name, raw_schema in schema["properties"].items():
        name = str(raw_name)
        if isinstance(raw_schema, Mapping) and raw_schema.get("readOnly") is True:
            continue
        normalized = schemas.request(raw_schema, f"{where}/properties/{escape(name)}", refs)
        arg = names.claim(argument_name(name), prefix="body")
        fields.append(BodyField(arg=arg, prop=name))
        if kind == "multipart" and is_binary(normalized):
            files.append(name)
        description = raw_schema.get("description") if isinstance(raw_schema, Mapping) else None
        arguments.append(Argument(arg, normalized, draft.required and name in required, "body",
                                  clean_text(description)))
    return Body(draft.media_type, fields=tuple(fields), required=draft.required, files=tuple(files)), arguments


def _undescribed(kind: str) -> dict[str, Any]:
    if kind == "binary":
        return binary_string()
    if kind == "text":
        return {"type": "string"}
    return {}
