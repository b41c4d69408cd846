"""specbridge runtime: the shared core of every MCP server specbridge generates.

A generated package is data (`ConnectorSpec`, `Operation`s, `tools.json`, pydantic input models) run by
this runtime: `RestPackage` holds it, `RestProvider` calls its API, `build_provider` builds a package's
provider from the environment, `build_server` serves any `ToolProvider` over MCP, `run_cli` is the
package's command line, `require_runtime` checks at import that this runtime can run it.
`specbridge_runtime.testing` has the test doubles (`MockUpstream`, `provider_for`, `connect`);
`specbridge_runtime.contract` is what the generator emits and relies on.

Layers, each importing only downward (`.importlinter` checks it): `_core` (descriptors, errors, seams,
grammar, clock) <- `_mechanisms` <- `_providers` <- `_assembly` <- `_commands` <- `_cli`.

Extension points (one method each where possible, see `_core/seams.py`): `ToolProvider`, `CallGate.enter`,
`UpstreamAuth.apply`, `RetryPolicy.delay`, `AuditSink.record`, and `InboundAuth` (a `TokenVerifier`).

Exceptions:

    SpecbridgeError                  the runtime's errors; the message says what to do
    ├── RuntimeVersionError          the installed runtime cannot run a generated package
    ├── ConfigurationError           the server cannot be set up as asked (base URL, exposure)
    ├── VaultError                   a secret cannot be stored or read (`creds` commands)
    │   ├── MasterKeyError           the master key is missing, malformed or not the one used
    │   └── SecretUnreadable         a sealed secret was altered or moved to another connector/name
    └── ToolError                    a failed call; becomes an MCP error result (`to_result()`)
        ├── InvalidArguments         the arguments do not fit the input model; nothing was sent
        ├── OperationNotFound        no such tool
        ├── NotAuthenticated         no usable credentials for the upstream API
        │   └── CredentialError      a credential is missing, malformed, unreadable or refused
        │       ├── CredentialMissing      a secret reference resolves to nothing
        │       ├── CredentialFormatError  a stored credential has a bad format (line break, prefix)
        │       └── OAuthError             the authorization server could not be used or refused us
        │           ├── LoginRequired      no usable token: run `<name>-mcp login`
        │           └── ClientRejected     the client was revoked or its credentials are wrong
        ├── LimitExceeded            the call could not start in time (`CallGate`)
        │   ├── QueueFull            too many calls in flight
        │   └── RateLimited          the connector's rate limit
        └── UpstreamError            the upstream API could not be used
            ├── UpstreamTimeout      no answer within the timeout
            ├── ConnectionFailed     no connection, or it broke off
            ├── ResponseTooLarge     the answer exceeds the size limit
            └── InvalidResponse      the answer is not in the documented format
"""

import importlib
from typing import TYPE_CHECKING, Any

from ._core.caller import Caller, current_caller, current_principal
from ._core.collector import collector_paused
from ._core.descriptors import (
    AuthScheme,
    Body,
    BodyField,
    ConnectorSpec,
    Limits,
    OAuthFlow,
    Operation,
    OperationLimits,
    Param,
    RemoteUpstream,
    ServerVariable,
    StdioUpstream,
    WrapperSpec,
)
from ._core.errors import (
    ConfigurationError,
    ConnectionFailed,
    InvalidArguments,
    InvalidResponse,
    LimitExceeded,
    NotAuthenticated,
    OperationNotFound,
    QueueFull,
    RateLimited,
    ResponseTooLarge,
    RuntimeVersionError,
    SpecbridgeError,
    ToolError,
    UpstreamError,
    UpstreamTimeout,
)
from ._core.seams import AuditSink, CallGate, CallRecord, InboundAuth, RetryPolicy, ToolProvider, UpstreamAuth
from ._core.version import __version__, require_runtime
from ._providers.package import RestPackage, WrapperPackage

# The rest is loaded at first use (PEP 562 `__getattr__` below): a generated package imports only what it
# names (its descriptors, `RestPackage`, `run_cli`), and a server loads the mcp SDK, pydantic, httpx2 and
# the credential store when it needs them, not to answer initialize and tools/list.
_LAZY = {
    "build_provider": "._assembly.connectors",
    "run_cli": "._cli",
    "ProviderFactory": "._commands._context",
    "ClientRejected": "._mechanisms.oauth",
    "LoginRequired": "._mechanisms.oauth",
    "OAuthError": "._mechanisms.oauth",
    "CredentialError": "._mechanisms.secrets",
    "CredentialFormatError": "._mechanisms.secrets",
    "CredentialMissing": "._mechanisms.secrets",
    "build_server": "._mechanisms.server",
    "build_http_app": "._mechanisms.transports",
    "build_sse_app": "._mechanisms.transports",
    "MasterKeyError": "._mechanisms.vault",
    "SecretUnreadable": "._mechanisms.vault",
    "VaultError": "._mechanisms.vault",
    "RestProvider": "._providers.rest",
    "SearchProvider": "._providers.search",
    "WrapperProvider": "._providers.wrapper",
}

if TYPE_CHECKING:
    from ._assembly.connectors import build_provider
    from ._cli import run_cli
    from ._commands._context import ProviderFactory
    from ._mechanisms.oauth import ClientRejected, LoginRequired, OAuthError
    from ._mechanisms.secrets import CredentialError, CredentialFormatError, CredentialMissing
    from ._mechanisms.server import build_server
    from ._mechanisms.transports import build_http_app, build_sse_app
    from ._mechanisms.vault import MasterKeyError, SecretUnreadable, VaultError
    from ._providers.rest import RestProvider
    from ._providers.search import SearchProvider
    from ._providers.wrapper import WrapperProvider

__all__ = [
    "AuditSink",
    "AuthScheme",
    "Body",
    "BodyField",
    "CallGate",
    "CallRecord",
    "Caller",
    "ClientRejected",
    "ConfigurationError",
    "ConnectionFailed",
    "ConnectorSpec",
    "CredentialError",
    "CredentialFormatError",
    "CredentialMissing",
    "InboundAuth",
    "InvalidArguments",
    "InvalidResponse",
    "LimitExceeded",
    "Limits",
    "LoginRequired",
    "MasterKeyError",
    "NotAuthenticated",
    "OAuthError",
    "OAuthFlow",
    "Operation",
    "OperationLimits",
    "OperationNotFound",
    "Param",
    "ProviderFactory",
    "QueueFull",
    "RateLimited",
    "RemoteUpstream",
    "ResponseTooLarge",
    "RestPackage",
    "RestProvider",
    "RetryPolicy",
    "RuntimeVersionError",
    "SearchProvider",
    "SecretUnreadable",
    "ServerVariable",
    "SpecbridgeError",
    "StdioUpstream",
    "ToolError",
    "ToolProvider",
    "UpstreamAuth",
    "UpstreamError",
    "UpstreamTimeout",
    "VaultError",
    "WrapperPackage",
    "WrapperProvider",
    "WrapperSpec",
    "__version__",
    "build_http_app",
    "build_provider",
    "build_server",
    "build_sse_app",
    "current_caller",
    "current_principal",
    "require_runtime",
    "run_cli",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with collector_paused():  # the mcp SDK, pydantic and httpx2 make some hundred thousand objects
        value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
