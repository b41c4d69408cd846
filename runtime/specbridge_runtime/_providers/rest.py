"""`RestProvider`: the `ToolProvider` of a generated REST package.

One call: validate the arguments (the input model; nothing is sent when they are wrong) -> wait for the
`CallGate` -> build the request -> `UpstreamAuth.apply` -> send, streaming the body and refusing it past
the size limit, within the timeout -> ask the `RetryPolicy` -> map the response to an MCP result ->
`AuditSink.record`. Every upstream fault becomes an error result; none escapes to the server.

What only a call needs (httpx2 and the HTTP client, the response mapping and the protocol models) is
imported by the first call: a server answers initialize and tools/list without loading them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .._core.caller import current_principal
from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.descriptors import Limits, Operation
from .._core.errors import (
    ConfigurationError,
    ConnectionFailed,
    InvalidResponse,
    OperationNotFound,
    ResponseTooLarge,
    ToolError,
    UpstreamError,
    UpstreamTimeout,
    error_wire,
)
from .._core.grammar import base_url_variable
from .._core.seams import AuditSink, CallGate, CallRecord, DurableAudit, RetryPolicy, UpstreamAuth
from .._mechanisms.audit import arguments_digest
from .._mechanisms.fast_io import fast_io
from .._mechanisms.limits import timeout_for
from .._mechanisms.request import build_request, resolve_base_url, user_agent
from .._mechanisms.retry import retry_after_s
from .package import RestPackage

if TYPE_CHECKING:
    import httpx2
    import mcp_types as types

    from .._mechanisms.http import Upstream

logger = logging.getLogger(__name__)

AuthFactory = Callable[[Operation], UpstreamAuth]
_CAUSE_CHARS = 200


@dataclass(slots=True)
class _Outcome:
    """What the audit record of one call says, filled in as the call proceeds."""

    status: str = "ok"
    http_status: int | None = None
    bytes_out: int = 0
    bytes_in: int = 0
    retries: int = 0


class RestProvider:
    """Serves the tools of `package`, calling its API over one pooled HTTP client (`upstream_client`).

    `environ` supplies `<NAME>_BASE_URL`; `limits` defaults to the connector's; `transport` replaces the
    network (tests: `specbridge_runtime.testing.MockUpstream`); `clock` times the calls, their timeouts and
    the waits between retries; with `durable` (an audit shared by replicas) a call is refused while the audit
    cannot store records, and answered once its record is stored."""

    def __init__(self, package: RestPackage, *, environ: Mapping[str, str], gate: CallGate, auth_for: AuthFactory,
                 retry: RetryPolicy, audit: AuditSink, limits: Limits | None = None,
                 transport: httpx2.AsyncBaseTransport | None = None, clock: Clock = SYSTEM_CLOCK,
                 durable: DurableAudit | None = None) -> None:
        self.package = package
        self.connector = package.connector
        self.limits = limits if limits is not None else package.connector.limits
        self._gate = gate
        self._auth_for = auth_for
        self._retry = retry
        self._audit = audit
        self._transport = transport
        self._fast_io = fast_io(environ)
        self._clock = clock
        self._durable = durable
        self._client: Upstream | None = None
        self._base_url: str | None = None
        self._base_url_problem = ""
        self._agent: str | None = None  # at the first call: it looks the package's version up
        try:
            self._base_url = resolve_base_url(self.connector, environ)
        except ConfigurationError as problem:
            self._base_url_problem = str(problem)

    @property
    def name(self) -> str:
        return self.connector.name

    @property
    def base_url(self) -> str | None:
        return self._base_url

    async def start(self) -> None:
        # The pooled client is made at the first call (`_upstream`): its TLS context (the CA bundle) costs
        # more than the rest of the start, and the first tools/list does not need it.
        if self._base_url is None:
            logger.warning("%s; calls will fail until it is set", self._base_url_problem)

    async def stop(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    async def list_tools(self) -> Sequence[types.Tool]:
        return self.package.tools()

    def tool_entries(self) -> Sequence[Mapping[str, Any]]:
        """The tools/list entries as JSON objects (`tools.json`): the server sends these as they are, which
        spares building and dumping hundreds of `Tool` models when a client first lists the tools."""
        return self.package.definitions()

    def tools_json(self) -> bytes:
        """The tools/list entries as the package's `tools.json` bytes (the stdio lane sends them as they are)."""
        return self.package.tools_json()

    def on_tools_changed(self, callback: Callable[[], Awaitable[None]]) -> None:
        """A generated package's tools are fixed: the callback is never called."""

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        """The result of one call; raises `OperationNotFound` (after auditing it) for a tool it does not have."""
        import mcp_types as types

        return types.CallToolResult.model_validate(await self.call_wire(name, arguments))

    async def call_wire(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """`call_tool`'s result as the protocol carries it (the stdio lane sends it as it is)."""
        started, wall = self._clock.monotonic(), self._clock.time()
        outcome = _Outcome()
        try:
            if self._durable is not None:
                self._durable.check()
            result = await self._call(name, arguments, outcome)
        except OperationNotFound as error:  # the caller's mistake, answered as a protocol error; audited too
            outcome.status = error.status
            self._record(name, arguments, outcome, started, wall)
            raise
        except ToolError as error:
            outcome.status = error.status
            result = error.to_wire()
        except Exception:  # a bug (in the runtime or the package) must not take the server down
            logger.exception("%s: the call of %s failed unexpectedly", self.name, name)
            outcome.status = "internal_error"
            result = error_wire(f"internal error in the {self.name} server while calling {name} (see its log)")
        self._record(name, arguments, outcome, started, wall)
        if self._durable is not None:
            await self._durable.settled()
        return result

    async def _call(self, name: str, arguments: Mapping[str, Any], outcome: _Outcome) -> dict[str, Any]:
        operation = self.package.operation(name)
        if operation is None:
            raise OperationNotFound(f"operation not found: {name!r} is not a tool of {self.name}")
        values = self.package.validate(operation, arguments)
        from .._mechanisms.response import wire_result

        async with self._gate.enter(name):
            response, body = await self._send(operation, values, outcome)
        outcome.http_status = response.status_code
        outcome.bytes_in = len(body)
        outcome.status = "ok" if response.is_success else f"http_{response.status_code}"
        return wire_result(response, body, connector=self.name, operation=operation,
                         output_schema=self.package.has_output_schema(name), now=self._clock.time(),
                         arguments=self.package.argument_schemas(name))

    async def _send(self, operation: Operation, values: Mapping[str, Any],
                    outcome: _Outcome) -> tuple[httpx2.Response, bytes]:
        """Send (and resend, as the retry policy and a credential refresh allow) until there is a response
        to map, or raise the `UpstreamError` of the last failure."""
        import httpx2

        if self._base_url is None:
            raise ConnectionFailed(self._base_url_problem)
        if self._agent is None:
            self._agent = user_agent(self.connector)
        auth = self._auth_for(operation)
        timeout_s = timeout_for(self.limits, operation.tool)
        attempt, waited_s, refreshed = 0, 0.0, False
        while True:
            request = build_request(operation, values, base_url=self._base_url, static_headers=self.connector.headers,
                                    agent=self._agent)
            await auth.apply(request)
            request.extensions["timeout"] = httpx2.Timeout(timeout_s).as_dict()
            outcome.bytes_out = len(request.read())
            response: httpx2.Response | None = None
            failure: Exception | None = None
            body = b""
            try:
                response, body = await self._exchange(request, timeout_s)
            except (httpx2.HTTPError, TimeoutError) as error:
                failure = error
            if response is not None and response.status_code == 429:
                told = retry_after_s(response.headers, self._clock.time())
                if told:  # every caller of the connector waits, not only this one
                    await self._gate.pause(told)
            if response is not None and response.status_code == 401 and not refreshed:
                refreshed = True
                if await auth.refresh():
                    outcome.retries += 1
                    continue
            delay = self._retry.delay(attempt, response, failure, operation.is_idempotent, waited_s)
            if delay is None:
                if failure is not None:
                    raise self._upstream_error(failure, operation, timeout_s)
                assert response is not None
                return response, body
            await self._clock.sleep(delay)
            waited_s += delay
            attempt += 1
            outcome.retries += 1

    async def _exchange(self, request: httpx2.Request, timeout_s: float) -> tuple[httpx2.Response, bytes]:
        """Send `request` and read its body, never holding more than the size limit."""
        from .._mechanisms.http11 import BodyTooLarge

        limit = self.limits.max_response_bytes
        with self._clock.fail_after(timeout_s):
            try:
                return await self._upstream().send(request, max_body=limit)
            except BodyTooLarge:
                raise ResponseTooLarge(f"the response of {self.name} is larger than the limit of {limit:,} bytes; "
                                       "it was not read further") from None

    def _upstream_error(self, failure: Exception, operation: Operation, timeout_s: float) -> UpstreamError:
        import httpx2

        from .._mechanisms.response import redact_secrets

        where = f"{self.name} ({operation.method} {operation.path})"
        if isinstance(failure, TimeoutError | httpx2.TimeoutException):
            return UpstreamTimeout(f"timeout: {where} did not answer within {timeout_s:g} s")
        cause = redact_secrets(str(failure) or type(failure).__name__)[:_CAUSE_CHARS]
        if isinstance(failure, httpx2.DecodingError):
            return InvalidResponse(f"the response of {where} could not be decoded: {cause}")
        if isinstance(failure, httpx2.ConnectError):
            return ConnectionFailed(f"connection failed: could not connect to {self._base_url} for {where}: {cause}. "
                                    f"The base URL can be set with {base_url_variable(self.connector)}")
        return ConnectionFailed(f"connection failed: the exchange with {where} broke off: {cause}")

    def _upstream(self) -> Upstream:
        if self._client is None:
            from .._mechanisms.http import upstream_client

            self._client = upstream_client(timeout_s=self.limits.timeout_s, transport=self._transport,
                                           fast=self._fast_io)
        return self._client

    def _record(self, tool: str, arguments: Mapping[str, Any], outcome: _Outcome, started: float,
                wall: float) -> None:
        latency_ms = (self._clock.monotonic() - started) * 1000
        if logger.isEnabledFor(logging.DEBUG):  # a line per call costs more than the rest of the record
            logger.debug("%s %s -> %s%s in %.1f ms, %d bytes out, %d in, %d retries", self.name, tool,
                         outcome.status, f" (HTTP {outcome.http_status})" if outcome.http_status else "",
                         latency_ms, outcome.bytes_out, outcome.bytes_in, outcome.retries)
        digest, size, kept = arguments_digest(arguments, keep=self.connector.audit_arguments)
        record = CallRecord(time=wall, connector=self.name, tool=tool, status=outcome.status,
                            http_status=outcome.http_status, latency_ms=latency_ms, bytes_out=outcome.bytes_out,
                            bytes_in=outcome.bytes_in, retries=outcome.retries, arguments_hash=digest,
                            arguments_size=size, arguments=kept, caller=current_principal())
        try:
            self._audit.record(record)
        except Exception:  # an audit fault is logged; the call's result still reaches the caller
            logger.exception("%s: the audit record of %s could not be written", self.name, tool)
