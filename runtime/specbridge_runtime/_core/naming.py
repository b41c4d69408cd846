"""Tool names as clients see them: `<connector>_<tool>`, at most 64 characters of `[A-Za-z0-9_-]`.

Shared by the generator (`specbridge.naming` imports these: names fixed at generation time) and the
wrappers (names of an upstream MCP server's tools, known only at run time), so both sides shorten a long
name the same way. Shortened or disambiguated names end in `_` plus six hex digits of a SHA-256 of the
whole name, which keeps them deterministic and unique without depending on the order of anything.
"""

from __future__ import annotations

import hashlib
import re

TOOL_NAME_MAX = 64
_HASH_LEN = 6
_NOT_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]+")


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN]


def fit(name: str, limit: int = TOOL_NAME_MAX) -> str:
    """`name` itself when short enough, else its head plus a hash of the whole name."""
    if len(name) <= limit:
        return name
    return _with_suffix(name, short_hash(name), limit)


def disambiguate(name: str, salt: str, limit: int = TOOL_NAME_MAX) -> str:
    """A variant of `name` that differs from it and from variants made with other salts."""
    return _with_suffix(name, short_hash(f"{name}\0{salt}"), limit)


def _with_suffix(name: str, suffix: str, limit: int) -> str:
    head = name[: limit - len(suffix) - 1].rstrip("_-")
    return f"{head}_{suffix}" if head else suffix


def wrapped_tool_name(connector: str, upstream_tool: str) -> str:
    """The name under which a wrapper re-exposes an upstream MCP tool: `<connector>_<tool>`, the
    characters MCP allows but our rule does not (`.`, `/`, spaces) made `_`, then fitted."""
    return fit(_NOT_TOOL_NAME.sub("_", f"{connector}_{upstream_tool}"))
