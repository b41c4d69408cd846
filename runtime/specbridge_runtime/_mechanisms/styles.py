"""OpenAPI parameter serialization: `style`, `explode` and `allowReserved` for primitives, arrays and
objects, as the OpenAPI specification's style table and RFC 6570 describe them.

Every function returns text already percent-encoded for where it goes, so the caller only concatenates.
Values are encoded with an empty safe set (a path value cannot add a `/`, a query value cannot add an `&`);
the delimiters a style adds are the only structure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from .._core.descriptors import Param

Encode = Callable[[str], str]

# allowReserved sends RFC 3986 reserved characters as they are, except those that would end the value or
# change the query's structure (`&`, `=`, `#`, and `+`, which form decoding reads as a space).
_QUERY_RESERVED_KEPT = ":/?[]@!$'()*,;"
# RFC 6265 cookie-octet: everything else (controls, space, `"`, `,`, `;`, `\`, non-ASCII) is encoded.
_COOKIE_SAFE = "!#$%&'()*+-./:<=>?@[]^_`{|}~"
# Header values keep printable ASCII; controls (CR, LF) and non-ASCII are percent-encoded.
_HEADER_SAFE = "".join(chr(code) for code in range(0x20, 0x7F))


def scalar_text(value: Any) -> str:
    """A value as the text of one parameter item: booleans as JSON does, nested structures as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def encode_strict(text: str) -> str:
    return quote(text, safe="")


def _encode_query_value(allow_reserved: bool) -> Encode:
    if allow_reserved:
        return lambda text: quote(text, safe=_QUERY_RESERVED_KEPT)
    return encode_strict


def _encode_cookie(text: str) -> str:
    return quote(text, safe=_COOKIE_SAFE)


def _encode_header(text: str) -> str:
    return quote(text, safe=_HEADER_SAFE)


def _object_items(value: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(key), scalar_text(item)) for key, item in value.items() if item is not None]


def _expand(name: str, value: Any, *, first: str, separator: str, named: bool, if_empty: str, explode: bool,
            encode: Encode) -> str:
    """RFC 6570 expansion of one variable (the operators `""`, `.`, `;` and `?`/`&` differ only in these
    parameters). An empty array or object expands to nothing."""
    if isinstance(value, Mapping):
        items = _object_items(value)
        if not items:
            return ""
        if explode:
            return first + separator.join(f"{encode(key)}={encode(text)}" for key, text in items)
        flat = ",".join(f"{encode(key)},{encode(text)}" for key, text in items)
        return first + (f"{name}={flat}" if named else flat)
    if isinstance(value, list):
        texts = [encode(scalar_text(item)) for item in value if item is not None]
        if not texts:
            return ""
        if explode:
            return first + separator.join(f"{name}={text}" if named else text for text in texts)
        return first + (f"{name}=" if named else "") + ",".join(texts)
    text = encode(scalar_text(value))
    if named:
        return first + name + (f"={text}" if text else if_empty)
    return first + text


def path_value(param: Param, value: Any) -> str:
    """The text that replaces `{name}` in the path (styles simple, label, matrix)."""
    style, explode, name = param.effective_style, param.effective_explode, encode_strict(param.name)
    if style == "label":
        return _expand(name, value, first=".", separator=".", named=False, if_empty="", explode=explode,
                       encode=encode_strict)
    if style == "matrix":
        return _expand(name, value, first=";", separator=";", named=True, if_empty="", explode=explode,
                       encode=encode_strict)
    return _expand(name, value, first="", separator=",", named=False, if_empty="", explode=explode,
                   encode=encode_strict)


def query_text(param: Param, value: Any) -> str:
    """The query string part of one parameter ("" when it adds nothing), without a leading `&`."""
    style, explode = param.effective_style, param.effective_explode
    name = quote(param.name, safe="[]")
    encode = _encode_query_value(param.allow_reserved)
    if style == "deepObject" and isinstance(value, Mapping):
        return "&".join(f"{quote(key, safe='[]')}={encode(text)}" for key, text in bracket_pairs(param.name, value))
    delimiter = {"spaceDelimited": "%20", "pipeDelimited": "|"}.get(style)
    if delimiter is not None and not explode and isinstance(value, list | Mapping):
        if isinstance(value, Mapping):
            texts = [encode(text) for pair in _object_items(value) for text in pair]
        else:
            texts = [encode(scalar_text(item)) for item in value if item is not None]
        return f"{name}={delimiter.join(texts)}" if texts else ""
    return _expand(name, value, first="", separator="&", named=True, if_empty="=", explode=explode, encode=encode)


def header_value(param: Param, value: Any) -> str:
    """A header's value (style simple)."""
    return _expand("", value, first="", separator=",", named=False, if_empty="", explode=param.effective_explode,
                   encode=_encode_header)


def cookie_text(param: Param, value: Any) -> str:
    """The `Cookie` header part of one parameter (style form): exploded arrays and objects become one cookie
    per item, joined by `; ` as cookies are."""
    return _expand(_encode_cookie(param.name), value, first="", separator="; ", named=True, if_empty="=",
                   explode=param.effective_explode, encode=_encode_cookie)


def bracket_pairs(prefix: str, value: Any) -> Iterator[tuple[str, str]]:
    """Nested objects and arrays as flat `(key, text)` pairs in bracket notation (`a[b][0]`), as
    deepObject parameters and form bodies (Stripe, Rails, PHP) spell them; null values are left out."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from bracket_pairs(f"{prefix}[{key}]" if prefix else str(key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from bracket_pairs(f"{prefix}[{index}]", item)
    elif value is not None:
        yield prefix, scalar_text(value)
