"""A gateway: several connectors served as one MCP server, configured by a YAML file.

    name: team                      # the gateway's name: the namespace of its credentials in the vault
    concurrency: 10                 # calls in flight at once, across all its connectors (default 10)
    connectors:
      - package: shopify            # an installed generated package, by its `specbridge.connectors` entry point
      - definition: analytics.json  # a custom or mcp_registry definition (relative to this file)
        enabled: false              # listed but off
    tokens:                         # inbound bearer tokens, each with the connectors its caller may use
      - caller: agent-a
        token: env:AGENT_A_TOKEN    # a secret reference, never the token itself
        connectors: [shopify]       # "*" (the default): all
    redis_url: env:REDIS_URL        # replicas: SPECBRIDGE_REDIS_URL, as a reference (the environment's wins)
    database_url: vault:database_url  # replicas: SPECBRIDGE_DATABASE_URL, likewise

Credentials are the gateway's own: connector `c` of gateway `g` resolves its `vault:NAME` references in
the namespace `g.c` (the vault entry of connector `g.c`, else the environment variable `G__C__NAME`; an
`enc:` value is sealed with `specbridge encrypt --connector g.c`), so two connectors, two gateways, or a
gateway and a standalone server never read each other's secrets. `env:` references read the environment,
never the variables of the gateway's own inbound tokens. Two connectors that would serve the same tool
name are refused: generated packages' fixed tool lists before the gateway starts (it does not start, and
names both); tools known only once listed (an upstream MCP server's, a connector added later) have the
clashing name withheld from both and logged, never routed to either.
All calls share one concurrency limit and one audit, whose records name the caller. The file is re-read
when it changes: connectors enabled, disabled, added or removed take effect without a restart, and
clients are told that the tool list changed (token values themselves are read at start).

A REST definition cannot be served from its definition file: generate and install its package first,
then list it by package name. Wrapper definitions (custom, mcp_registry) are read by the generator:
`specbridge gateway gateway.yaml` serves them; `specbridge-gateway` (the runtime alone) serves packages.
The assembly builds each connector's provider (`ConnectorLoader`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mcp_types as types
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._core.caller import current_caller, current_principal
from .._core.errors import ConfigurationError, OperationNotFound, ToolError
from .._core.grammar import ENV_PREFIX
from .._core.seams import AuditSink, CallRecord, ToolProvider
from .._mechanisms.audit import NoAudit, arguments_digest, audit_from_env
from .._mechanisms.limits import ConcurrencyLimit
from .._mechanisms.secrets import Secrets
from .._mechanisms.server import ToolEntriesSource

logger = logging.getLogger(__name__)

RELOAD_INTERVAL_S = 1.0
ALL = "*"
_MAX_CONFIG_BYTES = 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectorEntry(_Strict):
    package: str | None = Field(None, min_length=1, description="entry point name in `specbridge.connectors`")
    definition: str | None = Field(None, min_length=1, description="a custom or mcp_registry definition file")
    enabled: bool = True

    @property
    def key(self) -> str:
        return f"package:{self.package}" if self.package else f"definition:{self.definition}"


class TokenEntry(_Strict):
    caller: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    token: str = Field(pattern=r"^(env|vault|enc):\S+$", description="a secret reference")
    connectors: tuple[str, ...] = (ALL,)


class GatewayConfig(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    concurrency: int = Field(10, ge=1)
    connectors: tuple[ConnectorEntry, ...] = ()
    tokens: tuple[TokenEntry, ...] = ()
    # The replicated mode's stores, as secret references (their URLs may hold passwords).
    redis_url: str | None = Field(None, pattern=r"^(env|vault|enc):\S+$")
    database_url: str | None = Field(None, pattern=r"^(env|vault|enc):\S+$")

    def token_variables(self) -> frozenset[str]:
        """The environment variables holding the gateway's inbound tokens: no connector may read them."""
        return frozenset(entry.token.removeprefix(ENV_PREFIX) for entry in self.tokens
                         if entry.token.startswith(ENV_PREFIX))

    def allowed(self, caller: str | None) -> frozenset[str] | None:
        """The connectors `caller` may use; None: all of them (stdio, or a gateway without tokens)."""
        if caller is None or not self.tokens:
            return None
        for entry in self.tokens:
            if entry.caller == caller:
                return None if ALL in entry.connectors else frozenset(entry.connectors)
        return frozenset()


