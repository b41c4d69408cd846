"""Connector definition files: the `rest`, `mcp_registry` and `custom` shapes of the connector docs.

The pydantic models below are the format's single source: `read_definition` validates with them and
`connector-definition.schema.json` (published for editors) is generated from them. Secrets are never
written in a definition: a secret field holds `env:NAME`, `vault:NAME` or an `enc:` ciphertext, and a
plain value is refused with an error that says how to store it. Unknown keys are warnings (a newer
definition still generates with an older specbridge); wrong types are errors with a JSON pointer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError
from specbridge_runtime.contract import (
    ENV_PREFIX,
    AuthScheme,
    HttpMethod,
    Limits,
    OAuthFlow,
    OperationLimits,
    ParamLocation,
    ParamStyle,
    parse_rate,
    reserved_variable,
)

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level, pointer
from specbridge.ir import INPUT_SCHEMA_BUDGET
from specbridge.naming import TOOL_NAME, connector_name
from specbridge.parse import parse_text

SCHEMA_FILE = Path(__file__).with_name("connector-definition.schema.json")
SCHEMA_ID = "https://specbridge.dev/schemas/connector-definition.schema.json"
MAX_AUTH_METHODS = 5
SECRET_REFERENCE = re.compile(r"^(env:[A-Za-z_][A-Za-z0-9_]*|vault:[A-Za-z0-9_.-]+|enc:\S+)$")


def _secret(value: str, info: ValidationInfo) -> str:
    if SECRET_REFERENCE.match(value):
        return value
    field = info.field_name or "secret"
    header = info.data.get("name") if field == "value" else None
    key = re.sub(r"[^a-z0-9]+", "_", (header if isinstance(header, str) else field).lower()).strip("_") or "secret"
    command = f"{(info.context or {}).get('command', '<name>')}-mcp"
    raise PydanticCustomError(
        "plain_secret",
        "a secret must not be written in plain text; store it with `{command} creds set {key}` and write "
        '"vault:{key}", or read it from the environment with "env:VAR", or write the "enc:..." text that '
        "`specbridge encrypt` prints",
        {"command": command, "key": key},
    )


def _rate(value: str) -> str:
    rate = parse_rate(value)  # the runtime's own reading, so what is accepted here is what it enforces
    if rate is None:
        raise PydanticCustomError("rate", 'a rate is "<count>/<unit>" with unit s, min, h or d, e.g. "10/s"')
    return rate.canonical


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, dict) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


SecretRef = Annotated[str, AfterValidator(_secret), WithJsonSchema({
    "type": "string", "pattern": SECRET_REFERENCE.pattern,
    "description": "A secret reference: env:NAME, vault:NAME or enc:... (never the secret itself)",
})]
Rate = Annotated[str, AfterValidator(_rate)]
HeaderName = Annotated[str, StringConstraints(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
HeaderValue = Annotated[str, StringConstraints(pattern=r"^[^\r\n\x00]*$")]
SchemeName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
ToolName = Annotated[str, StringConstraints(pattern=TOOL_NAME.pattern)]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
JsonSchemaObject = dict[str, Any]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class Header(_Model):
    """A static, non-secret header sent with every request."""

    name: HeaderName
    value: HeaderValue


class SecretHeader(_Model):
    """A header whose value is a secret reference (env:, vault: or enc:)."""

    name: HeaderName
    value: Annotated[SecretRef, StringConstraints(pattern=r"^[^\r\n\x00]*$")]


class _Auth(_Model):
    name: SchemeName | None = Field(default=None, description="Scheme name; overrides the spec's scheme of that name")


class NoAuth(_Auth):
    type: Literal["none"]

    def to_scheme(self, name: str) -> AuthScheme:
        return AuthScheme(name, "none")


class BearerAuth(_Auth):
    type: Literal["bearer"]
    token: SecretRef

    def to_scheme(self, name: str) -> AuthScheme:
        return AuthScheme(name, "bearer", (("token", self.token),))


class ApiKeyAuth(_Auth):
    type: Literal["api_key"]
    key: SecretRef
    location: Literal["header", "query", "cookie"] = "header"
    param_name: str = Field(default="X-API-Key", min_length=1, description="Header, query or cookie name")
    prefix: str = Field(default="", description='Written before the key, e.g. "ApiKey " (`Authorization: ApiKey ...`)')

    def to_scheme(self, name: str) -> AuthScheme:
        return AuthScheme(name, "api_key", (("key", self.key),), location=self.location, param_name=self.param_name,
                          prefix=self.prefix)


class BasicAuth(_Auth):
    type: Literal["basic"]
    username: str
    password: SecretRef

    def to_scheme(self, name: str) -> AuthScheme:
        return AuthScheme(name, "basic", (("username", self.username), ("password", self.password)))


class OAuthProvider(_Model):
    type: Literal["custom"] = "custom"
    authorization_url: HttpUrl | Literal[""] = ""
    token_url: HttpUrl | Literal[""] = ""


class OAuth2Auth(_Auth):
    type: Literal["oauth2"]
    grant: Literal["authorization_code", "client_credentials"] = "authorization_code"
    provider: OAuthProvider | None = None
    authorization_url: HttpUrl | Literal[""] = ""
    token_url: HttpUrl | Literal[""] = ""
    refresh_url: HttpUrl | Literal[""] = ""
    openid_url: HttpUrl | Literal[""] = ""
    issuer_url: HttpUrl | Literal[""] = ""
    dynamic_registration: bool = False
    client_id: str | None = Field(default=None, description="Public; a plain value or a secret reference")
    client_secret: SecretRef | None = None
    scopes: list[str] = []

    @property
    def effective_authorization_url(self) -> str:
        return self.authorization_url or (self.provider.authorization_url if self.provider else "")

    @property
    def effective_token_url(self) -> str:
        return self.token_url or (self.provider.token_url if self.provider else "")

    def to_scheme(self, name: str) -> AuthScheme:
        """Without a client_id (and no dynamic registration) the id is read from `vault:<name>_client_id`."""
        secrets = []
        if self.client_id is not None or not self.dynamic_registration:
            default = f"vault:{re.sub(r'[^a-z0-9]+', '_', name.lower())}_client_id"
            secrets.append(("client_id", self.client_id or default))
        if self.client_secret is not None:
            secrets.append(("client_secret", self.client_secret))
        flow = OAuthFlow(grant=self.grant, token_url=self.effective_token_url,
                         authorization_url=self.effective_authorization_url, refresh_url=self.refresh_url,
                         scopes=tuple(self.scopes))
        # With discovery (issuer or OpenID URL) the endpoints are found at run time, but the grant and the
        # scopes asked for are the definition's: a flow keeps them.
        has_flow = (bool(flow.token_url or flow.authorization_url or flow.scopes) or flow.grant != "authorization_code"
                    or not (self.openid_url or self.issuer_url))
        return AuthScheme(name, "oauth2", tuple(secrets), flows=(flow,) if has_flow else (),
                          openid_url=self.openid_url, issuer_url=self.issuer_url,
                          dynamic_registration=self.dynamic_registration)


class HeadersAuth(_Auth):
    type: Literal["headers"]
    headers: list[SecretHeader] = Field(min_length=1)

    def to_scheme(self, name: str) -> AuthScheme:
        return AuthScheme(name, "headers", tuple((header.name, header.value) for header in self.headers))


AuthConfig = Annotated[NoAuth | BearerAuth | ApiKeyAuth | BasicAuth | OAuth2Auth | HeadersAuth,
                       Field(discriminator="type")]
AuthList = Annotated[
    list[AuthConfig],
    BeforeValidator(_as_list, json_schema_input_type=AuthConfig | list[AuthConfig]),
    Field(max_length=MAX_AUTH_METHODS, description=f"One auth method or a list of up to {MAX_AUTH_METHODS}"),
]


class OperationLimitsConfig(_Model):
    rate: Rate | None = None
    timeout_s: float | None = Field(default=None, gt=0)


class LimitsConfig(_Model):
    """Unset values keep the runtime's defaults (60 s, 10 MB, 10 concurrent calls, ...)."""

    rate: Rate | None = Field(default=None, description='e.g. "10/s", "100/min"')
    timeout_s: float | None = Field(default=None, gt=0)
    max_response_bytes: int | None = Field(default=None, gt=0)
    concurrency: int | None = Field(default=None, gt=0)
    queue_timeout_s: float | None = Field(default=None, gt=0)
    max_retries: int | None = Field(default=None, ge=0)
    max_retry_wait_s: float | None = Field(default=None, ge=0)
    operations: dict[str, OperationLimitsConfig] = Field(
        default={}, description="Per operation (operationId, operation name or tool name)")

    def to_limits(self, tools: Mapping[str, str] | None = None) -> Limits:
        """The runtime's limits; `tools` maps keys of `operations` to tool names (None: keys are tool names;
        keys it does not map are left out)."""
        values = {field: getattr(self, field) for field in self.model_fields_set
                  if field != "operations" and getattr(self, field) is not None}
        operations = tuple(
            (tools[key] if tools is not None else key, OperationLimits(rate=item.rate, timeout_s=item.timeout_s))
            for key, item in self.operations.items() if tools is None or key in tools
        )
        return Limits(**values, operations=operations)


