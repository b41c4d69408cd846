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


def framework_free(operation_id: str, method: str, path: str) -> str:
    """`operation_id` without the suffix FastAPI appends to a function name to make it unique
    (`read_flow_flows__id__get` for `GET /flows/{id}` -> `read_flow`): only when the suffix matches exactly."""
    suffix = f"{_NOT_PYTHON_WORD.sub('_', path)}_{method.lower()}"
    if operation_id.endswith(suffix) and len(operation_id) > len(suffix):
        return operation_id[: -len(suffix)]
    return operation_id


def tool_name(connector: str, slug: str) -> str:
    return shorten(f"{connector}_{slug}", keep=len(connector) + 1)


def path_words(path: str) -> list[str]:
    """The words of `path`'s literal segments (`/apis/apps/v1/{name}` -> `apis`, `apps`, `v1`)."""
    segments = [segment for segment in path.split("/") if segment and "{" not in segment]
    return [word for word in snake_case("_".join(segments)).split("_") if word]


def distinguishing_words(paths: list[str]) -> list[list[str]]:
    """For operations that share an operationId (Kubernetes repeats them per API version), the words of
    each path that not all of them have (`/apis/autoscaling/v1/...`, `/apis/autoscaling/v2/...` -> `v1`, `v2`)."""
    words = [path_words(path) for path in paths]
    common = set.intersection(*(set(item) for item in words)) if words else set()
    return [[word for word in item if word not in common] for item in words]


def shorten(name: str, limit: int = TOOL_NAME_MAX, *, keep: int = 0) -> str:
    """`name` within `limit` characters, its first `keep` characters (the connector's prefix) unchanged, and
    still readable: repeated and filler words go first, then long words are abbreviated, then words from the
    middle; only a name of one or two long words is cut at a word boundary and given a hash of the whole name.
    Two names shortened alike are told apart by `NameAllocator`."""
    if len(name) <= limit:
        return name
    head, words = name[:keep], [word for word in name[keep:].split("_") if word]
    seen = set(head.split("_"))
    for step in (_without_repeats, _without_fillers, _abbreviated):
        words = step(words, seen)
        candidate = head + "_".join(words)
        if len(candidate) <= limit:
            return candidate
    # The first words (the verb, the resource) and the last (what sets it apart) say most: drop the middle.
    while len(words) > 2 and len(candidate) > limit:
        del words[len(words) // 2]
        candidate = head + "_".join(words)
    if len(candidate) <= limit:
        return candidate
    return with_hash(candidate, short_hash(name), limit, keep=keep)


def with_hash(name: str, suffix: str, limit: int = TOOL_NAME_MAX, *, keep: int = 0) -> str:
    """`name` cut at a word boundary (never inside its first `keep` characters) to leave room for `_<suffix>`."""
    room = limit - len(suffix) - 1
    cut = name[:room]
    if len(name) > room and name[room] != "_" and cut.rfind("_") > keep:
        cut = cut[: cut.rfind("_")]  # a whole word, not `…_cr`
    cut = cut.rstrip("_-")
    return f"{cut}_{suffix}" if cut else suffix


_NOT_PYTHON_WORD = re.compile(r"\W")
_FILLERS = frozenset({"a", "an", "the", "for", "of", "by", "and", "to", "in", "on", "with", "from", "or", "at"})
_ABBREVIATIONS = {
    "administrator": "admin", "application": "app", "applications": "apps", "authenticated": "auth",
    "authentication": "auth", "authorization": "authz", "configuration": "config", "configurations": "configs",
    "deployment": "deploy", "deployments": "deploys", "description": "desc", "environment": "env",
    "environments": "envs", "identifier": "id", "information": "info", "installation": "install",
    "installations": "installs", "organization": "org", "organizations": "orgs", "permission": "perm",
    "permissions": "perms", "repository": "repo", "repositories": "repos", "specification": "spec",
    "subscription": "sub", "subscriptions": "subs", "transaction": "txn", "transactions": "txns",
}


def _without_repeats(words: list[str], seen: set[str]) -> list[str]:
    kept: list[str] = []
    seen = set(seen)
    for word in words:
        if word not in seen:
            kept.append(word)
        seen.add(word)
    return kept or words[:1]


def _without_fillers(words: list[str], seen: set[str]) -> list[str]:
    return [word for word in words if word not in _FILLERS] or words[:1]


def _abbreviated(words: list[str], seen: set[str]) -> list[str]:
    return [_ABBREVIATIONS.get(word, word) for word in words]


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
        """`name`, or when taken a variant ending in a hash salted with what tells this claimant apart (cut at
        a word boundary)."""
        if name in self._taken:
            name = with_hash(name, short_hash(f"{name}\0{salt}"), self._limit)
        return self.claim(name)

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
