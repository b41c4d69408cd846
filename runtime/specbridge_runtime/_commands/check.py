"""`check`: one real request to the upstream, and a verdict in the words of the connector docs'
troubleshooting table (wrong URL, service unreachable, bad key format, expired or revoked key, missing
permission). `Verdict`, `verdict_for_status` and `verdict_for_error` serve any connector kind. httpx2 and the
wrapper's MCP client are imported when a check runs: every start of the server builds this command's parser."""

from __future__ import annotations

import argparse
import re
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._core.descriptors import Operation
from .._core.errors import ConfigurationError
from .._core.failures import Problem, advice, classify_status, heading
from .._core.grammar import base_url_variable
from .._mechanisms.auth import build_auth_factory
from .._mechanisms.oauth import ClientRejected, LoginRequired
from .._mechanisms.secrets import CredentialError, CredentialFormatError, CredentialMissing, Secrets
from .._mechanisms.vault import Vault, max_age_days, specbridge_home
from .._providers.package import RestPackage, WrapperPackage
from .creds import stale_names

if TYPE_CHECKING:
    import httpx2

    from ._context import CliContext

CHECK_TIMEOUT_S = 15.0
_LOGIN = re.compile(r"(?i)(log-?in|sign-?in|auth|sso|session|account)")


@dataclass(frozen=True, slots=True)
class Verdict:
    problem: Problem
    detail: str

    @property
    def ok(self) -> bool:
        return self.problem == "ok"

    @property
    def heading(self) -> str:
        return heading(self.problem)

    @property
    def advice(self) -> str:
        return advice(self.problem)

    def text(self, name: str) -> str:
        label = self.problem.replace("_", " ")
        shown = self.heading if self.ok or label.lower() in self.heading.lower() else f"{self.heading} ({label})"
        return f"{name}: {shown}: {self.detail}" + (f"\n  {self.advice}" if self.advice else "")


def verdict_for_status(status: int, where: str, elapsed_ms: float, *, sent_credentials: bool = True,
                       location: str = "") -> Verdict:
    """The verdict on an answer. `sent_credentials`: the request carried credentials (the connector has auth
    for it and it was applied); `location`: the redirect target of a 3xx."""
    answered = f"{where} answered HTTP {status} in {elapsed_ms:.0f} ms"
    if 300 <= status < 400:
        return _redirect_verdict(answered, location.split("?", 1)[0], sent_credentials=sent_credentials)
    problem = classify_status(status)
    if problem in ("expired_or_revoked", "missing_permission") and not sent_credentials:
        return Verdict("missing_credentials", f"{answered}: no credentials were sent (none are configured for this "
                                              "operation), and the service asks for them")
    if problem == "expired_or_revoked":
        return Verdict(problem, f"{answered}: the credentials were refused (expired, revoked or wrong)")
    if problem == "missing_permission":
        return Verdict(problem, f"{answered}: the credentials are valid but lack permission")
    if problem == "not_found":  # the probe names no resource: nothing at the base URL
        return Verdict("wrong_url", f"{answered}: nothing there")
    return Verdict(problem, answered)


def _redirect_verdict(answered: str, target: str, *, sent_credentials: bool) -> Verdict:
    """A redirect is never "Connection OK": an API answers its calls, and a redirect to a login page means
    the credentials are missing or wrong (many services redirect instead of answering 401)."""
    redirected = f"{answered}, redirected to {target or '(no Location)'}"
    if _LOGIN.search(target):
        if not sent_credentials:
            return Verdict("missing_credentials", f"{redirected}: a login page, and no credentials were sent "
                                                  "(none are configured for this operation)")
        return Verdict("credentials", f"{redirected}: a login page, so the credentials sent were not accepted")
    unsent = "; no credentials were sent" if not sent_credentials else ""
    return Verdict("redirected", f"{redirected}: the base URL may have moved or be incomplete{unsent}")


