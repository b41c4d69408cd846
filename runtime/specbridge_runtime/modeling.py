"""What every generated `models.py` shares: the two model configurations, the field hooks and `Omittable`.

They live here, not in each package, so that every generated package validates and advertises the same way.
`advertised` drops the titles pydantic derives from names. An optional field that the schema does not let be
null still defaults to None and accepts null (clients often send null for what they leave out), meaning "not
sent": `is_none` leaves it out of the dump the request is built from, and `not_null` keeps null out of what
clients are shown. `Omittable[T]` is such a field's type, with both hooks: `limit: Omittable[int] = None`.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias, TypeVar

from pydantic import ConfigDict, Field, JsonValue

__all__ = ["CLOSED", "OPEN", "Omittable", "is_none", "not_null"]

_T = TypeVar("_T")


def advertised(schema: dict[str, JsonValue]) -> None:
    schema.pop("title", None)
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for field in properties.values():
            if isinstance(field, dict):
                field.pop("title", None)


def is_none(value: object) -> bool:
    return value is None


def not_null(schema: dict[str, JsonValue]) -> None:
    schema.pop("default", None)
    options = schema.pop("anyOf", None)
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and isinstance(kept[0], dict):
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept


# An optional field whose schema does not accept null: None (or leaving it out) means "not sent".
Omittable: TypeAlias = Annotated[_T | None, Field(exclude_if=is_none, json_schema_extra=not_null)]

# Tool inputs refuse unknown arguments (the error names them); nested objects follow their schema.
CLOSED = ConfigDict(
    populate_by_name=True, extra="forbid", defer_build=True, protected_namespaces=(), json_schema_extra=advertised
)
OPEN = ConfigDict(
    populate_by_name=True, extra="allow", defer_build=True, protected_namespaces=(), json_schema_extra=advertised
)
