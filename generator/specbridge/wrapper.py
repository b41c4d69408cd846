"""normalize for wrapper connectors: an `mcp_registry` or `custom` definition becomes a `WrapperConnector`,
whose `upstream` is the runtime's description of how to run or reach the server.

From the MCP Registry's server.json one entry is chosen, in this order: a PyPI package, an npm package, a
remote (streamable HTTP, then SSE), an OCI image (or the kind the definition's `package` names). How each
runs, decided here and documented in the package's README:

- pypi: the package is a dependency of the generated package (pinned `==version`), and its console script
  (named like the package, as `uvx` runs it) is started from the wrapper's own environment: installing the
  wrapper installs the server, and starting it needs no network and no `uvx`.
- npm: `npx -y <package>@<version>` (Node.js must be installed; npx downloads the package once).
- oci: `docker run -i --rm -e NAME... <image> <arguments>` (docker must be installed; SB708 says so).
- remote: the URL with its `{variables}` filled in, headers and auth from the definition.

Values of arguments, `{variables}`, environment variables and headers come from the definition
(`variables`, `env`), else the server.json's value or default. Only the definition may name a secret
reference: the server.json's text is a third party's and is carried as a literal (`literal:` when it looks
like a reference), so a registry entry can never make the wrapper read `env:SPECBRIDGE_MASTER_KEY` or any
other variable. A secret input is always a reference from the definition (`vault:<name>` by default, so
`<name>-mcp creds set` or the connector's environment variable provides it; the server.json's own value
of a secret is ignored) and never goes on a command line: a docker `-e NAME={secret}` argument becomes
`-e NAME` with NAME in the environment, any other secret argument is refused (SB706). A remote header
whose template puts text before a secret (`Bearer {token}`) sends that text and the secret; any other
mix of text and a secret is refused (SB706): give the whole value under `variables` or `env`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from specbridge_runtime.contract import (
    LITERAL_PREFIX,
    AuthScheme,
    Limits,
    RemoteUpstream,
    StdioUpstream,
    is_reference,
    literal,
)

from specbridge import codes
from specbridge.definition import AuthConfig, CustomDefinition, RegistryDefinition
from specbridge.diagnostics import Diagnostic, Level, pointer
from specbridge.ir import WrapperConnector
from specbridge.naming import connector_name
from specbridge.registry_client import RegistryClient, registry_url
from specbridge.server_json import Argument, Input, InputWithVariables, KeyValueInput, Package, ServerDetail, Transport

ENTRY_ORDER = ("pypi", "npm", "remote", "oci")
_REMOTE_TRANSPORTS = {"streamable-http": "streamable_http", "sse": "sse"}
_CUSTOM_TRANSPORTS = {"http": "streamable_http", "sse": "sse", "websocket": "websocket"}
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
_DOCKER_ENV = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=\{([A-Za-z_][A-Za-z0-9_.-]*)\}$")
_OCI_TAG = re.compile(r"(@sha256:[0-9a-f]+|:[^/:]+)$")


@dataclass(frozen=True, slots=True)
class WrapperResult:
    connector: WrapperConnector | None
    diagnostics: tuple[Diagnostic, ...] = ()


RegistryFactory = Callable[[str], RegistryClient]


def wrapper_connector(definition: RegistryDefinition | CustomDefinition, source: str, *,
                      name: str | None = None, registry: RegistryFactory = RegistryClient) -> WrapperResult:
    """The wrapper IR of a definition; an mcp_registry definition reads its server.json from the registry."""
    if isinstance(definition, CustomDefinition):
        return _custom(definition, source, name)
    base_url = registry_url(definition.registry_url)
    with registry(base_url) as client:
        lookup = client.get(definition.registry_name, definition.version)
    if lookup.server is None:
        return WrapperResult(None, lookup.diagnostics)
    built = registry_connector(definition, lookup.server.server, source, name=name,
                               origin=f"{definition.registry_name}@{lookup.server.server.version}")
    return WrapperResult(built.connector, lookup.diagnostics + built.diagnostics)


def _custom(definition: CustomDefinition, source: str, name: str | None) -> WrapperResult:
    problems: list[Diagnostic] = []
    upstream = RemoteUpstream(
        url=definition.transport.url,
        transport=_CUSTOM_TRANSPORTS[definition.transport.type],  # type: ignore[arg-type]
        headers=tuple((header.name, header.value) for header in definition.transport.headers),
        auth=_single_auth(definition.auth, source, problems),
    )
    connector = WrapperConnector(
        name=connector_name(name or definition.name), title=definition.title or definition.name, version="0.1.0",
        kind="custom", upstream=upstream, description=definition.description or "", sources=(source,),
        limits=definition.limits.to_limits() if definition.limits else Limits(),
    )
    return WrapperResult(connector, tuple(problems))


def registry_connector(definition: RegistryDefinition, server: ServerDetail, source: str, *,
                       name: str | None = None, origin: str = "") -> WrapperResult:
    """The wrapper IR of one server.json: choose an entry and turn it into an upstream."""
    values = _Values(definition, source)
    choice = _choose(server, definition.package)
    if choice is None:
        kinds = ", ".join(ENTRY_ORDER)
        return WrapperResult(None, (Diagnostic(
            Level.ERROR, codes.WRAPPER_NO_ENTRY,
            f"{server.name} has no package or remote specbridge can run or reach (supported: {kinds}, stdio packages)",
            "#", origin or source),))
    kind, entry, where = choice
    requirements: tuple[str, ...] = ()
    notes: list[str] = []
    if isinstance(entry, Transport):
        upstream: StdioUpstream | RemoteUpstream = _remote(entry, values, where)
    elif kind == "pypi":
        upstream = _stdio(entry.identifier, (), entry, values, where, python_script=True)
        requirements = (f"{entry.identifier}=={entry.version}",) if entry.version else (entry.identifier,)
        notes.append(f"runs the PyPI package {entry.identifier} (a dependency of this package) from this environment")
    elif kind == "npm":
        spec = f"{entry.identifier}@{entry.version}" if entry.version else entry.identifier
        upstream = _stdio("npx", ("-y", spec), entry, values, where)
        notes.append(f"runs the npm package {spec} with npx (Node.js must be installed)")
    else:
        upstream = _docker(entry, values, where)
        notes.append(f"runs the container image {entry.identifier} with docker (docker must be installed)")
        values.problems.append(Diagnostic(Level.INFO, codes.WRAPPER_OCI, notes[-1], where, source))
    connector = WrapperConnector(
        name=connector_name(name or definition.name or server.name.rsplit("/", 1)[-1]),
        title=server.title or server.name, version=server.version, kind="mcp_registry", upstream=upstream,
        description=server.description, sources=(source,) + ((origin,) if origin else ()),
        limits=definition.limits.to_limits() if definition.limits else Limits(), requirements=requirements,
        notes=tuple(notes),
    )
    failed = any(problem.level is Level.ERROR for problem in values.problems)
    return WrapperResult(None if failed else connector, tuple(values.problems))


def _choose(server: ServerDetail, preferred: str | None) -> tuple[str, Package | Transport, str] | None:
    candidates: list[tuple[str, Package | Transport, str]] = []
    for index, package in enumerate(server.packages):
        if package.transport.type == "stdio" and package.registry_type in ENTRY_ORDER:
            candidates.append((package.registry_type, package, pointer("packages", index)))
    remotes = sorted(enumerate(server.remotes), key=lambda item: list(_REMOTE_TRANSPORTS).index(item[1].type)
                     if item[1].type in _REMOTE_TRANSPORTS else len(_REMOTE_TRANSPORTS))
    candidates += [("remote", remote, pointer("remotes", index)) for index, remote in remotes
                   if remote.type in _REMOTE_TRANSPORTS and remote.url]
    order = [preferred] if preferred else list(ENTRY_ORDER)
    return next((candidate for kind in order for candidate in candidates if candidate[0] == kind), None)


@dataclass
class _Values:
    """Where input values come from, and the problems met while filling them in."""

    definition: RegistryDefinition
    source: str
    problems: list[Diagnostic] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # environment the server gets (refs for secrets)

    def secret_default(self, name: str) -> str:
        """A secret input the definition does not give: the definition's auth secret when it has exactly
        one (bearer token, API key), else `vault:<name>`."""
        auth_secrets = [value for config in self.definition.auth for value in _auth_secret_values(config)]
        if len(auth_secrets) == 1:
            return auth_secrets[0]
        return "vault:" + re.sub(r"[^a-z0-9_.-]+", "_", name.lower()).strip("_")

    def error(self, code: str, message: str, where: str) -> None:
        self.problems.append(Diagnostic(Level.ERROR, code, message, where, self.source))


def _input_value(name: str, item: Input, given: Mapping[str, str], values: _Values, where: str) -> str | None:
    """The value of one input as a descriptor holds it: the definition's (which may be a reference), else the
    server.json's value or default as a literal. A secret without a value in the definition becomes a
    reference; the server.json's text for it is used only as a template of its `{variables}`."""
    value = given.get(name)
    if value is not None:
        if item.is_secret and not is_reference(value):
            values.error(codes.PLAIN_SECRET, f"{name} is a secret: write a reference (vault:NAME, env:VAR or "
                         "enc:...) in the definition, not the value", where)
            return None
        return value
    published = item.value if item.value is not None else item.default
    if item.is_secret and (published is None or not _has_variables(published, item)):
        return values.secret_default(name)
    return None if published is None else literal(published)