def unknown_connectors(config: GatewayConfig, known: set[str]) -> str:
    """What is wrong with the tokens that name a connector not in `known` ("" if nothing): such a token would
    silently let its caller use less than its operator meant."""
    problems = [f"tokens: the token of {entry.caller} names connector {name!r}, which this gateway does not have "
                f"(it has {', '.join(sorted(known)) or 'none'})"
                for entry in config.tokens for name in entry.connectors if name != ALL and name not in known]
    return "; ".join(problems)


def read_config(path: Path) -> GatewayConfig:
    """The gateway file, validated; a problem is a `ConfigurationError` saying where."""
    try:
        raw = path.read_bytes()[: _MAX_CONFIG_BYTES + 1]
        data = yaml.safe_load(raw) if len(raw) <= _MAX_CONFIG_BYTES else None
    except (OSError, yaml.YAMLError) as error:
        raise ConfigurationError(f"{path}: cannot read the gateway file: {error}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: a gateway file is a YAML mapping of at most {_MAX_CONFIG_BYTES} bytes")
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(f"{'/'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
                             for problem in error.errors(include_url=False, include_input=False))
        raise ConfigurationError(f"{path}: {problems}") from None
    for index, entry in enumerate(config.connectors):
        if (entry.package is None) == (entry.definition is None):
            raise ConfigurationError(f"{path}: connectors/{index}: give either `package` or `definition`")
    return config


@dataclass(frozen=True, slots=True)
class MemberSeams:
    """What a connector of the gateway runs with: its own credentials namespace, the gateway's shared slots
    of calls in flight and its audit."""

    secrets: Secrets
    slots: ConcurrencyLimit
    audit: AuditSink | None


ConnectorLoader = Callable[[ConnectorEntry, Callable[[str], MemberSeams]], tuple[str, ToolProvider]]
"""Builds a gateway connector's provider (the assembly's job) from its entry; the callable gives the seams
for the connector's name. Raises `ConfigurationError` when the entry cannot be served."""


@dataclass
class _Member:
    """One connector of the gateway, running."""

    key: str
    provider: ToolProvider


