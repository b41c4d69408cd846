"""PostgreSQL (`SPECBRIDGE_DATABASE_URL`), where the replicated mode keeps what must last: the audit's
calls of every replica (`specbridge_calls`) and the vault's sealed secrets (`specbridge_secrets`).

The schema is versioned: `specbridge_schema` holds the version, and `migrate` applies the missing steps
of `MIGRATIONS` in order, in one transaction under an advisory lock, so replicas starting together
upgrade it once. A database newer than this runtime is refused rather than written to.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

from .._core.errors import StoreError, StoreUnavailable
from .._core.seams import CallRecord
from .vault_rows import RowWriter, Sealed

DATABASE_URL_ENV = "SPECBRIDGE_DATABASE_URL"

# One entry per schema version: the statements that upgrade the version before it.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        "CREATE TABLE specbridge_calls (id BIGSERIAL PRIMARY KEY, time DOUBLE PRECISION NOT NULL,"
        " connector TEXT NOT NULL, tool TEXT NOT NULL, status TEXT NOT NULL, http_status INTEGER,"
        " latency_ms DOUBLE PRECISION NOT NULL, bytes_out BIGINT NOT NULL, bytes_in BIGINT NOT NULL,"
        " retries INTEGER NOT NULL, arguments_hash TEXT NOT NULL, arguments_size BIGINT NOT NULL, arguments TEXT,"
        " caller TEXT)",
        "CREATE INDEX specbridge_calls_connector_time ON specbridge_calls (connector, time)",
        "CREATE INDEX specbridge_calls_time ON specbridge_calls (time)",
    ),
    (
        "CREATE TABLE specbridge_secrets (connector TEXT NOT NULL, name TEXT NOT NULL, key_id TEXT NOT NULL,"
        " nonce BYTEA NOT NULL, ciphertext BYTEA NOT NULL, updated_at DOUBLE PRECISION NOT NULL,"
        " PRIMARY KEY (connector, name))",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
PURGE_BATCH = 5000
PURGE_BATCHES = 100  # per purge: what is left goes at the next one
_FIELDS = ("time", "connector", "tool", "status", "http_status", "latency_ms", "bytes_out", "bytes_in", "retries",
           "arguments_hash", "arguments_size", "arguments", "caller")
_COLUMNS = sql.SQL(", ").join(sql.Identifier(field) for field in _FIELDS)
_INSERT = sql.SQL("INSERT INTO specbridge_calls ({}) VALUES ({})").format(
    _COLUMNS, sql.SQL(", ").join(sql.Placeholder() for _ in _FIELDS))
_SELECT = sql.SQL("SELECT {} FROM specbridge_calls WHERE connector = %s AND time >= %s ORDER BY time").format(_COLUMNS)
_CONNECT_TIMEOUT_S = 5


def describe(url: str) -> str:
    """The database's address without its password, for messages."""
    parts = urlsplit(url)
    return f"PostgreSQL at {parts.hostname or 'localhost'}{f':{parts.port}' if parts.port else ''}{parts.path}"


def connect(url: str) -> psycopg.Connection[Any]:
    """A connection with the schema at this runtime's version; raises `StoreError` naming the database."""
    try:
        db = psycopg.connect(url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=True)
    except psycopg.Error as error:
        raise StoreError(f"{describe(url)} cannot be reached: {_first_line(error)}") from None
    try:
        migrate(db, url)
    except BaseException:
        db.close()
        raise
    return db


def migrate(db: psycopg.Connection[Any], url: str) -> int:
    """Bring the schema to `SCHEMA_VERSION`; the version found before."""
    try:
        with db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(hashtext('specbridge schema'))")
            db.execute("CREATE TABLE IF NOT EXISTS specbridge_schema (version INTEGER NOT NULL)")
            row = db.execute("SELECT version FROM specbridge_schema").fetchone()
            found = int(row[0]) if row else 0
            if found > SCHEMA_VERSION:
                raise StoreError(f"{describe(url)} has specbridge schema version {found}, newer than this runtime's "
                                 f"({SCHEMA_VERSION}): upgrade specbridge-runtime on this replica")
            for steps in MIGRATIONS[found:]:
                for statement in steps:
                    db.execute(sql.SQL(statement))  # fixed statements of this module
            if row is None:
                db.execute("INSERT INTO specbridge_schema (version) VALUES (%s)", (SCHEMA_VERSION,))
            elif found < SCHEMA_VERSION:
                db.execute("UPDATE specbridge_schema SET version = %s", (SCHEMA_VERSION,))
            return found
    except psycopg.Error as error:
        raise StoreError(f"{describe(url)}: the schema could not be checked: {_first_line(error)}") from None


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0][:200]


