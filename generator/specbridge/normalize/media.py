"""Media types: which request body to use, which response is JSON."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

MediaKind = Literal["json", "form", "multipart", "text", "binary"]
_BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
_BINARY_TYPES = frozenset({"application/octet-stream", "application/pdf", "application/zip", "application/gzip",
                           "application/x-tar"})


def essence(media_type: str) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return media_type.split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    base = essence(media_type)
    return base in ("application/json", "text/json") or base.endswith("+json")


def kind(media_type: str) -> MediaKind:
    base = essence(media_type)
    if is_json(base):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    if base in _BINARY_TYPES or base.startswith(_BINARY_PREFIXES):
        return "binary"
    return "text"


_PREFERENCE = ("json", "form", "multipart", "text/plain", "application/octet-stream")


def preferred(media_types: Iterable[str]) -> str | None:
    """application/json (and +json), then form, multipart, text/plain, octet-stream, else the first."""
    candidates = list(media_types)
    for wanted in _PREFERENCE:
        for media_type in candidates:
            if _category(media_type) == wanted:
                return media_type
    return candidates[0] if candidates else None


def _category(media_type: str) -> str:
    base = essence(media_type)
    if is_json(base):
        return "json"
    return {"application/x-www-form-urlencoded": "form", "multipart/form-data": "multipart"}.get(base, base)


def json_response(media_types: Iterable[str]) -> str | None:
    """The JSON media type of a response (`*/*` counts: servers answering it usually send JSON)."""
    candidates = list(media_types)
    return next((m for m in candidates if is_json(m)), None) or next(
        (m for m in candidates if essence(m) == "*/*"), None)
