"""Names derived from untrusted spec text: connector names, tool names and argument names.

Every function here is deterministic (the same input gives the same name on every run and machine), so
regenerating a package never renames its tools. Shortened or disambiguated names end in `_` plus six hex
digits of a SHA-256, which keeps them unique without depending on the order of anything but the input.
"""

from __future__ import annotations

import re
import unicodedata

# Shared with the runtime, whose wrappers name upstream tools at run time by the same rule.
from specbridge_runtime.contract import TOOL_NAME_MAX as TOOL_NAME_MAX
from specbridge_runtime.contract import disambiguate as disambiguate
from specbridge_runtime.contract import fit as fit
from specbridge_runtime.contract import short_hash as short_hash

CONNECTOR_NAME_MAX = 32
TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ARGUMENT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
CONNECTOR_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")

_ACRONYM_END = re.compile(r"([A-Z]+)([A-Z][a-z])")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")
_NOT_ARGUMENT = re.compile(r"[^A-Za-z0-9_.-]+")


def ascii_fold(text: str) -> str:
    """Accented letters lose their accents; anything else outside ASCII is dropped."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def snake_case(text: str) -> str:
    """`getHTTPResponse` -> `get_http_response`, `repos/get-content` -> `repos_get_content`; may be empty."""
    text = ascii_fold(text)
    text = _ACRONYM_END.sub(r"\1_\2", text)
    text = _LOWER_UPPER.sub(r"\1_\2", text)
    return _NOT_WORD.sub("_", text).strip("_").lower()


def connector_name(text: str) -> str:
    """A snake_case name usable as `<name>_mcp` (import), `<name>-mcp` (distribution and command) and
    `<NAME>_` (environment prefix): starts with a letter, at most 32 characters, cut at a word boundary."""
    name = snake_case(text)
    if not name:
        return "api"
    if not name[0].isalpha():
        name = f"api_{name}"
    if len(name) > CONNECTOR_NAME_MAX:
        cut = name[: CONNECTOR_NAME_MAX + 1].rfind("_")
        name = name[:cut] if cut > 0 else name[:CONNECTOR_NAME_MAX]
    return name


def operation_slug(operation_id: str, method: str, path: str) -> str:
    """The operation part of a tool name: the operationId (or hand-written name) in snake_case, else
    the method and the path's words (`GET /pets/{id}` -> `get_pets_id`)."""
    slug = snake_case(operation_id)
    if slug:
        return slug
    words = snake_case(path)
    return f"{method.lower()}_{words}" if words else f"{method.lower()}_root"


def tool_name(connector: str, slug: str) -> str:
    return fit(f"{connector}_{slug}")


def argument_name(wire_name: str) -> str:
    """The wire name when it is a safe argument name, else a sanitized one (never empty)."""
    if ARGUMENT_NAME.match(wire_name):
        return wire_name
    cleaned = _NOT_ARGUMENT.sub("_", ascii_fold(wire_name)).strip("_")
    return fit(cleaned) if cleaned else f"arg_{short_hash(wire_name)}"


class NameAllocator:
    """Hands out unique names: the first claimant keeps its name, later ones get `<prefix>_<name>`
    (when a prefix is given), then `<name>_2`, `<name>_3`, ... (fitted to the length limit)."""

    def __init__(self, limit: int = TOOL_NAME_MAX) -> None:
        self._taken: set[str] = set()
        self._limit = limit

    def __contains__(self, name: str) -> bool:
        return name in self._taken

    def claim_with_hash(self, name: str, salt: str) -> str:
        """`name`, or when taken a hashed variant salted with what tells this claimant apart."""
        return self.claim(name if name not in self._taken else disambiguate(name, salt, self._limit))

    def claim(self, name: str, prefix: str = "") -> str:
        candidates = [name]
        if prefix:
            candidates.append(fit(f"{prefix}_{name}", self._limit))
        for candidate in candidates:
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
        base = candidates[-1]
        number = 2
        while True:
            suffix = f"_{number}"
            candidate = base[: self._limit - len(suffix)] + suffix
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
            number += 1