class PostgresCallStore:
    """The audit's `CallStore` in PostgreSQL: written by the audit's writer thread (its own connection),
    read by `usage`. Failures raise `StoreError`; the writer keeps the records and tries again."""

    shared = True

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = describe(url)
        self._db: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._db is None or self._db.closed:
            self._db = connect(self.url)
        return self._db

    def _failed(self, what: str, error: psycopg.Error) -> StoreError:
        if self._db is not None:
            self._db.close()
            self._db = None  # reconnect next time
        return StoreError(f"{self.name}: {what}: {_first_line(error)}")

    def write(self, calls: Sequence[CallRecord]) -> None:
        db = self._connection()
        try:
            with db.transaction(), db.cursor() as cursor:
                cursor.executemany(_INSERT, [tuple(getattr(call, field) for field in _FIELDS) for call in calls])
        except psycopg.Error as error:
            raise self._failed("call records not stored", error) from None

    def purge(self, before: float) -> None:
        """Delete what is older than `before` in bounded batches (a short lock each), at most `PURGE_BATCHES`."""
        db = self._connection()
        try:
            for _ in range(PURGE_BATCHES):
                deleted = db.execute(
                    "DELETE FROM specbridge_calls WHERE id IN (SELECT id FROM specbridge_calls WHERE time < %s"
                    " ORDER BY id LIMIT %s)", (before, PURGE_BATCH)).rowcount
                if deleted < PURGE_BATCH:
                    return
        except psycopg.Error as error:
            raise self._failed("old records not deleted", error) from None

    def calls(self, connector: str, since: float) -> Iterator[CallRecord]:
        db = self._connection()
        try:
            rows = db.execute(_SELECT, (connector, since)).fetchall()
        except psycopg.Error as error:
            raise self._failed("the audit cannot be read", error) from None
        for row in rows:
            yield CallRecord(*row)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class _PostgresWriter:
    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self.db = db

    def put(self, connector: str, name: str, sealed: Sealed, updated_at: float) -> None:
        self.db.execute(
            "INSERT INTO specbridge_secrets VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (connector, name) DO UPDATE"
            " SET key_id = EXCLUDED.key_id, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext,"
            " updated_at = EXCLUDED.updated_at",
            (connector, name, sealed.key_id, sealed.nonce, sealed.ciphertext, updated_at))

    def remove(self, connector: str, name: str) -> bool:
        return self.db.execute("DELETE FROM specbridge_secrets WHERE connector = %s AND name = %s",
                               (connector, name)).rowcount > 0

    def sealed_otherwise(self, kid: str) -> list[tuple[str, str, Sealed]]:
        rows = self.db.execute("SELECT connector, name, key_id, nonce, ciphertext FROM specbridge_secrets"
                               " WHERE key_id != %s FOR UPDATE", (kid,)).fetchall()
        return [(connector, name, Sealed(key, bytes(nonce), bytes(text))) for connector, name, key, nonce, text in rows]

    def replace_sealed(self, connector: str, name: str, sealed: Sealed) -> None:
        self.db.execute("UPDATE specbridge_secrets SET key_id = %s, nonce = %s, ciphertext = %s WHERE connector = %s"
                        " AND name = %s", (sealed.key_id, sealed.nonce, sealed.ciphertext, connector, name))


class PostgresRows:
    """The vault's sealed rows in `specbridge_secrets`, shared by every replica (the master key must then be
    the same everywhere: `SPECBRIDGE_MASTER_KEY`). A database that cannot be used raises `StoreUnavailable`
    naming it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = describe(url)
        self._db: psycopg.Connection[Any] | None = None
        self._lock = threading.Lock()  # one connection, used by one thread at a time

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        with self._lock:
            try:
                if self._db is None or self._db.closed:
                    self._db = connect(self.url)
                yield self._db
            except StoreError as error:
                raise StoreUnavailable(f"The vault's database cannot be used: {error}") from None
            except psycopg.Error as error:
                if self._db is not None:
                    self._db.close()
                    self._db = None
                raise StoreUnavailable(f"The vault's database ({self.where}) cannot be used: "
                                       f"{_first_line(error)}") from None

    def exists(self) -> bool:
        return True  # the table is made with the schema; reading it creates nothing

    def read(self, connector: str, name: str) -> Sealed | None:
        with self._connection() as db:
            row = db.execute("SELECT key_id, nonce, ciphertext FROM specbridge_secrets WHERE connector = %s"
                             " AND name = %s", (connector, name)).fetchone()
        return Sealed(row[0], bytes(row[1]), bytes(row[2])) if row is not None else None

    def all_of(self, connector: str) -> list[tuple[str, Sealed, float]]:
        with self._connection() as db:
            rows = db.execute("SELECT name, key_id, nonce, ciphertext, updated_at FROM specbridge_secrets"
                              " WHERE connector = %s ORDER BY name", (connector,)).fetchall()
        return [(name, Sealed(kid, bytes(nonce), bytes(text)), updated) for name, kid, nonce, text, updated in rows]

    def everything(self) -> list[tuple[str, str, Sealed, float]]:
        with self._connection() as db:
            rows = db.execute("SELECT connector, name, key_id, nonce, ciphertext, updated_at FROM specbridge_secrets"
                              " ORDER BY connector, name").fetchall()
        return [(connector, name, Sealed(kid, bytes(nonce), bytes(text)), updated)
                for connector, name, kid, nonce, text, updated in rows]

    def key_other_than(self, kid: str) -> str | None:
        with self._connection() as db:
            row = db.execute("SELECT key_id FROM specbridge_secrets WHERE key_id != %s LIMIT 1", (kid,)).fetchone()
        return str(row[0]) if row is not None else None

    def uses_key(self, kid: str) -> bool:
        with self._connection() as db:
            found = db.execute("SELECT 1 FROM specbridge_secrets WHERE key_id = %s LIMIT 1", (kid,)).fetchone()
        return found is not None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RowWriter]:
        with self._connection() as db, db.transaction():
            yield _PostgresWriter(db)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
