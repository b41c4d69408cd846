"""Spec prose as plain data: control characters stripped, length capped."""

from __future__ import annotations

import re
from typing import Any

DESCRIPTION_MAX = 1024
TITLE_MAX = 200
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
_ELLIPSIS = "…"


def clean_text(value: Any, limit: int = DESCRIPTION_MAX) -> str:
    """`value` when it is a string, without control characters (newlines and tabs stay), trimmed and cut
    to `limit` characters with an ellipsis; anything else is the empty string."""
    if not isinstance(value, str):
        return ""
    text = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + _ELLIPSIS


def one_line(value: Any, limit: int = TITLE_MAX) -> str:
    """Like `clean_text`, on one line."""
    return clean_text(" ".join(clean_text(value, limit * 4).split()), limit)


def first_sentence(value: Any, limit: int = 80) -> str:
    """The first sentence of some prose, on one line, when it is short enough to be a title."""
    line = one_line(value, limit * 4)
    sentence = re.split(r"(?<=[.!?])\s", line, maxsplit=1)[0].rstrip(".")
    return sentence if len(sentence) <= limit else ""