class GatewayProvider:
    """`ToolProvider` of a gateway: the union of its enabled connectors' tools, filtered per caller."""

    def __init__(self, path: Path, environ: Mapping[str, str], *, loader: ConnectorLoader,
                 audit: AuditSink | None = None, reload_interval_s: float = RELOAD_INTERVAL_S,
                 concurrency: Callable[[str, int], ConcurrencyLimit] | None = None) -> None:
        self.path = path
        self._loader = loader
        self.environ = environ
        self.config = read_config(path)
        self._audit = audit
        # One limit of calls in flight for all the connectors, from the assembly's state.
        self._slots = (concurrency(self.config.name, self.config.concurrency) if concurrency is not None
                       else ConcurrencyLimit(self.config.concurrency, self.config.name))
        self._reload_interval_s = reload_interval_s
        self._members: dict[str, _Member] = {}  # by connector name
        self._owners: dict[str, _Member] = {}  # tool name -> member
        self._clashes: dict[str, tuple[str, ...]] = {}  # tool name -> the connectors that would both serve it
        self._callbacks: list[Callable[[], Awaitable[None]]] = []
        self._stamp = _stamp(path)
        self._watcher: asyncio.Task[None] | None = None

    @property
    def name(self) -> str:
        return self.config.name

    def on_tools_changed(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._callbacks.append(callback)

    async def start(self) -> None:
        if self._watcher is not None:
            return
        if self._audit is None:
            self._audit, problems = audit_from_env(self.environ)
            for problem in problems:
                logger.warning("%s", problem)
        await self._apply(self.config)
        clashes = _clashes({name: [str(entry.get("name")) for entry in member.provider.tool_entries()]
                            for name, member in self._members.items()
                            if isinstance(member.provider, ToolEntriesSource)})
        if clashes:  # fixed tool lists are known now; an upstream's are checked whenever they are listed
            await self.stop()
            raise ConfigurationError(f"gateway {self.name} does not start: {_clash_text(clashes)}")
        unknown = self._unknown_connectors(self.config)
        if unknown:
            await self.stop()
            raise ConfigurationError(f"{self.path}: {unknown}")
        self._watcher = asyncio.create_task(self._watch(), name=f"specbridge gateway {self.name} config")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        for member in list(self._members.values()):
            await member.provider.stop()
        self._members.clear()
        self._owners.clear()

    async def list_tools(self) -> Sequence[types.Tool]:
        allowed = self.config.allowed(_caller())
        listed = await self._relist()
        return [tool for name, tools in listed.items() if allowed is None or name in allowed for tool in tools
                if tool.name not in self._clashes]

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        member = self._owners.get(name)
        if member is None:
            await self._relist()
            member = self._owners.get(name)
        connector = next((key for key, value in self._members.items() if value is member), None)
        allowed = self.config.allowed(_caller())
        if name in self._clashes:
            return self._refuse(name, arguments, OperationNotFound(_clash_text({name: self._clashes[name]})))
        if member is None or connector is None:
            unknown = OperationNotFound(f"gateway {self.name} has no tool {name!r}")
            self._refuse(name, arguments, unknown)
            raise unknown
        if allowed is not None and connector not in allowed:
            return self._refuse(name, arguments, NotAllowed(
                f"tool {name!r} is not available to caller {current_principal()}: gateway {self.name} lets it use "
                f"{', '.join(sorted(allowed)) or 'no connector'}"))
        return await member.provider.call_tool(name, arguments)

    def _refuse(self, tool: str, arguments: Mapping[str, Any], error: ToolError) -> types.CallToolResult:
        """A call the gateway answers itself is audited too (under the gateway's name)."""
        digest, size, _ = arguments_digest(arguments, keep=False)
        (self._audit or NoAudit()).record(CallRecord(
            time=time.time(), connector=self.name, tool=tool, status=error.status, http_status=None, latency_ms=0.0,
            bytes_out=0, bytes_in=0, retries=0, arguments_hash=digest, arguments_size=size,
            caller=current_principal()))
        return error.to_result()

    async def _relist(self) -> dict[str, Sequence[types.Tool]]:
        """Every member's tools, by connector; owners recomputed, a tool two connectors serve owned by none."""
        listed = {name: await member.provider.list_tools() for name, member in list(self._members.items())}
        clashes = _clashes({name: [tool.name for tool in tools] for name, tools in listed.items()})
        if clashes.keys() - self._clashes.keys():
            logger.error("%s: %s", self.name, _clash_text(clashes))
        self._clashes = clashes
        self._owners = {tool.name: self._members[name] for name, tools in listed.items() for tool in tools
                        if tool.name not in clashes}
        return listed

    def check_tool_names(self) -> None:
        """Before serving: refuse (naming both) two enabled connectors whose fixed tool lists (generated REST
        packages) share a tool name. Upstream MCP servers' tools are known only once connected: see `start`."""
        tools: dict[str, list[str]] = {}
        for entry in self.config.connectors:
            if not entry.enabled:
                continue
            try:
                name, provider = self._load(entry)
            except ConfigurationError:
                continue  # reported when the gateway serves
            if isinstance(provider, ToolEntriesSource):
                tools[name] = [str(tool.get("name")) for tool in provider.tool_entries()]
        clashes = _clashes(tools)
        if clashes:
            raise ConfigurationError(f"gateway {self.name} does not start: {_clash_text(clashes)}")

    async def _apply(self, config: GatewayConfig) -> None:
        """Run exactly the enabled connectors of `config`: start the new ones, stop the others."""
        wanted = {entry.key: entry for entry in config.connectors if entry.enabled}
        changed = False
        for name, member in list(self._members.items()):
            if member.key not in wanted:
                await member.provider.stop()
                del self._members[name]
                changed = True
                logger.info("%s: connector %s stopped", self.name, name)
        running = {member.key for member in self._members.values()}
        for key, entry in wanted.items():
            if key in running:
                continue
            try:
                name, provider = self._load(entry)
            except ConfigurationError as error:
                logger.warning("%s: connector %s not served: %s", self.name, key, error)
                continue
            if name in self._members:
                logger.warning("%s: connector %s not served: a connector named %s is already served", self.name,
                               key, name)
                continue
            provider.on_tools_changed(self._tools_changed)
            await provider.start()
            self._members[name] = _Member(key, provider)
            changed = True
            logger.info("%s: connector %s started", self.name, name)
        self._owners = {tool: member for tool, member in self._owners.items() if member in self._members.values()}
        self.config = config
        if changed:
            await self._tools_changed()

    def _unknown_connectors(self, config: GatewayConfig) -> str:
        return unknown_connectors(config, set(self._members) | {entry.package for entry in config.connectors
                                                                  if entry.package})

    def _load(self, entry: ConnectorEntry) -> tuple[str, ToolProvider]:
        return self._loader(entry, self._seams)

    def _seams(self, connector: str) -> MemberSeams:
        """What the gateway's connectors share, and what is theirs within it: its slots and audit, and the
        credentials namespace `<gateway>.<connector>` (the other connectors' namespaces as its neighbours)."""
        neighbours = [f"{self.name}.{entry_name}" for entry_name in self._entry_names()]
        secrets = Secrets(f"{self.name}.{connector}", environ=self.environ, reserved=self.config.token_variables(),
                          neighbours=neighbours)
        return MemberSeams(secrets, self._slots, self._audit)

    def _entry_names(self) -> list[str]:
        """The connector names the gateway file may serve: those running, and the packages it lists."""
        return [*self._members, *(entry.package for entry in self.config.connectors if entry.package)]

    async def _tools_changed(self) -> None:
        for callback in self._callbacks:
            try:
                await callback()
            except Exception:  # one failing listener must not stop the others or the gateway
                logger.exception("%s: tools-changed callback failed", self.name)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._reload_interval_s)
            stamp = _stamp(self.path)
            if stamp == self._stamp:
                continue
            self._stamp = stamp
            try:
                config = read_config(self.path)
            except ConfigurationError as error:
                logger.warning("%s: the changed gateway file is not used: %s", self.name, error)
                continue
            if config.name != self.config.name or config.concurrency != self.config.concurrency:
                logger.warning("%s: a new name or concurrency takes effect at the next start", self.name)
                config = config.model_copy(update={"name": self.config.name, "concurrency": self.config.concurrency})
            unknown = self._unknown_connectors(config)
            if unknown:
                logger.warning("%s: the changed gateway file is not used: %s", self.name, unknown)
                continue
            logger.info("%s: gateway file changed; applying it", self.name)
            await self._apply(config)


class NotAllowed(ToolError):
    status = "not_allowed"
    hint = "This caller's token is not allowed this connector; ask the gateway's operator to add it."


def _clashes(tools: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """Tool names that more than one connector (`tools`: connector -> its tool names) would serve."""
    servers: dict[str, list[str]] = {}
    for connector, names in tools.items():
        for name in names:
            servers.setdefault(name, []).append(connector)
    return {name: tuple(connectors) for name, connectors in servers.items() if len(connectors) > 1}


def _clash_text(clashes: Mapping[str, Sequence[str]]) -> str:
    return "; ".join(f"connectors {' and '.join(names)} would both serve the tool {tool!r}"
                     for tool, names in sorted(clashes.items())) + (
        " (rename a tool with `tool_names` in its definition, or disable one connector)")


def _caller() -> str | None:
    caller = current_caller()
    return caller.client_id if caller is not None else None


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size