class ParameterConfig(_Model):
    name: str = Field(min_length=1)
    location: ParamLocation = "query"
    type: Literal["string", "integer", "number", "boolean", "array", "object"] = "string"
    required: bool = False
    description: str = ""
    format: str | None = None
    enum: list[Any] | None = None
    default: Any = None
    items: JsonSchemaObject | None = None
    schema_: JsonSchemaObject | None = Field(default=None, alias="schema",
                                             description="A full JSON Schema (wins over type)")
    style: ParamStyle | None = None
    explode: bool | None = None


OperationAuthConfig = Annotated[
    Literal["spec", "none"] | list[SchemeName],
    Field(description=(
        "Which auth this operation sends. Default: what the spec requires, and the definition's `auth` where "
        'the spec requires nothing (`security: []`) or names schemes that do not exist. "spec": exactly what '
        'the spec requires, even nothing; "none": no credentials; a list of auth names: those, together')),
]
# What the normalizer reads from an operation entry's `auth` (a list becomes a tuple; None: not given).
OperationAuth = Literal["spec", "none"] | tuple[str, ...] | None


class OperationConfig(_Model):
    """A hand-written operation, or (named like an imported one, without method and path) a patch of it."""

    name: str = Field(min_length=1)
    method: Annotated[HttpMethod, BeforeValidator(_upper)] | None = None
    path: Annotated[str, StringConstraints(pattern=r"^/")] | None = None
    title: str = ""
    description: str = ""
    tags: list[str] = []
    parameters: list[ParameterConfig] = []
    request_body: JsonSchemaObject | None = Field(default=None, description="JSON Schema of the body")
    request_media_type: str = "application/json"
    response_schema: JsonSchemaObject | None = Field(default=None, description="JSON Schema of the JSON response")
    idempotent: bool | None = Field(default=None, description="True: safe to retry even though the method is not")
    deprecated: bool = False
    auth: OperationAuthConfig | None = None

    @property
    def auth_override(self) -> OperationAuth:
        return tuple(self.auth) if isinstance(self.auth, list) else self.auth


