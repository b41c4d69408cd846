"""Where the vault's sealed rows are kept: one row per (connector, name) holding the key id, the nonce and
the ciphertext (`Sealed`), never a value in clear. `SqliteRows` is `$SPECBRIDGE_HOME/vault.db` (the
default); the replicated mode keeps them in PostgreSQL (`postgres.PostgresRows`). The vault does the
sealing; rows only store what it hands them."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .private import narrow, private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS secrets (
    connector TEXT NOT NULL,
    name TEXT NOT NULL,
    key_id TEXT NOT NULL,
    nonce BLOB NOT NULL,
    ciphertext BLOB NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (connector, name)
) WITHOUT ROWID
"""


@dataclass(frozen=True, slots=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class RowWriter(Protocol):
    """The rows inside one transaction."""

    def put(self, connector: str, name: str, sealed: Sealed, updated_at: float) -> None: ...

    def remove(self, connector: str, name: str) -> bool: ...

    def sealed_otherwise(self, kid: str) -> list[tuple[str, str, Sealed]]:
        """(connector, name, sealed) of every row not sealed with key `kid`."""
        ...

    def replace_sealed(self, connector: str, name: str, sealed: Sealed) -> None: ...


class SecretRows(Protocol):
    where: str  # the store, for messages

    def exists(self) -> bool:
        """Whether anything was ever stored (reading never creates the store)."""
        ...

    def read(self, connector: str, name: str) -> Sealed | None: ...

    def all_of(self, connector: str) -> list[tuple[str, Sealed, float]]:
        """(name, sealed, updated_at) of every row of `connector`, by name."""
        ...

    def key_other_than(self, kid: str) -> str | None:
        """The id of a key some row is sealed with that is not `kid`, if any."""
        ...

    def everything(self) -> list[tuple[str, str, Sealed, float]]:
        """(connector, name, sealed, updated_at) of every row, for a migration."""
        ...

    def uses_key(self, kid: str) -> bool: ...

    def transaction(self) -> AbstractContextManager[RowWriter]: ...

    def close(self) -> None: ...


def write_new_file(path: Path, data: bytes) -> None:
    """Create `path` (mode 0600) with `data`, durably, failing if it exists."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(descriptor, data)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class _SqliteWriter:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def put(self, connector: str, name: str, sealed: Sealed, updated_at: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO secrets VALUES (?, ?, ?, ?, ?, ?)",
                        (connector, name, sealed.key_id, sealed.nonce, sealed.ciphertext, updated_at))

    def remove(self, connector: str, name: str) -> bool:
        return self.db.execute("DELETE FROM secrets WHERE connector = ? AND name = ?", (connector, name)).rowcount > 0

    def sealed_otherwise(self, kid: str) -> list[tuple[str, str, Sealed]]:
        rows = self.db.execute("SELECT connector, name, key_id, nonce, ciphertext FROM secrets WHERE key_id != ?",
                               (kid,)).fetchall()
        return [(connector, name, Sealed(key, nonce, text)) for connector, name, key, nonce, text in rows]

    def replace_sealed(self, connector: str, name: str, sealed: Sealed) -> None:
        self.db.execute("UPDATE secrets SET key_id = ?, nonce = ?, ciphertext = ? WHERE connector = ? AND name = ?",
                        (sealed.key_id, sealed.nonce, sealed.ciphertext, connector, name))


class SqliteRows:
    """The rows in `home/vault.db` (WAL, synchronous writes), its files readable by their owner only."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / "vault.db"
        self.where = str(self.path)
        self._connection: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            private_file(self.path)  # 0600 before SQLite opens it; its -wal and -shm take the same mode
            connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute(_SCHEMA)
            narrow(Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            self._connection = connection
        return self._connection

    def exists(self) -> bool:
        return self.path.exists()

    def read(self, connector: str, name: str) -> Sealed | None:
        row = self._db().execute("SELECT key_id, nonce, ciphertext FROM secrets WHERE connector = ? AND name = ?",
                                 (connector, name)).fetchone()
        return Sealed(row[0], row[1], row[2]) if row is not None else None

    def all_of(self, connector: str) -> list[tuple[str, Sealed, float]]:
        rows = self._db().execute("SELECT name, key_id, nonce, ciphertext, updated_at FROM secrets WHERE connector = ?"
                                  " ORDER BY name", (connector,)).fetchall()
        return [(name, Sealed(kid, nonce, text), updated_at) for name, kid, nonce, text, updated_at in rows]

    def everything(self) -> list[tuple[str, str, Sealed, float]]:
        rows = self._db().execute("SELECT connector, name, key_id, nonce, ciphertext, updated_at FROM secrets"
                                  " ORDER BY connector, name").fetchall()
        return [(connector, name, Sealed(kid, nonce, text), updated) for connector, name, kid, nonce, text, updated
                in rows]

    def key_other_than(self, kid: str) -> str | None:
        row = self._db().execute("SELECT key_id FROM secrets WHERE key_id != ? LIMIT 1", (kid,)).fetchone()
        return str(row[0]) if row is not None else None

    def uses_key(self, kid: str) -> bool:
        return self._db().execute("SELECT 1 FROM secrets WHERE key_id = ? LIMIT 1", (kid,)).fetchone() is not None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[RowWriter]:
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield _SqliteWriter(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