def _resolution_failed(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return True
        seen = seen.__cause__ or seen.__context__
    text = str(error).lower()
    return any(marker in text for marker in ("name or service not known", "name resolution", "nodename nor servname"))


def verdict_for_error(error: BaseException, where: str) -> Verdict:
    """The verdict for a request that got no answer, or could not be authenticated before sending."""
    import httpx2

    from .._mechanisms.response import redact_secrets

    if isinstance(error, CredentialFormatError):
        return Verdict("bad_key_format", str(error))
    if isinstance(error, ClientRejected | LoginRequired):
        return Verdict("expired_or_revoked", str(error))
    if isinstance(error, CredentialMissing):
        return Verdict("missing_credentials", str(error))
    if isinstance(error, CredentialError):
        return Verdict("credentials", str(error))
    if isinstance(error, ConfigurationError | httpx2.UnsupportedProtocol | httpx2.InvalidURL):
        return Verdict("wrong_url", redact_secrets(str(error)) or f"{where}: not a usable URL")
    if isinstance(error, httpx2.ConnectError) and _resolution_failed(error):
        return Verdict("wrong_url", f"{where}: the host name does not resolve")
    if isinstance(error, httpx2.TimeoutException):
        return Verdict("unreachable", f"{where}: no answer within {CHECK_TIMEOUT_S:g} s")
    cause = redact_secrets(str(error))[:200] or type(error).__name__
    return Verdict("unreachable", f"{where}: could not connect ({cause})")


def probe_operation(package: RestPackage) -> Operation:
    """The first GET that needs no argument; else a GET of the base URL under the connector's security."""
    needs_arguments = {
        str(definition.get("name")): bool(definition.get("inputSchema", {}).get("required"))
        for definition in package.definitions()
    }
    for operation in package.operations:
        if operation.method == "GET" and "{" not in operation.path and not needs_arguments.get(operation.tool, True):
            return operation
    return Operation(tool="(base URL)", method="GET", path="", input_model="")


async def check_package(package: RestPackage, environ: dict[str, str] | None = None,
                        timeout_s: float = CHECK_TIMEOUT_S) -> Verdict:
    import httpx2

    from .._mechanisms.request import build_request, resolve_base_url, user_agent

    env = environ if environ is not None else {}
    connector = package.connector
    try:
        base_url = resolve_base_url(connector, env)
    except ConfigurationError as error:
        return Verdict("wrong_url", str(error))
    operation = probe_operation(package)
    auth = build_auth_factory(connector, environ=env)(operation)

    async def attempt(http: httpx2.AsyncClient) -> tuple[httpx2.Response, str, float, bool]:
        request = build_request(operation, {}, base_url=base_url, static_headers=connector.headers,
                                agent=user_agent(connector))
        where = f"{request.method} {request.url.copy_with(query=None, fragment=None)}"  # an API key may be in the query
        unauthenticated = (request.headers.raw, request.url)
        started = time.monotonic()
        try:
            await auth.apply(request)
            response = await http.send(request)
        except (httpx2.HTTPError, CredentialError) as error:
            raise _NoAnswer(verdict_for_error(error, where)) from None
        sent_credentials = (request.headers.raw, request.url) != unauthenticated
        return response, where, (time.monotonic() - started) * 1000, sent_credentials

    try:
        async with httpx2.AsyncClient(timeout=timeout_s, follow_redirects=False) as http:
            response, where, elapsed_ms, sent_credentials = await attempt(http)
            if response.status_code == 401 and await auth.refresh():  # as a call does: one refresh after a 401
                response, where, elapsed_ms, sent_credentials = await attempt(http)
    except _NoAnswer as no_answer:
        return no_answer.verdict
    except CredentialError as error:  # the refresh itself failed
        return verdict_for_error(error, f"{operation.method} {base_url}")
    verdict = verdict_for_status(response.status_code, where, elapsed_ms, sent_credentials=sent_credentials,
                                 location=response.headers.get("location", ""))
    if verdict.problem == "wrong_url":
        variable = base_url_variable(connector)
        return Verdict(verdict.problem, f"{verdict.detail}; the base URL can be set with {variable}")
    return verdict


class _NoAnswer(Exception):
    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.detail)
        self.verdict = verdict


async def check_wrapper(package: WrapperPackage, environ: Mapping[str, str], timeout_s: float) -> Verdict:
    """`<name>-mcp check` for a wrapper: connect to the upstream, list its tools, and give the verdict in
    the words of the troubleshooting table (the upstream's HTTP status, or why no connection was made)."""
    import httpx2

    from .._mechanisms.mcp_transports import describe
    from .._providers.wrapper import WrapperProvider

    provider = WrapperProvider(package.name, package.connector.upstream, secrets=Secrets(package.name, environ=environ),
                               connect_timeout_s=timeout_s)
    where = describe(package.connector.upstream)
    try:
        status = await provider.status()
    finally:
        await provider.stop()
    if status.connected:
        server = f" ({status.server})" if status.server else ""
        return Verdict("ok", f"{where}{server} answered with {len(status.tools)} tools")
    failure = provider.failure
    if isinstance(failure, httpx2.HTTPStatusError):
        return verdict_for_status(failure.response.status_code, where, 0.0)
    if failure is None:
        return Verdict("unreachable", f"{where}: no answer within {timeout_s:g} s")
    return verdict_for_error(failure, where)


class CheckCommand:
    name = "check"
    help = "test the connection and credentials with one real request, and say what is wrong"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--timeout", type=float, default=CHECK_TIMEOUT_S, help="seconds to wait for the answer")

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        import anyio

        package = cli.package
        if isinstance(cli.target, WrapperPackage):  # a wrapper: connect to its upstream MCP server
            name, verdict = cli.target.name, anyio.run(check_wrapper, cli.target, dict(cli.environ), args.timeout)
        elif package is not None:
            name, verdict = package.name, anyio.run(check_package, package, dict(cli.environ), args.timeout)
        else:
            raise ConfigurationError("check is not available for this server yet")
        (cli.print if verdict.ok else cli.note)(verdict.text(name))
        self._mention_stale(name, cli)
        return 0 if verdict.ok else 1

    @staticmethod
    def _mention_stale(name: str, cli: CliContext) -> None:
        """Secrets due for rotation: named, with their age (a reminder; the check's verdict is unchanged)."""
        if not specbridge_home(cli.environ).joinpath("vault.db").exists():
            return
        vault = Vault(environ=cli.environ)
        try:
            stale = stale_names(vault, name, cli.environ, time.time())
        finally:
            vault.close()
        for secret, days in stale:
            cli.note(f"{name}: the secret {secret!r} was set {days:.0f} days ago, more than "
                     f"{max_age_days(cli.environ):g}: rotate it (`{cli.prog} creds set {secret}`, then revoke the "
                     f"old value where it was issued)")