class RestDefinition(_Model):
    type: Literal["rest"]
    name: str | None = Field(default=None, min_length=1)
    title: str | None = None
    description: str | None = None
    version: str | None = None
    base_url: HttpUrl | None = None
    openapi: str | None = Field(default=None, min_length=1, description="Path (relative to this file) or URL of a spec")
    include: list[str] = []
    exclude: list[str] = []
    operations: list[OperationConfig] = []
    auth: AuthList = []
    headers: list[Header] = []
    limits: LimitsConfig | None = None
    tool_names: dict[str, ToolName] = Field(default={}, description="operationId or operation name -> tool name")
    audit_arguments: bool = False
    overlays: list[Annotated[str, StringConstraints(min_length=1)]] = Field(default=[], description=(
        "OpenAPI Overlay 1.0 files applied to the spec in order (paths relative to this file, inside its folder)"))
    tools: Literal["direct", "dynamic"] | None = Field(default=None, description=(
        "direct: one tool per operation (default); dynamic: three tools that search, describe and call the "
        "operations (`include` then names operations also served as direct tools)"))
    output_schemas: Literal["loose", "none"] | None = Field(default=None, description=(
        "loose: a lenient outputSchema per tool from the documented response (default); none: no outputSchema"))
    input_schema_budget: int = Field(
        default=INPUT_SCHEMA_BUDGET, ge=1024,
        description="Largest inputSchema of a tool, in bytes of compact JSON; past it, the deepest nested objects "
                    "are accepted as open objects (with their description)")

    @model_validator(mode="after")
    def _needs_operations(self) -> RestDefinition:
        if self.openapi is None and not self.operations:
            raise PydanticCustomError("no_operations", "a rest definition needs `openapi`, `operations` or both")
        return self


