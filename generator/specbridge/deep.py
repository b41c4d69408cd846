"""--deep: openapi-spec-validator over the bundled document, confined, its findings as diagnostics.

The fast checks (`validate.py`) run always; this one is on request, as it takes seconds to a minute on
large specs. It finds what they do not (schema keywords written wrong, defaults that break their schema,
duplicate `required` names). The document is untrusted and openapi-spec-validator follows `$ref`s to files
and URLs by default: every resolver handler is replaced by one that refuses, so nothing is read, and a
refused read, like any failure of the validator itself, is a diagnostic rather than a traceback.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from openapi_spec_validator.shortcuts import get_validator_cls
from openapi_spec_validator.validation.exceptions import ValidatorDetectError
from openapi_spec_validator.validation.validators import SpecValidator

from specbridge import codes
from specbridge.bundle import follow_pointer
from specbridge.diagnostics import Diagnostic, Level, pointer

MAX_FINDINGS = 50
_VERDICT = re.compile(r" (?:is|has|does|should) ")  # where a message's quoted value ends
_MESSAGE_CHARS = 300


class _Refused(Exception):
    """Raised by the resolver when the validator tries to read a file or URL."""


def _refuse(uri: str) -> Any:
    raise _Refused(uri)


# Every scheme the validator's resolver knows (and the catch-all) goes to the refusal.
_DENY_ALL: Mapping[str, Any] = {scheme: _refuse for scheme in ("<all_urls>", "http", "https", "file", "")}


def deep_validate(document: Mapping[str, Any], source: str) -> tuple[Diagnostic, ...]:
    """openapi-spec-validator's findings on `document` (read from `source`), at most `MAX_FINDINGS` of them."""
    try:
        base: type[SpecValidator] = get_validator_cls(document)
    except (ValidatorDetectError, KeyError):
        return (_failed("it does not recognise the document's OpenAPI version", source),)
    confined = type(f"Confined{base.__name__}", (base,), {"resolver_handlers": _DENY_ALL})
    found: list[Diagnostic] = []
    places = _Places(document)
    try:
        for error in confined(document).iter_errors():
            if len(found) == MAX_FINDINGS:
                found.append(Diagnostic(Level.WARNING, codes.DEEP_FINDING, f"more findings after the first "
                                        f"{MAX_FINDINGS} are not shown", "#", source))
                break
            found.append(_finding(error, document, source, places))
    except Exception as error:  # a refused read, or the validator failing on this document
        refused = _refusal(error)
        reason = (f"it wanted to read {refused!r}, which is refused (a spec may not make specbridge read files "
                  "or URLs)") if refused is not None else f"{type(error).__name__}: {_first_line(error)}"
        found.append(_failed(reason, source))
    return tuple(found)


def _finding(error: Any, document: Mapping[str, Any], source: str, places: _Places) -> Diagnostic:
    """The finding at its path when that path leads to the value it judged. The validator's checks of parts
    (a schema, a default) give paths relative to the part: then the judged object or list is found in the
    document itself, and a judged scalar's relative path is named in the message."""
    path = [part for part in error.absolute_path if isinstance(part, str | int)]
    where = pointer(*path)
    if path and follow_pointer(document, where[1:]) == error.instance:
        return Diagnostic(Level.WARNING, codes.DEEP_FINDING, _first_line(error), where, source)
    found = places.of(_judged(error))
    if found is not None:
        return Diagnostic(Level.WARNING, codes.DEEP_FINDING, _first_line(error), found, source)
    inside = f" (at {'/'.join(str(part) for part in path)} inside the value checked)" if path else ""
    return Diagnostic(Level.WARNING, codes.DEEP_FINDING, _first_line(error) + inside, "#", source)


def _judged(error: Any) -> Any:
    """The value the error judged. openapi-spec-validator's checks of parts report it only at the start of
    their message (`[...] is not of type 'object'`): that prefix is read back as a Python literal."""
    instance = getattr(error, "instance", None)
    if isinstance(instance, dict | list):
        return instance
    message = str(getattr(error, "message", ""))
    if not message.startswith(("[", "{")):
        return None
    for match in _VERDICT.finditer(message):
        try:
            value = ast.literal_eval(message[: match.start()])
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue
        return value if isinstance(value, dict | list) else None
    return None


class _Places:
    """Where an object or list of the document is, found by equality (the validator judges copies): the
    nodes are grouped by their keys (objects) or length (lists) on the first question; a value that occurs
    several times is placed at its next occurrence not yet named."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._groups: dict[Any, list[tuple[Any, str]]] | None = None
        self._named: set[str] = set()

    def of(self, value: Any) -> str | None:
        if not isinstance(value, dict | list):
            return None
        if self._groups is None:
            self._groups = {}
            stack: list[tuple[Any, tuple[str | int, ...]]] = [(self.document, ())]
            while stack:
                node, parts = stack.pop()
                self._groups.setdefault(_shape(node), []).append((node, pointer(*parts)))
                children = node.items() if isinstance(node, dict) else enumerate(node)
                stack.extend((child, (*parts, key)) for key, child in children if isinstance(child, dict | list))
        matches = [where for node, where in self._groups.get(_shape(value), []) if node == value]
        fresh = next((where for where in matches if where not in self._named), matches[0] if matches else None)
        if fresh is not None:
            self._named.add(fresh)
        return fresh


def _shape(node: dict[str, Any] | list[Any]) -> Any:
    return frozenset(node) if isinstance(node, dict) else len(node)


def _failed(reason: str, source: str) -> Diagnostic:
    return Diagnostic(Level.WARNING, codes.DEEP_FAILED, f"openapi-spec-validator could not check the document: "
                      f"{reason}; the fast checks still ran", "#", source)


def _refusal(error: BaseException) -> str | None:
    """The URI of the refused read somewhere in `error`'s chain of causes, if that is what failed."""
    for cause in _chain(error):
        if isinstance(cause, _Refused):
            return str(cause.args[0]) if cause.args else ""
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _first_line(error: BaseException) -> str:
    text = str(getattr(error, "message", "") or error)
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= _MESSAGE_CHARS else line[: _MESSAGE_CHARS - 1] + "…"
