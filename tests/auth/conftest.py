"""Fixtures of the auth tests: a private SPECBRIDGE_HOME per test, a real authorization server
(oidc-provider from npm) and the project's own upstream that checks every auth method."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
import pytest
from specbridge_runtime._assembly.defaults import NeverRetry, UnlimitedGate
from specbridge_runtime._core.clock import SYSTEM_CLOCK, Clock
from specbridge_runtime._core.descriptors import AuthScheme, ConnectorSpec
from specbridge_runtime._core.seams import CallRecord
from specbridge_runtime._mechanisms.auth import build_auth_factory
from specbridge_runtime._mechanisms.secrets import Secrets
from specbridge_runtime._mechanisms.vault import Vault
from specbridge_runtime._providers.package import RestPackage
from specbridge_runtime._providers.rest import RestProvider

from tests.auth.upstream import Expected, ThreadedServer, build_app
from tests.support import REPO, free_port, generated_package, serving

# The auth tests' package, generated from its definition when the tests start.
AUTHDEMO = Path(__file__).parent / "specs" / "authdemo.json"
AUTHDEMO_SRC = generated_package(AUTHDEMO)

from authdemo_mcp.connector import PACKAGE as AUTHDEMO_PACKAGE  # noqa: E402

OPERATIONS = AUTHDEMO_PACKAGE.operations

CONNECTOR = "authdemo"
OIDC_SCRIPT = Path(__file__).with_name("oidc_server.mjs")
SHORT_TTL_S = 3

# Test-only client credentials of the authorization server's static clients.
CLIENTS: list[dict[str, Any]] = [
    {"client_id": "machine", "client_secret": "machine-secret-0123456789abcdef", "grant_types": ["client_credentials"],
     "response_types": [], "redirect_uris": [], "scope": "read write"},
    {"client_id": "reader", "client_secret": "reader-secret-0123456789abcdef", "grant_types": ["client_credentials"],
     "response_types": [], "redirect_uris": [], "scope": "read"},
    {"client_id": "app", "application_type": "native", "token_endpoint_auth_method": "none",
     "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
     "redirect_uris": ["http://127.0.0.1/callback"], "scope": "openid read write"},
    {"client_id": "short-app", "application_type": "native", "token_endpoint_auth_method": "none",
     "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
     "redirect_uris": ["http://127.0.0.1/callback"], "scope": "openid read write"},
    {"client_id": "upstream", "client_secret": "upstream-secret-0123456789abcdef", "grant_types": [],
     "response_types": [], "redirect_uris": []},
    {"client_id": "mcp-server", "client_secret": "mcp-server-secret-0123456789abcdef", "grant_types": [],
     "response_types": [], "redirect_uris": []},
]


def client_secret(client_id: str) -> str:
    return next(str(client["client_secret"]) for client in CLIENTS if client["client_id"] == client_id)


@dataclass(frozen=True)
class AuthServer:
    issuer: str

    def stats(self) -> dict[str, int]:
        return dict(httpx2.get(f"{self.issuer}/_stats", timeout=10).json())

    def token(self, client_id: str, scope: str = "read") -> str:
        response = httpx2.post(f"{self.issuer}/token", data={"grant_type": "client_credentials", "scope": scope},
                               auth=(client_id, client_secret(client_id)), timeout=10)
        response.raise_for_status()
        return str(response.json()["access_token"])


@pytest.fixture(scope="session")
def auth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuthServer]:
    config = tmp_path_factory.mktemp("oidc") / "config.json"
    config.write_text(json.dumps({"clients": CLIENTS, "short_ttl_clients": ["short-app"], "short_ttl_s": SHORT_TTL_S}))
    node_modules = REPO / "node_modules" / "oidc-provider"
    if not node_modules.exists():
        pytest.fail(f"{node_modules} is missing: run `npm ci` in {REPO}")
    port = free_port()
    with serving(["node", str(OIDC_SCRIPT), str(port), str(config)], port, cwd=REPO,
                 env={"PATH": "/usr/bin:/bin:/usr/local/bin", "NODE_MODULES_DIR": str(REPO)}):
        yield AuthServer(f"http://127.0.0.1:{port}")


@pytest.fixture(scope="session")
def authdemo_cli(auth_server: AuthServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """authdemo generated with this session's authorization server as its OAuth issuer, for the package's own
    processes (not put on this process's path); its source folder."""
    definition = json.loads(AUTHDEMO.read_text())
    for scheme in definition["auth"]:
        if scheme["type"] == "oauth2":
            scheme["issuer_url"] = auth_server.issuer
    path = tmp_path_factory.mktemp("authdemo") / "authdemo.json"
    path.write_text(json.dumps(definition))
    return generated_package(path, on_path=False)


@pytest.fixture(scope="session")
def expected(auth_server: AuthServer) -> Expected:
    return Expected(introspection_url=f"{auth_server.issuer}/token/introspection",
                    introspection_client=("upstream", client_secret("upstream")))


@pytest.fixture(scope="session")
def upstream(expected: Expected) -> Iterator[str]:
    with ThreadedServer(build_app(expected)) as server:
        yield server.url


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "specbridge-home"


@pytest.fixture
def environ(home: Path) -> dict[str, str]:
    """The environment a server of the test sees: its own SPECBRIDGE_HOME, nothing else."""
    return {"SPECBRIDGE_HOME": str(home)}


@pytest.fixture
def vault(home: Path, environ: dict[str, str]) -> Iterator[Vault]:
    opened = Vault(home, environ=environ)
    yield opened
    opened.close()


@pytest.fixture
def secrets(vault: Vault, environ: dict[str, str]) -> Secrets:
    return Secrets(CONNECTOR, vault, environ)


class Records:
    """An `AuditSink` keeping what it is given."""

    def __init__(self) -> None:
        self.calls: list[CallRecord] = []

    def record(self, call: CallRecord) -> None:
        self.calls.append(call)


def connector(base_url: str, *schemes: AuthScheme, security: tuple[tuple[str, ...], ...] = (),
              headers: tuple[tuple[str, str], ...] = ()) -> ConnectorSpec:
    return ConnectorSpec(name=CONNECTOR, title="Auth demo", version="1.0.0", base_url=base_url, auth=schemes,
                         security=security, headers=headers)


def provider(spec: ConnectorSpec, secrets: Secrets, environ: Mapping[str, str],
             audit: Records | None = None, clock: Clock = SYSTEM_CLOCK) -> RestProvider:
    """The real REST call path with this project's auth, timed (OAuth token lifetimes too) on `clock`."""
    # The connector's security applies to every operation here (the CLI package gives the OAuth ones their own).
    operations = tuple(dataclasses.replace(operation, security=None) for operation in OPERATIONS)
    package = RestPackage(spec, operations, AUTHDEMO_PACKAGE.package)
    return RestProvider(package, environ=environ, gate=UnlimitedGate(),
                        auth_for=build_auth_factory(spec, secrets=secrets, clock=clock), retry=NeverRetry(),
                        audit=audit if audit is not None else Records(), clock=clock)


@contextlib.asynccontextmanager
async def started(spec: ConnectorSpec, secrets: Secrets, environ: Mapping[str, str],
                  clock: Clock = SYSTEM_CLOCK) -> AsyncIterator[RestProvider]:
    served = provider(spec, secrets, environ, clock=clock)
    await served.start()
    try:
        yield served
    finally:
        await served.stop()


async def call(spec: ConnectorSpec, secrets: Secrets, environ: Mapping[str, str], tool: str,
               clock: Clock = SYSTEM_CLOCK) -> types.CallToolResult:
    """One call of `tool` through a provider started for it."""
    async with started(spec, secrets, environ, clock) as served:
        return await served.call_tool(tool, {})


def text(result: types.CallToolResult) -> str:
    return " ".join(block.text for block in result.content if isinstance(block, types.TextContent))
