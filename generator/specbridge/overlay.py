"""OpenAPI Overlays 1.0: targeted changes to a spec, applied after load and before validation.

An overlay document (`overlay: 1.0.x`, `info`, `actions`) lists actions in order; each selects nodes of
the spec with an RFC 9535 JSONPath `target` (python-jsonpath in its strict, RFC 9535 mode) and either
removes them (`remove: true`) or updates them: an object target has the update's properties merged in
(recursively, object into object; any other value replaces), an array target gets the update appended.
A target that selects nothing is a warning (the spec changed under the overlay), never silent.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonpath
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level, pointer

_ENVIRONMENT = jsonpath.JSONPathEnvironment(strict=True)  # RFC 9535 only: no library extensions


class _Info(BaseModel):
    model_config = ConfigDict(extra="allow")
    title: str
    version: str


class _Action(BaseModel):
    model_config = ConfigDict(extra="allow")
    target: str = Field(pattern=r"^\$")
    description: str = ""
    update: Any = None
    remove: bool = False


class _Overlay(BaseModel):
    model_config = ConfigDict(extra="allow")
    overlay: str = Field(pattern=r"^1\.0\.\d+$")
    info: _Info
    extends: str | None = None
    actions: list[_Action] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class _Selected:
    """One node a target selected: its container and key (None for the document itself)."""

    container: dict[str, Any] | list[Any] | None
    key: str | int | None
    value: Any


def apply_overlay(document: dict[str, Any], overlay: Any, source: str) -> tuple[Diagnostic, ...]:
    """Apply the overlay document `overlay` (read from `source`) to `document`, in place."""
    try:
        parsed = _Overlay.model_validate(overlay)
    except ValidationError as error:
        return tuple(
            Diagnostic(Level.ERROR, codes.OVERLAY_INVALID, f"not an Overlay 1.0 document: {problem['msg']}",
                       pointer(*problem["loc"]), source)
            for problem in error.errors(include_url=False, include_input=False)
        )
    diagnostics: list[Diagnostic] = []
    for index, action in enumerate(parsed.actions):
        diagnostics += _apply(document, action, pointer("actions", index), source)
    return tuple(diagnostics)


def _apply(document: dict[str, Any], action: _Action, where: str, source: str) -> Iterator[Diagnostic]:
    try:
        query = _ENVIRONMENT.compile(action.target)
    except jsonpath.JSONPathError as error:
        message = f"target {action.target!r} is not an RFC 9535 JSONPath: {str(error).splitlines()[0]}"
        yield Diagnostic(Level.ERROR, codes.OVERLAY_INVALID, message, f"{where}/target", source)
        return
    selected = [_selected(match, document) for match in query.finditer(document)]
    if not selected:
        yield Diagnostic(Level.WARNING, codes.OVERLAY_NO_MATCH, f"target {action.target!r} matches nothing in "
                         "the spec; the action changed nothing", f"{where}/target", source)
        return
    if action.remove:
        yield from _remove(selected, action, where, source)
        return
    if action.update is None:
        return
    for node in selected:
        if isinstance(node.value, dict) and isinstance(action.update, Mapping):
            _merge(node.value, action.update)
        elif isinstance(node.value, list):
            node.value.append(copy.deepcopy(action.update))
        elif node.container is not None and node.key is not None:
            _set(node.container, node.key, copy.deepcopy(action.update))
        else:
            yield Diagnostic(Level.ERROR, codes.OVERLAY_INVALID, "the document itself can only be updated with an "
                             "object", f"{where}/update", source)


def _remove(selected: list[_Selected], action: _Action, where: str, source: str) -> Iterator[Diagnostic]:
    # Array entries go from the last index down, so removing one does not shift the others.
    ordered = sorted(selected, key=lambda node: node.key if isinstance(node.key, int) else -1, reverse=True)
    for node in ordered:
        if node.container is None or node.key is None:
            yield Diagnostic(Level.ERROR, codes.OVERLAY_INVALID, f"target {action.target!r} selects the whole "
                             "document, which cannot be removed", f"{where}/target", source)
        elif isinstance(node.container, dict):
            node.container.pop(str(node.key), None)
        elif isinstance(node.key, int) and node.key < len(node.container):
            del node.container[node.key]


def _selected(match: jsonpath.JSONPathMatch, document: dict[str, Any]) -> _Selected:
    if not match.parts:
        return _Selected(None, None, document)
    parent = match.parent.obj if match.parent is not None else document
    container = parent if isinstance(parent, dict | list) else None
    key = match.parts[-1]
    return _Selected(container, key if isinstance(key, str | int) else str(key), match.obj)


def _set(container: dict[str, Any] | list[Any], key: str | int, value: Any) -> None:
    if isinstance(container, dict):
        container[str(key)] = value
    elif isinstance(key, int):
        container[key] = value


def _merge(target: dict[str, Any], update: Mapping[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(target.get(key), dict) and isinstance(value, Mapping):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)