class RegistryDefinition(_Model):
    type: Literal["mcp_registry"]
    registry_name: str = Field(pattern=r"^[A-Za-z0-9.-]+/[A-Za-z0-9._-]+$")
    version: str = Field(default="latest", min_length=1)
    name: str | None = Field(default=None, min_length=1)
    registry_url: HttpUrl | None = None
    auth: AuthList = []
    env: dict[str, str] = Field(default={}, description="Environment of the server: plain values or secret references")
    variables: dict[str, str] = Field(default={}, description=(
        "Values of the server.json's {variables}, arguments (by valueHint or flag name) and remote headers: "
        "plain values or secret references"))
    package: Literal["pypi", "npm", "remote", "oci"] | None = Field(default=None, description=(
        "Which entry of the server.json to use (default: pypi, npm, remote, oci, the first found)"))
    limits: LimitsConfig | None = None


class Transport(_Model):
    type: Literal["http", "sse", "websocket"]
    url: Annotated[str, StringConstraints(pattern=r"^(https?|wss?)://\S+$")]
    headers: list[SecretHeader] = []


class CustomDefinition(_Model):
    type: Literal["custom"]
    name: str = Field(min_length=1)
    title: str | None = None
    description: str | None = None
    transport: Transport
    auth: AuthList = []
    limits: LimitsConfig | None = None


Definition = RestDefinition | RegistryDefinition | CustomDefinition


class _DefinitionFile(BaseModel):
    definition: Annotated[Definition, Field(discriminator="type")]


@dataclass(frozen=True, slots=True)
class DefinitionResult:
    definition: Definition | None
    diagnostics: tuple[Diagnostic, ...]


