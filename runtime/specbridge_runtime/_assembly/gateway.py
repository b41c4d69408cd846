"""A gateway put together: its connectors' providers built from their entries (installed packages, found by
entry point; wrapper definitions through a reader the generator supplies), and the environment it serves
with (its tokens as named inbound tokens)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path

from .._core.descriptors import WrapperSpec
from .._core.errors import ConfigurationError
from .._core.seams import ToolProvider
from .._mechanisms.inbound import SERVER_TOKENS_ENV
from .._mechanisms.secrets import CredentialError, Secrets
from .._providers.gateway import ConnectorEntry, ConnectorLoader, GatewayConfig, GatewayProvider, MemberSeams
from .._providers.package import RestPackage, WrapperPackage
from .connectors import package_provider, wrapper_provider
from .state import state_for

ENTRY_POINT_GROUP = "specbridge.connectors"

DefinitionReader = Callable[[Path], WrapperSpec]
"""Reads a custom or mcp_registry definition file as a `WrapperSpec` (the generator's job); raises
`ConfigurationError` saying what is wrong."""


def connector_loader(base: Path, environ: Mapping[str, str],
                     read_definition: DefinitionReader | None) -> ConnectorLoader:
    """Builds the providers of a gateway whose file is in `base`."""

    def load(entry: ConnectorEntry, seams_for: Callable[[str], MemberSeams]) -> tuple[str, ToolProvider]:
        if entry.package is not None:
            found = {point.name: point for point in entry_points(group=ENTRY_POINT_GROUP)}.get(entry.package)
            if found is None:
                raise ConfigurationError(f"no installed package provides the connector {entry.package!r} "
                                         f"(entry point group {ENTRY_POINT_GROUP})")
            package = found.load()
            if isinstance(package, RestPackage):
                seams = seams_for(package.name)
                return package.name, package_provider(package, environ=environ, secrets=seams.secrets,
                                                   slots=seams.slots, audit=seams.audit)
            if isinstance(package, WrapperPackage):
                return package.name, _wrapper(package.connector, environ, seams_for(package.name))
            raise ConfigurationError(f"the entry point {entry.package!r} is not a specbridge package")
        assert entry.definition is not None
        if read_definition is None:
            raise ConfigurationError(f"{entry.definition}: a definition file is served by `specbridge gateway` (the "
                                     "generator); with the runtime alone, generate and install its package "
                                     "(`specbridge gen`, `pip install`) and list it as `package: NAME`")
        spec = read_definition(base / entry.definition)
        return spec.name, _wrapper(spec, environ, seams_for(spec.name))

    return load


def _wrapper(spec: WrapperSpec, environ: Mapping[str, str], seams: MemberSeams) -> ToolProvider:
    return wrapper_provider(spec, environ=environ, secrets=seams.secrets, slots=seams.slots, audit=seams.audit)


def gateway_provider(path: Path, environ: Mapping[str, str], *,
                     read_definition: DefinitionReader | None = None) -> GatewayProvider:
    return GatewayProvider(path, environ, loader=connector_loader(path.parent, environ, read_definition),
                           concurrency=state_for(environ).concurrency)


def connector_names(config: GatewayConfig, base: Path, read_definition: DefinitionReader | None) -> set[str]:
    """The names the gateway's connectors are served under, without starting them: a package's entry point
    name, a definition's `name` (its file name without extension when it cannot be read here)."""
    names = set()
    for entry in config.connectors:
        if entry.package is not None:
            names.add(entry.package)
            continue
        assert entry.definition is not None
        try:
            names.add(read_definition(base / entry.definition).name if read_definition else "")
        except ConfigurationError:
            names.add("")
        names.add(Path(entry.definition).stem)
    return names - {""}


def stores_environ(config: GatewayConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """`environ` with the stores the gateway file names (`redis_url`, `database_url`, secret references in the
    gateway's namespace) as SPECBRIDGE_REDIS_URL and SPECBRIDGE_DATABASE_URL, unless the environment sets them."""
    found = dict(environ)
    secrets = Secrets(config.name, environ=environ)
    for field, variable in (("redis_url", "SPECBRIDGE_REDIS_URL"), ("database_url", "SPECBRIDGE_DATABASE_URL")):
        reference = getattr(config, field)
        if reference is None or environ.get(variable):
            continue
        try:
            found[variable] = secrets(reference)
        except CredentialError as error:
            raise ConfigurationError(f"gateway {config.name}: {field} ({reference}) cannot be read: {error}") from None
    return found


def gateway_environ(config: GatewayConfig, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the server runs with: the gateway's tokens as named inbound tokens (so each caller
    is identified by name), resolved from their references in the gateway's namespace."""
    if not config.tokens:
        return dict(environ)
    secrets = Secrets(config.name, environ=environ)
    pairs = []
    for entry in config.tokens:
        try:
            pairs.append(f"{entry.caller}:{secrets(entry.token)}")
        except CredentialError as error:
            raise ConfigurationError(f"gateway {config.name}: the token of caller {entry.caller} ({entry.token}) "
                                     f"cannot be read: {error}") from None
    return {**environ, SERVER_TOKENS_ENV: ",".join(pairs)}
