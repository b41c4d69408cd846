"""The audit in a real PostgreSQL: one table for every replica's calls, a versioned schema upgraded once,
retention as a bounded delete, and records kept while the database is down (calls refused meanwhile) and
stored when it is back."""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from specbridge_runtime._core.errors import StoreError, StoreUnavailable
from specbridge_runtime._core.seams import CallRecord
from specbridge_runtime._mechanisms import postgres
from specbridge_runtime._mechanisms.audit import BackgroundAudit, audit_from_env, store_from_env
from specbridge_runtime._mechanisms.postgres import SCHEMA_VERSION, PostgresCallStore, connect

from tests.stores.servers import PostgresServer, running


def record(connector: str, tool: str = "t", when: float | None = None) -> CallRecord:
    return CallRecord(time=time.time() if when is None else when, connector=connector, tool=tool, status="ok",
                      http_status=200, latency_ms=1.0, bytes_out=0, bytes_in=10, retries=0, arguments_hash="h",
                      arguments_size=2)


def test_the_schema_is_created_once_at_its_version(postgres_server: PostgresServer) -> None:
    with connect(postgres_server.url) as db:
        assert db.execute("SELECT version FROM specbridge_schema").fetchall() == [(SCHEMA_VERSION,)]
    with connect(postgres_server.url) as db:  # a second replica: nothing to do
        assert postgres.migrate(db, postgres_server.url) == SCHEMA_VERSION
        assert db.execute("SELECT count(*) FROM specbridge_schema").fetchone() == (1,)


def test_a_database_newer_than_the_runtime_is_refused(postgres_server: PostgresServer) -> None:
    with connect(postgres_server.url) as db:
        db.execute("UPDATE specbridge_schema SET version = %s", (SCHEMA_VERSION + 1,))
    try:
        with pytest.raises(StoreError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this runtime's"):
            connect(postgres_server.url)
    finally:
        with psycopg.connect(postgres_server.url, autocommit=True) as db:
            db.execute("UPDATE specbridge_schema SET version = %s", (SCHEMA_VERSION,))


def test_every_replicas_calls_are_in_one_audit(postgres_server: PostgresServer) -> None:
    connector = f"shop{uuid.uuid4().hex[:8]}"
    started = time.time()
    replicas = [BackgroundAudit(PostgresCallStore(postgres_server.url)) for _ in range(3)]
    for index in range(30):
        replicas[index % 3].record(record(connector, tool=f"t{index % 2}"))
    for audit in replicas:
        assert audit.flush()
        audit.close()
    store = store_from_env({"SPECBRIDGE_DATABASE_URL": postgres_server.url, "SPECBRIDGE_HOME": "/nonexistent"})
    assert isinstance(store, PostgresCallStore)
    try:
        calls = list(store.calls(connector, started))
    finally:
        store.close()
    assert len(calls) == 30 and {call.tool for call in calls} == {"t0", "t1"}


def test_retention_deletes_in_bounded_batches(postgres_server: PostgresServer,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postgres, "PURGE_BATCH", 100)
    monkeypatch.setattr(postgres, "PURGE_BATCHES", 2)
    connector = f"old{uuid.uuid4().hex[:8]}"
    store = PostgresCallStore(postgres_server.url)
    try:
        long_ago = time.time() - 90 * 86400
        store.write([record(connector, when=long_ago + index) for index in range(250)])
        store.write([record(connector) for _ in range(5)])
        store.purge(time.time() - 30 * 86400)  # two batches of 100: 50 old records are left for the next purge
        assert len(list(store.calls(connector, 0))) == 55
        store.purge(time.time() - 30 * 86400)
        assert len(list(store.calls(connector, 0))) == 5
    finally:
        store.close()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    with running(PostgresServer()) as server:
        yield server


def test_records_wait_while_the_database_is_down(own_postgres: PostgresServer) -> None:
    connector = f"down{uuid.uuid4().hex[:8]}"
    audit = BackgroundAudit(PostgresCallStore(own_postgres.url))
    audit.record(record(connector))
    assert audit.flush()
    own_postgres.stop()
    for _ in range(5):
        audit.record(record(connector))
    assert audit.flush()  # tried, failed, kept
    with pytest.raises(StoreUnavailable, match=f"PostgreSQL at 127.0.0.1:{own_postgres.port}/specbridge"):
        audit.check()  # the next call is refused before anything is sent
    with pytest.raises(StoreError, match=f"PostgreSQL at 127.0.0.1:{own_postgres.port}/specbridge cannot be reached"):
        connect(own_postgres.url)
    own_postgres.start()
    audit.record(record(connector))
    assert audit.flush()
    audit.check()  # back: calls are taken again
    audit.close()
    store = PostgresCallStore(own_postgres.url)
    try:
        assert len(list(store.calls(connector, 0))) == 7  # none acknowledged was lost
    finally:
        store.close()


async def test_a_wrapper_answers_once_its_call_is_stored_and_not_while_the_audit_is_down(
        postgres_server: PostgresServer) -> None:
    from specbridge_runtime._assembly.connectors import wrapper_provider
    from specbridge_runtime._core.descriptors import StdioUpstream, WrapperSpec

    from tests.support import REPO, free_port
    from tests.wrappers.conftest import UPSTREAM_MODULE

    upstream = StdioUpstream(command=sys.executable, args=("-m", UPSTREAM_MODULE), cwd=str(REPO),
                             env=(("UPSTREAM_SECRET", "env:UPSTREAM_TOKEN"),))
    spec = WrapperSpec(name=f"calc{uuid.uuid4().hex[:6]}", title="calc", version="1.0.0", upstream=upstream)
    environ = {"UPSTREAM_TOKEN": "token-0123456789", "SPECBRIDGE_DATABASE_URL": postgres_server.url}
    audit, _ = audit_from_env(environ)  # its own, closed here: no writer thread outlives the test
    assert isinstance(audit, BackgroundAudit)
    provider = wrapper_provider(spec, environ=environ, audit=audit)
    try:
        assert not (await provider.call_tool(f"{spec.name}_add", {"a": 1, "b": 2})).is_error
        store = PostgresCallStore(postgres_server.url)
        try:  # stored before the answer came back: no flush needed
            assert [call.tool for call in store.calls(spec.name, 0)] == [f"{spec.name}_add"]
        finally:
            store.close()
    finally:
        await provider.stop()
        audit.close()

    down = {**environ, "SPECBRIDGE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/specbridge"}
    audit, _ = audit_from_env(down)
    assert isinstance(audit, BackgroundAudit)
    provider = wrapper_provider(spec, environ=down, audit=audit)
    try:
        first = await provider.call_tool(f"{spec.name}_add", {"a": 1, "b": 2})  # made; its record waits
        refused = await provider.call_tool(f"{spec.name}_add", {"a": 1, "b": 2})
    finally:
        await provider.stop()
        audit.close()
    assert not first.is_error
    text = "".join(getattr(part, "text", "") for part in refused.content)
    assert refused.is_error and "The audit cannot store records, so no call is made" in text
