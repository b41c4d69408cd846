"""The project file `specbridge.yaml`: the connectors of a repository and where each is generated.

    connectors:
      - source: specs/shopify.json        # a connector definition or an OpenAPI document
        out: generated/shopify            # optional: generated/<name>
        name: shop                        # optional, and so are include, exclude, max_operations, split_by,
                                          # overlays, tools, output_schemas
        registry_namespace: io.github.me  # optional: the namespace of the name in server.json
      - specs/notes.yaml                  # a path alone: every option at its default

`specbridge gen` without a source generates them all; `specbridge gen --check` checks them all. Paths are
relative to the folder of the project file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from . import codes
from .diagnostics import Diagnostic, Level, pointer
from .options import DEFAULT_NAMESPACE, GenOptions
from .parse import parse_text

PROJECT_FILE = "specbridge.yaml"
_MAX_BYTES = 1024 * 1024


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    out: str | None = Field(None, min_length=1)
    name: str | None = Field(None, min_length=1)
    base_url: str | None = Field(None, min_length=1)
    include: list[str] = []
    exclude: list[str] = []
    max_operations: int = Field(100, ge=1)
    split_by: Literal["tag"] | None = None
    overlays: list[str] = []
    tools: Literal["direct", "dynamic"] | None = None
    output_schemas: Literal["loose", "none"] | None = None
    registry_namespace: str = Field(DEFAULT_NAMESPACE, pattern=r"^[a-zA-Z0-9.-]+$")


class _ProjectFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    connectors: list[Annotated[str, Field(min_length=1)] | dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Job:
    source: str  # relative to the project's folder, or a URL
    options: GenOptions
    out: Path | None  # None: generated/<name> in the project's folder


@dataclass(frozen=True, slots=True)
class Project:
    root: Path
    jobs: tuple[Job, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


def find_project(cwd: Path) -> Path | None:
    """The project file in `cwd` or the nearest folder above it."""
    for folder in (cwd, *cwd.parents):
        candidate = folder / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def read_project(path: Path) -> Project:
    root = path.parent
    source = str(path)
    try:
        raw = path.read_bytes()[: _MAX_BYTES + 1]
    except OSError as error:
        return Project(root, (), (Diagnostic(Level.ERROR, codes.PROJECT_INVALID, f"cannot read: {error}", "", source),))
    if len(raw) > _MAX_BYTES:
        message = f"larger than {_MAX_BYTES} bytes"
        return Project(root, (), (Diagnostic(Level.ERROR, codes.PROJECT_INVALID, message, "", source),))
    parsed = parse_text(raw, source=source, json_hint=False)
    if parsed.diagnostics:
        return Project(root, (), parsed.diagnostics)
    try:
        project = _ProjectFile.model_validate(parsed.data)
    except ValidationError as error:
        return Project(root, (), _diagnostics((), error, source))
    entries: list[_Entry | str] = []
    problems: list[Diagnostic] = []
    for index, entry in enumerate(project.connectors):
        try:
            entries.append(entry if isinstance(entry, str) else _Entry.model_validate(entry))
        except ValidationError as error:
            problems += _diagnostics(("connectors", index), error, source)
    if problems:
        return Project(root, (), tuple(problems))
    return Project(root, tuple(_job(entry, root) for entry in entries))


def _diagnostics(prefix: tuple[str | int, ...], error: ValidationError, source: str) -> tuple[Diagnostic, ...]:
    return tuple(Diagnostic(Level.ERROR, codes.PROJECT_INVALID, problem["msg"], pointer(*prefix, *problem["loc"]),
                            source)
                 for problem in error.errors(include_url=False, include_input=False))


def _job(entry: _Entry | str, root: Path) -> Job:
    if isinstance(entry, str):
        return Job(entry, GenOptions(), None)
    options = GenOptions(
        name=entry.name, base_url=entry.base_url, include=tuple(entry.include), exclude=tuple(entry.exclude),
        max_operations=entry.max_operations, split_by=entry.split_by, overlays=tuple(entry.overlays),
        tools=entry.tools, output_schemas=entry.output_schemas, registry_namespace=entry.registry_namespace,
    )
    return Job(entry.source, options, root / entry.out if entry.out is not None else None)
