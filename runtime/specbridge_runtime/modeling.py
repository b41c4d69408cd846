"""What every generated `models` package shares: the two model configurations, the field hooks and `Omittable`.

They live here, not in each package, so that every generated package validates and advertises the same way.
`advertised` drops the titles pydantic derives from names. An optional field that the schema does not let be
null still defaults to None and accepts null (clients often send null for what they leave out), meaning "not
sent": `is_none` leaves it out of the dump the request is built from, and `not_null` keeps null out of what
clients are shown. `Omittable[T]` is such a field's type, with both hooks: `limit: Omittable[int] = None`.

`Format("uuid")` advertises a JSON Schema format and, for the formats below, checks the string before it is
sent, keeping the text the client gave (a date-time is not re-serialized): `uuid`, `date-time`, `date`,
`email`, `uri`, `ipv4`, `ipv6`. Other formats are advertised only.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, TypeVar

from pydantic import ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, JsonValue
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

__all__ = ["CHECKED_FORMATS", "CLOSED", "OPEN", "Format", "Omittable", "is_none", "not_null"]

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


_OMITTED = Field(exclude_if=is_none, json_schema_extra=not_null)

if TYPE_CHECKING:
    # An optional field whose schema does not accept null: None (or leaving it out) means "not sent".
    Omittable: TypeAlias = Annotated[_T | None, _OMITTED]
else:
    class _Omittable:
        """`Omittable[T]` builds `Annotated[T | None, ...]` directly: substituting a generic alias costs about
        ten times more, and a large package's models subscript it thousands of times at import."""

        def __getitem__(self, item: Any) -> Any:
            return Annotated[item | None, _OMITTED]

    Omittable = _Omittable()

# Tool inputs refuse unknown arguments (the error names them); nested objects follow their schema.
CLOSED = ConfigDict(
    populate_by_name=True, extra="forbid", defer_build=True, protected_namespaces=(), json_schema_extra=advertised
)
OPEN = ConfigDict(
    populate_by_name=True, extra="allow", defer_build=True, protected_namespaces=(), json_schema_extra=advertised
)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATE_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
# RFC 5321's shape without its quoted and commented forms: a local part, @, dot-separated labels or [address].
_EMAIL = re.compile(r'[^\s@"(),:;<>\[\\\]]+@([^\s@"(),:;<>\[\\\].]+(\.[^\s@"(),:;<>\[\\\].]+)*|\[[^\s\[\]]+\])')
# RFC 3986: a scheme, then only characters a URI may hold, every % starting an escape.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:([A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return _DATE.fullmatch(text) is not None


def _is_date_time(text: str) -> bool:
    """RFC 3339 (JSON Schema's date-time): a full date, `T`, a full time with an offset; a leap second too."""
    found = _DATE_TIME.fullmatch(text)
    if found is None or not _is_date(found[1]):
        return False
    hour, minute, second = int(found[2]), int(found[3]), int(found[4])
    offset = found[6].upper()
    if offset != "Z" and not (int(offset[1:3]) < 24 and int(offset[4:6]) < 60):
        return False
    return hour < 24 and minute < 60 and second <= 60


def _is_ip(kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> Callable[[str], bool]:
    def check(text: str) -> bool:
        try:
            kind(text)
        except ValueError:
            return False
        return "%" not in text  # no IPv6 zone: an address, not an interface

    return check


CHECKED_FORMATS: dict[str, Callable[[str], bool]] = {
    "uuid": lambda text: _UUID.fullmatch(text) is not None,
    "date-time": _is_date_time,
    "date": _is_date,
    "email": lambda text: _EMAIL.fullmatch(text) is not None and len(text) <= 254,
    "uri": lambda text: _URI.fullmatch(text) is not None,
    "ipv4": _is_ip(ipaddress.IPv4Address),
    "ipv6": _is_ip(ipaddress.IPv6Address),
}


@dataclass(frozen=True, slots=True)
class Format:
    """A JSON Schema `format`: advertised, and checked when it is one of `CHECKED_FORMATS`."""

    name: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        schema = handler(source)
        check = CHECKED_FORMATS.get(self.name)
        if check is None:
            return schema
        name = self.name

        def checked(value: object) -> object:
            if isinstance(value, str) and not check(value):
                raise ValueError(f"not a valid {name}")
            return value  # as given: the text the client wrote is what is sent

        return core_schema.no_info_after_validator_function(checked, schema)

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        found = handler(schema)
        found["format"] = self.name
        return found
