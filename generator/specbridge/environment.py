"""The environment variables a generated server reads from its deployment: credentials and the base URL.

One list, computed once from the IR, feeds everything that tells a user or a client what to set: the
package's `server.json` (the MCP Registry's `environmentVariables`), the README's client snippets (their
`env` blocks) and an MCP Bundle's `user_config`. A `vault:NAME` secret is read from the environment
variable `<CONNECTOR>_<NAME>` when the vault has no entry, `env:VAR` from VAR, and `enc:` values need
the master key; plain values are part of the package and need nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from specbridge_runtime.contract import (
    ENC_PREFIX,
    ENV_PREFIX,
    MASTER_KEY_ENV,
    VAULT_PREFIX,
    AuthScheme,
    ConnectorSpec,
    RemoteUpstream,
    StdioUpstream,
    base_url_variable,
    fallback_env_name,
)

from .ir import WrapperConnector


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    description: str  # plain text (may hold spec text: escape it for where it goes)
    secret: bool
    required: bool
    default: str | None = None


def rest_environment(spec: ConnectorSpec) -> tuple[EnvVar, ...]:
    """Credentials of every auth scheme (required when the API has exactly one way in and every operation
    needs it), then the base URL (required when the spec gives no absolute one)."""
    with_secrets = [scheme for scheme in spec.auth if scheme.type != "none" and scheme.secrets]
    required = len(with_secrets) == 1 and bool(spec.security) and () not in spec.security
    found = [
        variable
        for scheme in with_secrets
        for role, reference in scheme.secrets
        if (variable := _secret_variable(spec.name, reference, f"{role} for {_scheme_label(scheme)}",
                                         required=required and scheme.type != "oauth2")) is not None
    ]
    base_url = spec.base_url
    fixed = base_url.startswith(("http://", "https://")) and "{" not in base_url
    found.append(EnvVar(base_url_variable(spec), "the API's base URL" + (f" (default {base_url})" if fixed else ""),
                        secret=False, required=not fixed and not spec.server_variables,
                        default=base_url if fixed else None))
    return _unique(found)


def wrapper_environment(connector: WrapperConnector) -> tuple[EnvVar, ...]:
    """The secrets a wrapper passes to its upstream: a stdio server's environment, a remote one's headers
    and auth."""
    upstream = connector.upstream
    pairs: list[tuple[str, str]] = []
    if isinstance(upstream, StdioUpstream):
        pairs += [(f"environment variable {key} of the server", value) for key, value in upstream.env]
    elif isinstance(upstream, RemoteUpstream):
        pairs += [(f"header {key}", value) for key, value in upstream.headers]
        if upstream.auth is not None:
            pairs += [(f"{role} for {_scheme_label(upstream.auth)}", value) for role, value in upstream.auth.secrets]
    found = [variable for label, value in pairs
             if (variable := _secret_variable(connector.name, value, label, required=True)) is not None]
    return _unique(found)


def _scheme_label(scheme: AuthScheme) -> str:
    return f"the {scheme.type.replace('_', ' ')} auth scheme {scheme.name}"


def _secret_variable(connector: str, reference: str, label: str, *, required: bool) -> EnvVar | None:
    if reference.startswith(VAULT_PREFIX):
        secret = reference.removeprefix(VAULT_PREFIX)
        return EnvVar(fallback_env_name(connector, secret),
                      f"{label} (or store it with `{connector}-mcp creds set {secret}`)", secret=True,
                      required=required)
    if reference.startswith(ENV_PREFIX):
        return EnvVar(reference.removeprefix(ENV_PREFIX), label, secret=True, required=required)
    if reference.startswith(ENC_PREFIX):
        return EnvVar(MASTER_KEY_ENV, "the master key that opens the credentials sealed in the package", secret=True,
                      required=True)
    return None


def _unique(variables: Iterable[EnvVar]) -> tuple[EnvVar, ...]:
    seen: dict[str, EnvVar] = {}
    for variable in variables:
        seen.setdefault(variable.name, variable)
    return tuple(seen.values())