def _has_variables(template: str, item: Input) -> bool:
    variables = item.variables if isinstance(item, InputWithVariables) else {}
    return any(match.group(1) in variables for match in _VARIABLE.finditer(template))


Part = tuple[str, bool]  # text, and whether it is a secret reference rather than literal text
Combine = Callable[[list[Part]], str | None]


def _fill(template: str, variables: Mapping[str, Input], values: _Values, where: str, combine: Combine) -> str | None:
    """`{variable}`s of `template` (a descriptor value: literal or reference) replaced by their values; an
    unknown one stays as written (the schema's rule). The value is a literal unless a secret is part of it:
    a template that is one secret is that reference; text around a secret goes to `combine`."""
    if is_reference(template):  # the definition's own reference
        return template
    text = template.removeprefix(LITERAL_PREFIX)
    parts: list[Part] = []
    position = 0
    for match in _VARIABLE.finditer(text):
        variable = variables.get(match.group(1))
        if variable is None:
            continue
        value = _input_value(match.group(1), variable, values.definition.variables, values, where)
        if value is None:
            if variable.is_required:
                values.error(codes.WRAPPER_MISSING_VALUE, f"{{{match.group(1)}}} needs a value: set it under "
                             "`variables` in the definition", where)
            return None
        parts.append((text[position:match.start()], False))
        secret = variable.is_secret or is_reference(value)
        parts.append((value if secret else value.removeprefix(LITERAL_PREFIX), secret))
        position = match.end()
    parts = [part for part in (*parts, (text[position:], False)) if part[0]]
    if not any(secret for _, secret in parts):
        return literal("".join(piece for piece, _ in parts))
    if len(parts) == 1:
        return parts[0][0]
    return combine(parts)