def read_definition(path: Path) -> DefinitionResult:
    """Read and validate a connector definition (JSON or YAML)."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        message = f"cannot read: {error.strerror or error}"
        return DefinitionResult(None, (Diagnostic(Level.ERROR, codes.UNREADABLE, message, "", source),))
    parsed = parse_text(raw, source=source, json_hint=path.suffix.lower() == ".json")
    if parsed.data is None:
        return DefinitionResult(None, parsed.diagnostics)
    return definition_from_data(parsed.data, source)


def definition_from_data(data: Any, source: str) -> DefinitionResult:
    """Validate already-parsed definition data."""
    if not isinstance(data, dict):
        diagnostic = Diagnostic(Level.ERROR, codes.DEFINITION_INVALID, "a definition is a JSON object", "#", source)
        return DefinitionResult(None, (diagnostic,))
    context = {"command": _command_name(data)}
    try:
        definition = _DefinitionFile.model_validate({"definition": data}, context=context).definition
    except ValidationError as error:
        return DefinitionResult(None, tuple(_errors(error, data, source)))
    reserved = tuple(_reserved_references(data, (), source))
    if reserved:
        return DefinitionResult(None, reserved)
    warnings = tuple(
        Diagnostic(Level.WARNING, codes.DEFINITION_UNKNOWN_KEY, f"unknown key {path[-1]!r} is ignored",
                   pointer(*path), source)
        for path in _unknown_keys(definition, ())
    )
    return DefinitionResult(definition, warnings)


def _reserved_references(value: Any, path: tuple[int | str, ...], source: str) -> Iterator[Diagnostic]:
    """An error for every `env:` reference to the server's own secrets (master key, inbound tokens, ...),
    wherever it is written: the runtime refuses them too, and a definition must not send them upstream."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX) and reserved_variable(value.removeprefix(ENV_PREFIX)):
        yield Diagnostic(Level.ERROR, codes.RESERVED_VARIABLE,
                         f"{value.removeprefix(ENV_PREFIX)} is one of the server's own secrets or settings; a "
                         "definition cannot send it anywhere: use a variable of its own (or vault:NAME)",
                         pointer(*path), source)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _reserved_references(item, (*path, key), source)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _reserved_references(item, (*path, index), source)


def definition_json_schema() -> dict[str, Any]:
    """The published JSON Schema of the definition format."""
    schema = _DefinitionFile.model_json_schema()["properties"]["definition"]
    definitions = _DefinitionFile.model_json_schema().get("$defs", {})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "specbridge connector definition",
        "description": "A rest, mcp_registry or custom connector, as read by `specbridge gen`.",
        **{key: value for key, value in schema.items() if key != "title"},
        "$defs": definitions,
    }


def render_json_schema() -> str:
    return json.dumps(definition_json_schema(), indent=2, sort_keys=True) + "\n"


def _command_name(data: dict[str, Any]) -> str:
    for key in ("name", "registry_name"):
        value = data.get(key)
        if isinstance(value, str) and value:
            return connector_name(value.rsplit("/", 1)[-1])
    return "<name>"


def _errors(error: ValidationError, data: Any, source: str) -> Iterator[Diagnostic]:
    seen: set[str] = set()
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        path = _data_path(data, item["loc"][1:], missing=item["type"] == "missing")  # loc[0]: the wrapper
        where = pointer(*path)
        if where in seen:  # one message per place: a union reports each of its branches
            continue
        seen.add(where)
        code = codes.PLAIN_SECRET if item["type"] == "plain_secret" else codes.DEFINITION_INVALID
        yield Diagnostic(Level.ERROR, code, item["msg"], where, source)


def _data_path(data: Any, loc: tuple[int | str, ...], *, missing: bool) -> tuple[int | str, ...]:
    """Pydantic's error location without the parts that name union branches instead of keys of the data."""
    path: list[int | str] = []
    node = data
    for index, part in enumerate(loc):
        child = _child(node, part)
        if child is not _ABSENT:
            node = child
        elif not (missing and index == len(loc) - 1):
            continue
        path.append(part)
    return tuple(path)


_ABSENT = object()


def _child(node: Any, part: int | str) -> Any:
    if isinstance(node, dict):
        return node.get(part, _ABSENT)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return _ABSENT


def _unknown_keys(model: BaseModel, path: tuple[int | str, ...]) -> Iterator[tuple[int | str, ...]]:
    for key in sorted(model.model_extra or {}):
        yield (*path, key)
    for field, info in type(model).model_fields.items():
        yield from _unknown_keys_in(getattr(model, field), (*path, info.alias or field))


def _unknown_keys_in(value: Any, path: tuple[int | str, ...]) -> Iterator[tuple[int | str, ...]]:
    if isinstance(value, BaseModel):
        yield from _unknown_keys(value, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unknown_keys_in(item, (*path, index))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _unknown_keys_in(item, (*path, key))
