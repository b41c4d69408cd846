"""Fixtures of the limits tests: the fault server (own process) and the fault API package (generated from
`specs/faultapi.json` when the tests start) served by a real MCP server, reached by a real MCP client."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.server.lowlevel import Server
from specbridge_runtime._assembly.defaults import no_credentials
from specbridge_runtime._core.clock import SYSTEM_CLOCK, Clock
from specbridge_runtime._core.descriptors import Limits
from specbridge_runtime._core.stores import RateStore
from specbridge_runtime._mechanisms.audit import BackgroundAudit, SqliteStore
from specbridge_runtime._mechanisms.limits import LimitGate
from specbridge_runtime._mechanisms.retry import BackoffRetry
from specbridge_runtime._mechanisms.server import build_server
from specbridge_runtime._providers.package import RestPackage
from specbridge_runtime._providers.rest import RestProvider

from tests.faultserver.process import FaultServerProcess, faultserver  # noqa: F401  (the fixture)
from tests.support import generated_package

FAULTAPI_SRC = generated_package(Path(__file__).parent / "specs" / "faultapi.json")

from faultapi_mcp.connector import PACKAGE  # noqa: E402

# Small, so every fault test is bounded: calls time out after 1 s, at most 2 retries backing off from 50 ms.
TEST_LIMITS = Limits(timeout_s=1.0, queue_timeout_s=5.0, max_retries=2, max_retry_wait_s=3.0)


@dataclasses.dataclass
class Served:
    """A connected MCP client, the server it is connected to (more clients may connect), the provider behind
    it and the provider's audit."""

    client: Client
    server: Server[Any]
    provider: RestProvider
    audit: BackgroundAudit

    async def call(self, tool: str, **arguments: Any) -> types.CallToolResult:
        return await self.client.call_tool(tool, arguments)


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(item.text for item in result.content if isinstance(item, types.TextContent))


ServeFactory = Callable[..., AbstractAsyncContextManager[Served]]


@pytest.fixture
def fast_io() -> str:
    """The provider's `SPECBRIDGE_FAST_IO` (a test module may run on both values by overriding this)."""
    return "1"


@pytest.fixture
def serve(faultserver: FaultServerProcess, tmp_path: Path, fast_io: str) -> ServeFactory:  # noqa: F811
    """`async with serve(limits, base_url=..., audit_arguments=..., clock=..., rates=...) as served`: the fault API
    package, served, its limits, retries and timeouts on `clock`, its rate buckets in `rates` (its own by
    default; servers given one store share them), its HTTP client as `SPECBRIDGE_FAST_IO=<fast_io>` picks."""

    @asynccontextmanager
    async def serving(limits: Limits = TEST_LIMITS, *, base_url: str | None = None, audit_arguments: bool = False,
                      clock: Clock = SYSTEM_CLOCK, rates: RateStore | None = None) -> AsyncIterator[Served]:
        connector = dataclasses.replace(PACKAGE.connector, limits=limits, audit_arguments=audit_arguments)
        package = RestPackage(connector, PACKAGE.operations, PACKAGE.package)
        audit = BackgroundAudit(SqliteStore(tmp_path / "audit.db"))
        provider = RestProvider(package, environ={"FAULTAPI_BASE_URL": base_url or faultserver.url,
                                                        "SPECBRIDGE_FAST_IO": fast_io},
                                gate=LimitGate("faultapi", limits, rates=rates, clock=clock), auth_for=no_credentials,
                                retry=BackoffRetry(max_retries=limits.max_retries, max_wait_s=limits.max_retry_wait_s,
                                                   base_s=0.05, clock=clock),
                                audit=audit, limits=limits, clock=clock)
        try:
            server = build_server(provider)
            async with Client(server, cache=None) as client:
                yield Served(client, server, provider, audit)
        finally:
            audit.close()

    return serving