def _arguments(arguments: Sequence[Argument], values: _Values, where: str, *, docker: bool = False) -> list[str]:
    words: list[str] = []
    for index, argument in enumerate(arguments):
        at = f"{where}/{index}"
        lookup = argument.value_hint or (argument.name or "").lstrip("-")
        given = values.definition.variables.get(lookup) if lookup else None
        published = argument.value if argument.value is not None else argument.default
        template = given if given is not None else None if published is None else literal(published)
        if template is None:
            if argument.is_required:
                values.error(codes.WRAPPER_MISSING_VALUE, f"argument {argument.name or lookup} needs a value: set "
                             f"{lookup!r} under `variables` in the definition", at)
            continue
        if docker and argument.name == "-e" and (moved := _DOCKER_ENV.match(template.removeprefix(LITERAL_PREFIX))):
            # `-e NAME={secret}`: docker copies NAME from its own environment, so the secret stays off argv.
            variable = argument.variables.get(moved.group(2))
            if variable is not None and variable.is_secret:
                reference = _input_value(moved.group(2), variable, values.definition.variables, values, at)
                if reference is not None:
                    values.env[moved.group(1)] = reference
                    words += ["-e", moved.group(1)]
                continue

        label = argument.name or lookup
        value = _fill(template, argument.variables, values, at, _refuse(values, at, f"argument {label} would put a "
                      "secret on the command line, where other users of the machine can read it"))
        if value is None:
            continue
        if is_reference(value):  # a command line is never resolved: a secret there is refused, as above
            _refuse(values, at, f"argument {label} would put a secret on the command line, where other users of "
                    "the machine can read it")([])
            continue
        value = value.removeprefix(LITERAL_PREFIX)
        if argument.type == "named" and argument.name:
            if argument.format == "boolean":
                words += [argument.name] if value.lower() == "true" else []
            else:
                words += [argument.name, value]
        else:
            words.append(value)
    return words


def _environment(variables: Sequence[KeyValueInput], values: _Values, where: str) -> None:
    for index, variable in enumerate(variables):
        at = f"{where}/{index}"
        given = values.definition.env.get(variable.name)
        if given is not None and variable.is_secret and not is_reference(given):
            values.error(codes.PLAIN_SECRET, f"{variable.name} is a secret: write a reference (vault:NAME, "
                         "env:VAR or enc:...) in the definition, not the value", at)
            continue
        template = given if given is not None else _input_value(variable.name, variable, {}, values, at)
        value = None if template is None else _fill(template, variable.variables, values, at, _refuse(
            values, at, f"the environment variable {variable.name} mixes text and a secret: give its whole value "
            "under `env` in the definition"))
        if value is None:
            if variable.is_required:
                values.error(codes.WRAPPER_MISSING_VALUE, f"the environment variable {variable.name} needs a value: "
                             "set it under `env` in the definition", at)
            continue
        values.env[variable.name] = value
    for name, value in values.definition.env.items():  # extra variables the definition adds
        values.env.setdefault(name, value)


def _refuse(values: _Values, where: str, message: str) -> Combine:
    def refuse(_parts: list[Part]) -> None:
        values.error(codes.WRAPPER_SECRET_ARGUMENT, message, where)
        return None

    return refuse


