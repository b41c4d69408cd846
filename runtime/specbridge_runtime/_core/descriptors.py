"""Plain, frozen descriptions of a connector that generated packages hand to the runtime.

Generated code is data: a `ConnectorSpec` and a tuple of `Operation`s written as Python literals, plus
`tools.json` (the precomputed tools/list answer) and a pydantic `models` module (imported lazily, on
the first call, so a server with hundreds of tools starts fast).

Secret values anywhere in these descriptors are *references*, never secrets:
`env:NAME` (environment variable), `vault:NAME` (the encrypted vault, per connector) or `enc:...`
(a ciphertext written by `specbridge encrypt`). A plain value is only ever a non-secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ParamLocation = Literal["path", "query", "header", "cookie"]
ParamStyle = Literal["form", "spaceDelimited", "pipeDelimited", "deepObject", "simple", "label", "matrix"]
HttpMethod = Literal["GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"]
AuthType = Literal["none", "bearer", "api_key", "basic", "oauth2", "headers"]
ApiKeyLocation = Literal["header", "query", "cookie"]

DEFAULT_STYLE: dict[str, ParamStyle] = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True, slots=True)
class Param:
    """One OpenAPI parameter: where the argument `arg` goes on the wire, and how it is serialized."""

    arg: str
    name: str
    location: ParamLocation
    style: ParamStyle | None = None
    explode: bool | None = None
    allow_reserved: bool = False
    # A parameter described with `content` instead of `schema` is sent as that media type (JSON).
    content_type: str | None = None

    @property
    def effective_style(self) -> ParamStyle:
        return self.style or DEFAULT_STYLE[self.location]

    @property
    def effective_explode(self) -> bool:
        return self.explode if self.explode is not None else self.effective_style == "form"


@dataclass(frozen=True, slots=True)
class BodyField:
    """A property `prop` of an object body, flattened into the top-level argument `arg`."""

    arg: str
    prop: str


@dataclass(frozen=True, slots=True)
class Body:
    """The request body: either one argument holding it whole (`arg`), or an object body whose
    properties were flattened into top-level arguments (`fields`)."""

    media_type: str
    arg: str | None = None
    fields: tuple[BodyField, ...] = ()
    required: bool = False
    # Properties of a multipart or octet-stream body that carry file content (base64 in the argument).
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Operation:
    """One tool: the HTTP operation behind it and how its validated arguments map onto a request."""

    tool: str
    method: HttpMethod
    path: str
    input_model: str
    params: tuple[Param, ...] = ()
    body: Body | None = None
    # Security alternatives, each a tuple of scheme names that apply together. None: the connector's
    # default; (): this operation needs no auth.
    security: tuple[tuple[str, ...], ...] | None = None
    # True where the definition marks a non-idempotent method safe to retry; None: from the method.
    idempotent: bool | None = None
    # The documented JSON response is not an object, so structured output is {"result": <value>}.
    wrap_output: bool = False
    # Query pairs sent with every call, from a path key's suffix (`/?Action=CreateGroup&Version=2010-05-08`,
    # `/#Action=CreateGroup`): `path` is then the plain path.
    query: tuple[tuple[str, str], ...] = ()
    # The Accept header: the operation's documented response media types ("": none documented, none sent).
    accept: str = ""
    # Response headers the spec documents for success: shown to the agent with the standard ones.
    response_headers: tuple[str, ...] = ()

    @property
    def is_idempotent(self) -> bool:
        return self.idempotent if self.idempotent is not None else self.method in IDEMPOTENT_METHODS


@dataclass(frozen=True, slots=True)
class OAuthFlow:
    grant: Literal["client_credentials", "authorization_code"]
    token_url: str = ""
    authorization_url: str = ""
    refresh_url: str = ""
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthScheme:
    """One way to authenticate upstream. `secrets` maps a role (token, key, username, password,
    client_id, client_secret, or a header name for `headers`) to a secret reference or plain value."""

    name: str
    type: AuthType
    secrets: tuple[tuple[str, str], ...] = ()
    # api_key: where the key goes, under which name, with which prefix (e.g. "ApiKey ").
    location: ApiKeyLocation = "header"
    param_name: str = ""
    prefix: str = ""
    # oauth2 / openIdConnect
    flows: tuple[OAuthFlow, ...] = ()
    openid_url: str = ""
    issuer_url: str = ""
    dynamic_registration: bool = False

    def secret(self, role: str) -> str | None:
        return next((value for key, value in self.secrets if key == role), None)


@dataclass(frozen=True, slots=True)
class OperationLimits:
    rate: str | None = None
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class Limits:
    """Defaults are the connector docs' limits."""

    timeout_s: float = 60.0
    max_response_bytes: int = 10 * 1024 * 1024
    concurrency: int = 10
    # How long a call waits for a free slot before it gets a clear error.
    queue_timeout_s: float = 30.0
    rate: str | None = None
    operations: tuple[tuple[str, OperationLimits], ...] = ()
    max_retries: int = 3
    max_retry_wait_s: float = 30.0

    def for_operation(self, tool: str) -> OperationLimits | None:
        return next((limits for name, limits in self.operations if name == tool), None)


@dataclass(frozen=True, slots=True)
class ServerVariable:
    name: str
    default: str
    enum: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConnectorSpec:
    """Everything about a REST connector that is not per operation."""

    name: str
    title: str
    version: str
    description: str = ""
    # A URL template from the spec's `servers` (variables in braces) or the definition's base_url.
    base_url: str = ""
    server_variables: tuple[ServerVariable, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    auth: tuple[AuthScheme, ...] = ()
    security: tuple[tuple[str, ...], ...] = ()
    limits: Limits = field(default_factory=Limits)
    # Argument hashes only, unless the definition opts in to recording arguments in the audit log.
    audit_arguments: bool = False


RemoteTransport = Literal["streamable_http", "sse", "websocket"]


@dataclass(frozen=True, slots=True)
class StdioUpstream:
    """An MCP server a wrapper starts and talks to over its stdin/stdout."""

    command: str
    args: tuple[str, ...] = ()
    # Environment of the server: values are plain or secret references (a secret never goes in `args`).
    env: tuple[tuple[str, str], ...] = ()
    # `command` is a console script installed with the package (a PyPI server pinned as a dependency):
    # it is run from this interpreter's scripts folder, so no PATH lookup and no download happen.
    python_script: bool = False
    cwd: str | None = None


@dataclass(frozen=True, slots=True)
class RemoteUpstream:
    """An MCP server a wrapper reaches over the network."""

    url: str
    transport: RemoteTransport = "streamable_http"
    # Header values are plain or secret references.
    headers: tuple[tuple[str, str], ...] = ()
    auth: AuthScheme | None = None


@dataclass(frozen=True, slots=True)
class WrapperSpec:
    """Everything about a wrapper connector (MCP Registry or custom): the upstream MCP server whose tools
    it re-exposes as `<name>_<tool>`, and the limits around its calls."""

    name: str
    title: str
    version: str
    upstream: StdioUpstream | RemoteUpstream
    description: str = ""
    limits: Limits = field(default_factory=Limits)
    audit_arguments: bool = False
