"""Test doubles for generated packages and the runtime's users.

- `MockUpstream`: a fake upstream API on `httpx2.MockTransport`. Register routes (method and path
  pattern, `{name}` matching one segment) answering a fixed response or a callable; every request is
  recorded; an unmatched request gets a 404.
- `provider_for(package, upstream)`: a `RestProvider` for a generated package that calls the mock, with
  the simple default seams (no credentials, no limits, no retries, no audit) unless others are given.
- `ManualClock`: a clock the test moves (`advance(seconds)`), or that jumps to the end of every sleep
  (`auto_advance`, the default), so paced, retried and timed-out calls run without waiting; give it to
  `provider_for(..., clock=...)` or to any part that takes a `clock`.
- `connect(provider)`: an in-process MCP client (`mcp.Client`) talking to `build_server(provider)`.
- `assert_tools_match_operations(package)`, `assert_schemas_match_models(package)`: a generated package's
  contract, that it advertises exactly the operations it runs, with the input schemas its models validate.

    upstream = MockUpstream()
    upstream.route("GET", "/pets/{id}", json={"id": 1, "name": "Rex"})
    async with connect(provider_for(PACKAGE, upstream)) as client:
        result = await client.call_tool("petstore_get_pet", {"id": 1})
    assert upstream.requests[0].url.path == "/pets/1"
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2
from mcp import Client

from ._assembly.defaults import NeverRetry, UnlimitedGate, no_credentials
from ._core.clock import SYSTEM_CLOCK, Clock, ManualClock
from ._core.grammar import base_url_variable
from ._core.seams import AuditSink, CallGate, RetryPolicy, ToolProvider
from ._mechanisms.audit import NoAudit
from ._mechanisms.search import SearchIndex
from ._mechanisms.server import build_server
from ._providers.package import RestPackage
from ._providers.rest import AuthFactory, RestProvider

__all__ = [
    "ManualClock", "MockUpstream", "assert_schemas_match_models", "assert_tools_match_operations", "connect",
    "provider_for",
]

Handler = Callable[[httpx2.Request], httpx2.Response | Awaitable[httpx2.Response]]
DEFAULT_BASE_URL = "https://upstream.test/api"


@dataclass(frozen=True, slots=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


def _path_pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^{}]+\})", path)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "$")


class MockUpstream:
    """A fake API at `base_url` (its path is the base path routes are relative to)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL) -> None:
        self.base_url = base_url.rstrip("/")
        self.requests: list[httpx2.Request] = []
        self._base_path = httpx2.URL(self.base_url).raw_path.decode("ascii").rstrip("/")
        self._routes: list[_Route] = []
        self.transport = httpx2.MockTransport(self._handle)

    def route(self, method: str, path: str, handler: Handler | None = None, *, status: int = 200,
              json: Any = None, content: bytes | str | None = None,
              headers: Mapping[str, str] | None = None) -> None:
        """Answer `method path` (a pattern like `/pets/{id}`, matched against the percent-encoded path) with
        `handler(request)`, or with a response of `status`, `json` or `content`, and `headers`."""
        if handler is None:
            def handler(request: httpx2.Request) -> httpx2.Response:
                if json is not None:
                    return httpx2.Response(status, json=json, headers=headers)
                return httpx2.Response(status, content=content, headers=headers)
        self._routes.append(_Route(method.upper(), _path_pattern(path), handler))

    @property
    def last_request(self) -> httpx2.Request:
        if not self.requests:
            raise AssertionError("the upstream has received no request")
        return self.requests[-1]

    async def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        relative = path[len(self._base_path):] if path.startswith(self._base_path) else None
        for route in self._routes:
            if relative is not None and route.method == request.method and route.pattern.match(relative):
                response = route.handler(request)
                return response if isinstance(response, httpx2.Response) else await response
        return httpx2.Response(404, json={"error": f"no route for {request.method} {path}"})


def provider_for(package: RestPackage, upstream: MockUpstream, *, environ: Mapping[str, str] | None = None,
                 gate: CallGate | None = None, auth_for: AuthFactory | None = None, retry: RetryPolicy | None = None,
                 audit: AuditSink | None = None, clock: Clock = SYSTEM_CLOCK) -> RestProvider:
    """A provider for `package` whose calls go to `upstream`, timed on `clock`."""
    return RestProvider(
        package,
        environ={**(environ or {}), base_url_variable(package.connector): upstream.base_url},
        gate=gate if gate is not None else UnlimitedGate(),
        auth_for=auth_for if auth_for is not None else no_credentials,
        retry=retry if retry is not None else NeverRetry(),
        audit=audit if audit is not None else NoAudit(),
        transport=upstream.transport,
        clock=clock,
    )


@asynccontextmanager
async def connect(provider: ToolProvider) -> AsyncIterator[Client]:
    """An MCP client session with `build_server(provider)`, in process (no tools/list caching)."""
    async with Client(build_server(provider), cache=None) as client:
        yield client


def assert_tools_match_operations(package: RestPackage) -> None:
    """`tools.json` lists the package's operations, in order, and every entry is a valid MCP tool; a
    dynamic package's `operations.json` lists them all and `tools.json` those served directly."""
    names = [operation.tool for operation in package.operations]
    listed = [entry["name"] for entry in package.definitions()]
    if package.tools_mode == "dynamic":
        assert [entry["name"] for entry in package.catalog()["operations"]] == names
        assert listed == [name for name in names if name in set(listed)]
        assert len(SearchIndex(package.catalog()["index"])) == len(names)
    else:
        assert listed == names
    assert len(package.tools()) == len(listed)


def assert_schemas_match_models(package: RestPackage) -> None:
    """Each advertised inputSchema is exactly the JSON Schema of the input model that validates the call."""
    advertised = package.advertised_schemas()
    different = [
        operation.tool for operation in package.operations
        if package.input_model(operation).model_json_schema(by_alias=True, mode="validation")
        != advertised[operation.tool]
    ]
    assert not different, f"advertised input schemas differ from their models: {different}"