def _stdio(command: str, head: tuple[str, ...], package: Package, values: _Values, where: str, *,
           python_script: bool = False) -> StdioUpstream:
    runtime = [] if python_script else _arguments(package.runtime_arguments, values, f"{where}/runtimeArguments")
    arguments = _arguments(package.package_arguments, values, f"{where}/packageArguments")
    _environment(package.environment_variables, values, f"{where}/environmentVariables")
    return StdioUpstream(command=command, args=(*runtime, *head, *arguments), env=tuple(sorted(values.env.items())),
                         python_script=python_script)


def _docker(package: Package, values: _Values, where: str) -> StdioUpstream:
    """`docker run -i --rm`, the server's environment passed by name, the image, its arguments. A publisher
    whose runtime arguments already spell `run ...` gets exactly those, with its untagged image pinned."""
    _environment(package.environment_variables, values, f"{where}/environmentVariables")
    runtime = _arguments(package.runtime_arguments, values, f"{where}/runtimeArguments", docker=True)
    image = package.identifier
    if runtime[:1] == ["run"]:
        untagged = _OCI_TAG.sub("", image)
        words = [image if word == untagged else word for word in runtime]
        if image not in words:
            words.append(image)
    else:
        passed = [word for name in sorted(values.env) if name not in runtime for word in ("-e", name)]
        words = ["run", "-i", "--rm", *passed, *runtime, image]
    arguments = _arguments(package.package_arguments, values, f"{where}/packageArguments")
    return StdioUpstream(command="docker", args=(*words, *arguments), env=tuple(sorted(values.env.items())))


def _remote(remote: Transport, values: _Values, where: str) -> RemoteUpstream:
    url = _fill(remote.url or "", remote.variables, values, f"{where}/url",
                _refuse(values, f"{where}/url", "a secret variable is not put in a URL")) or ""
    if is_reference(url):
        values.error(codes.WRAPPER_SECRET_ARGUMENT, "a secret variable is not put in a URL", f"{where}/url")
    url = url.removeprefix(LITERAL_PREFIX)  # a URL is never resolved: it is the text it carries
    auth = _single_auth(values.definition.auth, values.source, values.problems)
    headers: list[tuple[str, str]] = []
    for index, header in enumerate(remote.headers):
        at = f"{where}/headers/{index}"
        if auth is not None and header.name.lower() == "authorization":
            continue  # the definition's auth sets it
        value = _input_value(header.name, header, values.definition.variables, values, at)
        if value is None:
            if header.is_required:
                values.error(codes.WRAPPER_MISSING_VALUE, f"the header {header.name} needs a value: set it under "
                             "`variables` in the definition", at)
            continue
        prefixed: list[AuthScheme] = []
        filled = _fill(value, header.variables, values, at, _prefixed_header(header.name, prefixed, values, at))
        if prefixed and auth is None:
            auth = prefixed[0]
        elif prefixed:
            values.error(codes.WRAPPER_SECRET_ARGUMENT, f"the header {header.name} puts text before a secret, and "
                         "the connection already has its auth: give the header's whole value under `variables`", at)
        elif filled is not None:
            headers.append((header.name, filled))
    transport = _REMOTE_TRANSPORTS[remote.type]
    return RemoteUpstream(url=url, transport=transport, headers=tuple(headers), auth=auth)  # type: ignore[arg-type]


def _prefixed_header(name: str, found: list[AuthScheme], values: _Values, where: str) -> Combine:
    """`Bearer {token}`: literal text, then one secret, as an API key in that header with that prefix."""

    def combine(parts: list[Part]) -> None:
        if len(parts) == 2 and not parts[0][1] and parts[1][1]:
            found.append(AuthScheme(name=name.lower(), type="api_key", secrets=(("key", parts[1][0]),),
                                    location="header", param_name=name, prefix=parts[0][0]))
            return None
        values.error(codes.WRAPPER_SECRET_ARGUMENT, f"the header {name} mixes text and a secret in a way that "
                     "cannot be sent safely: give its whole value under `variables` in the definition", where)
        return None

    return combine


def _auth_secret_values(config: AuthConfig) -> list[str]:
    if config.type == "bearer":
        return [config.token]
    if config.type == "api_key":
        return [config.key]
    return []


def _single_auth(configs: Sequence[AuthConfig], source: str, problems: list[Diagnostic]) -> AuthScheme | None:
    """An MCP server is reached with one credential: the first auth method (others are reported)."""
    if len(configs) > 1:
        problems.append(Diagnostic(Level.WARNING, codes.AUTH, "an MCP server connection uses one auth method; "
                                   "only the first is used", pointer("auth", 1), source))
    return configs[0].to_scheme(configs[0].name or configs[0].type) if configs else None
