"""The intermediate representation every input becomes: frozen values, no behaviour.

OpenAPI 2.0, 3.0 and 3.1 documents and hand-written operations all normalize into a `RestConnector`;
MCP Registry and custom definitions into a `WrapperConnector`. Schemas inside the IR are normalized
JSON Schema (2020-12 flavoured: `nullable` and Swagger's `x-nullable` became `"null"` types, `file`
became a binary string), with `$ref`s only of the form `#/components/schemas/<name>` pointing into
`RestConnector.components`. The runtime's own descriptors (`Param`, `Body`, `ConnectorSpec`, ...) are
reused as they are, so what the generator decides is exactly what the generated package runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from specbridge_runtime.contract import Body, ConnectorSpec, HttpMethod, Limits, Param

JsonSchema = Mapping[str, Any]
# Bytes of a tool's advertised inputSchema (compact JSON) past which its deepest objects are left open.
INPUT_SCHEMA_BUDGET = 16 * 1024
ArgumentSource = Literal["path", "query", "header", "cookie", "body"]


@dataclass(frozen=True, slots=True)
class Argument:
    """One top-level argument of a tool's input: a parameter, the body, or a flattened body field."""

    name: str
    schema: JsonSchema
    required: bool
    source: ArgumentSource
    description: str = ""


@dataclass(frozen=True, slots=True)
class RestTool:
    name: str
    operation_id: str
    method: HttpMethod
    path: str
    title: str
    description: str
    arguments: tuple[Argument, ...]
    params: tuple[Param, ...]
    body: Body | None
    # Loose on purpose: an object schema any JSON response can satisfy once wrapped per `wrap_output`.
    output_schema: JsonSchema | None
    wrap_output: bool = False
    # The names of the response headers documented on success: shown to the agent under `_response`.
    response_headers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    security: tuple[tuple[str, ...], ...] | None = None
    idempotent: bool | None = None
    deprecated: bool = False
    location: str = ""  # JSON pointer of the operation in its source
    listed: bool = True  # in tools/list; with `tools: dynamic`, only those `include` names (else: call_operation)
    query: tuple[tuple[str, str], ...] = ()  # sent with every call (see `Operation.query`)
    accept: str = ""  # the Accept header (see `Operation.accept`)

    @property
    def read_only(self) -> bool:
        return self.method in ("GET", "HEAD", "OPTIONS")

    @property
    def destructive(self) -> bool:
        return self.method == "DELETE"

    @property
    def idempotent_hint(self) -> bool:
        return self.method in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE")


@dataclass(frozen=True, slots=True)
class SkippedOperation:
    method: str
    path: str
    reason: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class RestConnector:
    spec: ConnectorSpec
    tools: tuple[RestTool, ...]
    components: Mapping[str, JsonSchema] = field(default_factory=dict)
    skipped: tuple[SkippedOperation, ...] = ()
    sources: tuple[str, ...] = ()  # files or URLs read, for the manifest
    tools_mode: Literal["direct", "dynamic"] = "direct"  # dynamic: search, describe and call tools
    # Bearer schemes that are OAuth2 schemes the runtime cannot run a flow for: the user brings the token.
    token_schemes: tuple[str, ...] = ()
    input_schema_budget: int = INPUT_SCHEMA_BUDGET

    @property
    def listed_tools(self) -> tuple[RestTool, ...]:
        return tuple(tool for tool in self.tools if tool.listed)


@dataclass(frozen=True, slots=True)
class WrapperConnector:
    """An MCP Registry or custom MCP connector: a wrapper around another MCP server.
    `upstream` is the runtime's description of how to reach it (see specbridge_runtime wrappers)."""

    name: str
    title: str
    version: str
    kind: Literal["mcp_registry", "custom"]
    upstream: Any
    description: str = ""
    sources: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    # Python requirements of the emitted package besides the runtime (a PyPI server it runs).
    requirements: tuple[str, ...] = ()
    # How the upstream runs, for the README (what must be installed where the wrapper runs).
    notes: tuple[str, ...] = ()
