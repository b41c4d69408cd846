"""Fixtures of the replicated mode's tests: a redis-server and a PostgreSQL of their own, on 127.0.0.1; the
fault server; oidc-provider and the API it protects (from the auth tests)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.auth.conftest import auth_server, expected, upstream  # noqa: F401  (oidc-provider and its API)
from tests.faultserver.process import faultserver  # noqa: F401  (the fixture)
from tests.stores.servers import PostgresServer, RedisServer, running


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    with running(RedisServer()) as server:
        yield server


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[PostgresServer]:
    with running(PostgresServer()) as server:
        yield server
