"""Reading a server.json file back (`specbridge registry show FILE`): checked against the registry's JSON
Schema (`server.schema.json`, the 2025-12-11 version, shipped in the wheel), then read as a `ServerDetail`.

Every mismatch is a diagnostic (SB703) with the JSON pointer of the value at fault, so a team sees what the
registry would refuse before publishing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator
from pydantic import ValidationError

from . import codes
from .diagnostics import Diagnostic, Level, pointer
from .load import load_document
from .server_json import ServerDetail

SCHEMA_FILE = "server.schema.json"


@dataclass(frozen=True, slots=True)
class ServerFile:
    server: ServerDetail | None
    document: dict[str, Any] | None
    diagnostics: tuple[Diagnostic, ...]


@cache
def server_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((resources.files("specbridge") / SCHEMA_FILE).read_text("utf-8"))
    return schema


def schema_problems(document: Any, source: str) -> tuple[Diagnostic, ...]:
    """Where `document` does not match the registry's server.json schema (formats such as `uri` checked)."""
    validator = Draft7Validator(server_schema(), format_checker=Draft7Validator.FORMAT_CHECKER)
    return tuple(
        Diagnostic(Level.ERROR, codes.REGISTRY_INVALID, f"not a valid server.json: {error.message[:300]}",
                   pointer(*error.absolute_path), source)
        for error in sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.absolute_path)))
    )


def read_server_file(ref: str, *, cwd: Path) -> ServerFile:
    """The server.json at `ref` (a path relative to `cwd`, or an http(s) URL)."""
    loaded = load_document(ref, cwd=cwd)
    if loaded.document is None:
        return ServerFile(None, None, loaded.diagnostics)
    problems = schema_problems(loaded.document, ref)
    try:
        server = ServerDetail.model_validate(loaded.document)
    except ValidationError:  # the schema check said why
        server = None
    return ServerFile(server, loaded.document, loaded.diagnostics + problems)
