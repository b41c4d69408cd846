"""The contract between `specbridge gen` and this runtime: everything the generator emits or relies on.

A generated package is data run by the runtime. The generator builds that data with the descriptor classes
below, writes them as Python literals (`DESCRIPTOR_CLASSES` are the only classes it may construct), and
uses the same grammar the runtime enforces: rates, secret references and names, the names of a connector's
environment variables, tool names. The generator imports only this module, `specbridge_runtime`,
`specbridge_runtime.modeling` and `specbridge_runtime.testing`; the runtime never imports the generator.

Version contract: a package generated with runtime X.Y.Z depends on `specbridge-runtime>=X.Y.Z,<X+1`
(`runtime_requirement`) and checks it at import (`require_runtime`). Names here change only with a new
major version. `effective_security` is the auth an operation sends (what `specbridge inspect` shows).
`gateway_main` lets `specbridge gateway` serve wrapper definition files it reads.
"""

from __future__ import annotations

from ._assembly.gateway import DefinitionReader
from ._commands.creds import read_secret
from ._core.descriptors import (
    IDEMPOTENT_METHODS,
    ApiKeyLocation,
    AuthScheme,
    AuthType,
    Body,
    BodyField,
    ConnectorSpec,
    HttpMethod,
    Limits,
    OAuthFlow,
    Operation,
    OperationLimits,
    Param,
    ParamLocation,
    ParamStyle,
    RemoteTransport,
    RemoteUpstream,
    ServerVariable,
    StdioUpstream,
    WrapperSpec,
)
from ._core.grammar import (
    ENC_PREFIX,
    ENV_PREFIX,
    LITERAL_PREFIX,
    NAME_PATTERN,
    VAULT_PREFIX,
    Rate,
    base_url_variable,
    env_prefix,
    fallback_env_name,
    is_reference,
    legacy_env_name,
    literal,
    parse_rate,
    reserved_variable,
)
from ._core.naming import TOOL_NAME_MAX, disambiguate, fit, short_hash
from ._core.version import __version__, require_runtime
from ._gateway_cli import gateway_main
from ._mechanisms.auth import effective_security
from ._mechanisms.search import OperationText, SearchIndex, build_index
from ._mechanisms.secrets import Secrets, check_name, seal_reference
from ._mechanisms.vault import MASTER_KEY_ENV, Vault, key_id

DESCRIPTOR_CLASSES: frozenset[type] = frozenset({
    AuthScheme, Body, BodyField, ConnectorSpec, Limits, OAuthFlow, Operation, OperationLimits, Param, RemoteUpstream,
    ServerVariable, StdioUpstream, WrapperSpec,
})


def runtime_requirement(version: str = __version__) -> str:
    """The runtime versions a package generated against `version` runs on: that one or newer, same major."""
    major = int(version.split(".", 1)[0])
    return f"specbridge-runtime>={version},<{major + 1}"


def seal_for_definition(connector: str, name: str, value: str) -> tuple[str, str]:
    """`specbridge encrypt`: an `enc:` value of `value` for `connector`'s secret `name`, and a description of
    the master key that opens it (its id and where it comes from)."""
    vault = Vault()
    try:
        sealed = seal_reference(vault, connector, check_name(name), value)
        return sealed, f"{key_id(vault.sealing_key())} ({vault.keyring.source})"
    finally:
        vault.close()


def resolve_reference(namespace: str, reference: str) -> str:
    """`specbridge gen --spec-header`: the value behind `reference` (`env:`, `vault:` of `namespace` with its
    environment fallback, `enc:` sealed for `namespace`), or a plain value itself. Raises a
    `SpecbridgeError` that says what is missing; refuses the process's own variables like any reference."""
    vault = Vault()
    try:
        return Secrets(namespace, vault)(reference)
    finally:
        vault.close()


__all__ = [
    "DESCRIPTOR_CLASSES",
    "ENC_PREFIX",
    "ENV_PREFIX",
    "IDEMPOTENT_METHODS",
    "LITERAL_PREFIX",
    "MASTER_KEY_ENV",
    "NAME_PATTERN",
    "TOOL_NAME_MAX",
    "VAULT_PREFIX",
    "ApiKeyLocation",
    "AuthScheme",
    "AuthType",
    "Body",
    "BodyField",
    "ConnectorSpec",
    "DefinitionReader",
    "HttpMethod",
    "Limits",
    "OAuthFlow",
    "Operation",
    "OperationLimits",
    "OperationText",
    "Param",
    "ParamLocation",
    "ParamStyle",
    "Rate",
    "RemoteTransport",
    "RemoteUpstream",
    "SearchIndex",
    "ServerVariable",
    "StdioUpstream",
    "WrapperSpec",
    "__version__",
    "base_url_variable",
    "build_index",
    "disambiguate",
    "effective_security",
    "env_prefix",
    "fallback_env_name",
    "fit",
    "gateway_main",
    "is_reference",
    "legacy_env_name",
    "literal",
    "parse_rate",
    "read_secret",
    "require_runtime",
    "reserved_variable",
    "resolve_reference",
    "runtime_requirement",
    "seal_for_definition",
    "short_hash",
]
