"""Operations before they become tools, in one shape for every input dialect.

Schemas inside drafts are still raw (the document's dialect); `schemas.SchemaNormalizer` turns them into
JSON Schema when the tool is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from specbridge_runtime.contract import HttpMethod, ParamLocation, ParamStyle

from specbridge.definition import OperationAuth

EXTENSION_TOOL_NAME = "x-specbridge-tool-name"  # an operation's own tool name (the whole name, like tool_names)


@dataclass(frozen=True, slots=True)
class ParameterDraft:
    name: str
    location: ParamLocation
    schema: Any  # None: not described (a string)
    required: bool
    description: str = ""
    style: ParamStyle | None = None
    explode: bool | None = None
    allow_reserved: bool = False
    content_type: str | None = None
    examples: tuple[Any, ...] = ()
    deprecated: bool = False
    where: str = ""


@dataclass(frozen=True, slots=True)
class BodyDraft:
    media_type: str
    schema: Any  # None: not described
    required: bool
    description: str = ""
    where: str = ""


@dataclass(frozen=True, slots=True)
class OperationDraft:
    method: HttpMethod
    path: str
    operation_id: str  # the spec's operationId, or a hand-written operation's name ("" when missing)
    summary: str
    description: str
    tags: tuple[str, ...]
    parameters: tuple[ParameterDraft, ...]
    body: BodyDraft | None
    response: Any  # the JSON response's raw schema ({} when JSON is documented without one); None: no JSON
    security: Any  # the raw requirement list; None: the connector's default
    deprecated: bool = False
    idempotent: bool | None = None
    where: str = ""
    hand_written: bool = False
    tool_name: str | None = None  # the operation's `x-specbridge-tool-name`, when it is a valid tool name
    auth: OperationAuth = None  # the definition's per-operation auth choice (see `OperationConfig.auth`)
    query: tuple[tuple[str, str], ...] = ()  # fixed query pairs from the path key's suffix
    accept: str = ""  # the Accept header: documented success media types
    auth_where: str = ""  # where that choice is written in the definition
    response_headers: tuple[str, ...] = ()  # the names of the headers documented on success

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"
