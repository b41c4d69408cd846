"""Where the runtime's parts are put together: THE construction point of a REST provider's seams and of
the servers' inbound auth. Auth (credentials, OAuth, inbound tokens) and limits (gate, retries, audit)
replace the simple defaults here, and only here.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from .._core.descriptors import Limits, WrapperSpec
from .._core.seams import AuditSink, DurableAudit, InboundAuth
from .._mechanisms.audit import BackgroundAudit, audit_from_env
from .._mechanisms.auth import build_auth_factory
from .._mechanisms.limits import ConcurrencyLimit, limits_from_env
from .._mechanisms.retry import BackoffRetry
from .._mechanisms.secrets import Secrets
from .._providers.package import RestPackage, WrapperPackage
from .._providers.rest import RestProvider
from .state import RuntimeState, state_for

if TYPE_CHECKING:  # a REST server builds its provider without the mcp SDK (wrappers) or httpx2
    import httpx2

    from .._providers.search import SearchProvider
    from .._providers.wrapper import WrapperProvider

logger = logging.getLogger(__name__)


def rest_provider(package: RestPackage, *, environ: Mapping[str, str],
                  transport: httpx2.AsyncBaseTransport | None = None, secrets: Secrets | None = None,
                  slots: ConcurrencyLimit | None = None, audit: AuditSink | None = None,
                  state: RuntimeState | None = None) -> RestProvider:
    """The provider `<name>-mcp serve` runs for a generated package. A gateway passes its credentials
    namespace (`secrets`), its shared concurrency `slots` and its `audit`; `state` (default: the one the
    environment asks for) holds the limits' state and the clock."""
    state = state or state_for(environ)
    limits, audit = _limits_and_audit(package.connector.limits, package.name, environ, audit, state)
    return RestProvider(
        package,
        environ=environ,
        gate=state.gate(package.name, limits, slots),
        auth_for=build_auth_factory(package.connector, secrets=secrets, environ=environ, clock=state.clock,
                                    locks=state.locks, renewed=functools.partial(_count_refresh, state, package.name)),
        retry=BackoffRetry.from_limits(limits, state.clock),
        audit=state.measured(audit),
        limits=limits,
        transport=transport,
        clock=state.clock,
        durable=_durable(audit),
    )


def package_provider(package: RestPackage, *, environ: Mapping[str, str], secrets: Secrets | None = None,
                     slots: ConcurrencyLimit | None = None,
                     audit: AuditSink | None = None) -> RestProvider | SearchProvider:
    """A REST package's provider: its `RestProvider`, behind a `SearchProvider` when it was generated with
    `--tools dynamic`."""
    rest = rest_provider(package, environ=environ, secrets=secrets, slots=slots, audit=audit)
    if package.tools_mode != "dynamic":
        return rest
    # Imported here: the search index is loaded by `--tools dynamic` packages only, not at every start.
    from .._providers.search import SearchProvider

    return SearchProvider(rest)


def wrapper_provider(spec: WrapperSpec, *, environ: Mapping[str, str], secrets: Secrets | None = None,
                     slots: ConcurrencyLimit | None = None, audit: AuditSink | None = None,
                     state: RuntimeState | None = None) -> WrapperProvider:
    """The provider `<name>-mcp serve` runs for a wrapper package (same seams as a REST one)."""
    from .._providers.wrapper import WrapperProvider

    state = state or state_for(environ)
    limits, audit = _limits_and_audit(spec.limits, spec.name, environ, audit, state)
    return WrapperProvider(
        spec.name,
        spec.upstream,
        secrets=secrets if secrets is not None else Secrets(spec.name, environ=environ),
        gate=state.gate(spec.name, limits, slots),
        audit=state.measured(audit),
        limits=limits,
        audit_arguments=spec.audit_arguments,
        durable=_durable(audit),
    )


def build_provider(package: RestPackage | WrapperPackage,
                   environ: Mapping[str, str]) -> RestProvider | SearchProvider | WrapperProvider:
    """The provider `<name>-mcp serve` runs for a generated package, from the environment alone."""
    if isinstance(package, RestPackage):
        return package_provider(package, environ=environ)
    return wrapper_provider(package.connector, environ=environ)


def _count_refresh(state: RuntimeState, connector: str, scheme: str) -> None:
    state.metrics.token_refreshed(connector, scheme)


def _durable(audit: AuditSink) -> DurableAudit | None:
    """The audit's promise to hold each call's answer until its record is stored, when replicas share it."""
    return audit if isinstance(audit, BackgroundAudit) and audit.store.shared else None


def _limits_and_audit(limits: Limits, name: str, environ: Mapping[str, str], audit: AuditSink | None,
                      state: RuntimeState) -> tuple[Limits, AuditSink]:
    """The connector's limits with the environment's overrides, and the audit (the given one, else the
    environment's); invalid settings are logged and left out."""
    effective, problems = limits_from_env(limits, name, environ)
    if audit is None:
        audit, audit_problems = audit_from_env(environ, state.clock)
        problems += audit_problems
    for problem in problems:
        logger.warning("%s", problem)
    return effective, audit


def inbound_auth(server_name: str, environ: Mapping[str, str]) -> InboundAuth | None:
    """How HTTP and SSE clients of `server_name` authenticate; None: not configured (loopback only)."""
    from .._mechanisms.inbound import inbound_auth_from_env  # the mcp SDK's token types: HTTP servers only

    return inbound_auth_from_env(environ)
