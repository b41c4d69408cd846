"""An expired OAuth token seen by three replicas at once (each its own home and vault connection, sharing
the vault in PostgreSQL and a lock in Redis), against oidc-provider with refresh-token rotation: 20
concurrent calls cause exactly one refresh, so no refresh token is presented twice (rotation would revoke
the family and the calls would fail)."""

from __future__ import annotations

import base64
import dataclasses
import os
import time
from pathlib import Path

import anyio
from specbridge_runtime._assembly.connectors import rest_provider
from specbridge_runtime._assembly.state import state_for
from specbridge_runtime._mechanisms.oauth.client import OAuthClient
from specbridge_runtime._mechanisms.secrets import Secrets
from specbridge_runtime._providers.package import RestPackage

from tests.auth.conftest import AUTHDEMO_PACKAGE, CONNECTOR, OPERATIONS, AuthServer, connector, text
from tests.auth.test_oauth import app_scheme, counted, login, replace_token
from tests.stores.servers import PostgresServer, RedisServer


async def test_one_refresh_for_three_replicas_and_twenty_calls(auth_server: AuthServer, upstream: str,
                                                                redis_server: RedisServer,
                                                                postgres_server: PostgresServer,
                                                                tmp_path: Path) -> None:
    shared = {"SPECBRIDGE_DATABASE_URL": postgres_server.fresh_database(), "SPECBRIDGE_REDIS_URL": redis_server.url,
              "SPECBRIDGE_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(), "SPECBRIDGE_AUDIT": "off"}
    environs = [{**shared, "SPECBRIDGE_HOME": str(tmp_path / f"replica-{index}")} for index in range(3)]
    scheme = app_scheme(auth_server.issuer)
    first = Secrets(CONNECTOR, environ=environs[0])
    first.store("app_client_id", "app")
    await login(OAuthClient(scheme, first))
    replace_token(first, "app", expires_at=time.time() - 1)  # every replica sees it expired
    refreshes = counted(auth_server.stats(), "refresh_token")

    spec = connector(upstream, scheme, security=(("app",),))
    package = RestPackage(spec, tuple(dataclasses.replace(operation, security=None) for operation in OPERATIONS),
                          AUTHDEMO_PACKAGE.package)
    providers = [rest_provider(package, environ=environ, secrets=Secrets(CONNECTOR, environ=environ))
                 for environ in environs]
    results = []

    async def call(index: int) -> None:
        results.append(await providers[index % 3].call_tool("authdemo_oauth_read", {}))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as group:
            for index in range(20):
                group.start_soon(call, index)
    for provider in providers:
        await provider.stop()
    assert [text(result) for result in results if result.is_error] == []
    assert counted(auth_server.stats(), "refresh_token") == refreshes + 1
    # This process's replicas share one state: its metrics count the one refresh.
    metrics = state_for(environs[0]).metrics.text().decode()
    assert f'specbridge_token_refreshes_total{{connector="{CONNECTOR}",scheme="app"}} 1.0' in metrics
