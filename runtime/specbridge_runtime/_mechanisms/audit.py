"""The audit of every call (the `AuditSink` seam): one `CallRecord` per call, written off the event loop.

`record()` only appends the record to a list; a writer thread stores batches in SQLite
(`$SPECBRIDGE_HOME/audit.db`, WAL, one table `calls` shared by every connector of the machine), in JSON
lines (`$SPECBRIDGE_HOME/audit/audit-YYYY-MM-DD.jsonl`, one file per UTC day) or, with
`SPECBRIDGE_DATABASE_URL`, in PostgreSQL shared by every replica, and deletes what is older than the
retention when it starts (with the first call) and every hour. A failing disk or database never fails a
call: the writer keeps the records (up to `MAX_UNSAVED`) and stores them when it can again.

Records hold no secret: a `CallRecord` has no headers, tokens or URLs, and its arguments only as a sha256
hash and a size unless the connector's definition opts in (`ConnectorSpec.audit_arguments`).

Environment: SPECBRIDGE_AUDIT=sqlite (default) | jsonl | postgresql (the default with
SPECBRIDGE_DATABASE_URL) | off, SPECBRIDGE_AUDIT_RETENTION_DAYS (default 30), SPECBRIDGE_HOME (default
~/.specbridge).
"""

from __future__ import annotations

import asyncio
import atexit
import collections
import contextlib
import dataclasses
import datetime
import functools
import hashlib
import json
import logging
import operator
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol

from .._core.clock import SYSTEM_CLOCK, Clock
from .._core.errors import StoreError, StoreUnavailable
from .._core.seams import AuditSink, CallRecord
from .private import narrow, open_private_append, private_dir, private_file
from .vault import specbridge_home

logger = logging.getLogger("specbridge_runtime.audit")

DEFAULT_RETENTION_DAYS: Final = 30.0
PURGE_EVERY_S: Final = 3600.0
# How often the writer stores what was recorded: at most this much is lost if the process is killed.
WRITE_EVERY_S: Final = 0.5
# Records kept while the store cannot take them; beyond this the oldest are dropped (logged).
MAX_UNSAVED: Final = 100_000
_DAY_S: Final = 86400.0
_FIELDS: Final = tuple(field.name for field in dataclasses.fields(CallRecord))
_values: Final = operator.attrgetter(*_FIELDS)  # a record's values in column order (astuple would deep-copy)


def arguments_digest(arguments: Mapping[str, Any], *, keep: bool) -> tuple[str, int, str | None]:
    """(sha256 hex, size in bytes, the arguments as JSON if `keep` else None) of canonical JSON arguments."""
    text = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    data = text.encode()
    return hashlib.sha256(data).hexdigest(), len(data), text if keep else None


class CallStore(Protocol):
    """Where records go: opened, written and purged by the writer thread only; read by `usage`. `shared`:
    every replica writes there (the audit then holds each call's answer until its record is stored)."""

    shared: bool

    def write(self, calls: Sequence[CallRecord]) -> None: ...

    def purge(self, before: float) -> None: ...

    def calls(self, connector: str, since: float) -> Iterator[CallRecord]: ...

    def close(self) -> None: ...


class SqliteStore:
    shared = False
    _SCHEMA = (
        "CREATE TABLE IF NOT EXISTS calls (id INTEGER PRIMARY KEY, time REAL NOT NULL, connector TEXT NOT NULL,"
        " tool TEXT NOT NULL, status TEXT NOT NULL, http_status INTEGER, latency_ms REAL NOT NULL,"
        " bytes_out INTEGER NOT NULL, bytes_in INTEGER NOT NULL, retries INTEGER NOT NULL,"
        " arguments_hash TEXT NOT NULL, arguments_size INTEGER NOT NULL, arguments TEXT, caller TEXT)",
        "CREATE INDEX IF NOT EXISTS calls_connector_time ON calls (connector, time)",
    )

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            private_file(self.path)  # 0600 before SQLite opens it; its -wal and -shm take the same mode
            db = sqlite3.connect(self.path, timeout=5.0, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            for statement in self._SCHEMA:
                db.execute(statement)
            narrow(Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            self._db = db
        return self._db

    def write(self, calls: Sequence[CallRecord]) -> None:
        db = self._connect()
        columns = ", ".join(_FIELDS)
        with db:  # one transaction per batch
            db.execute("BEGIN")
            db.executemany(f"INSERT INTO calls ({columns}) VALUES ({', '.join('?' * len(_FIELDS))})",  # noqa: S608
                           [_values(call) for call in calls])

    def purge(self, before: float) -> None:
        self._connect().execute("DELETE FROM calls WHERE time < ?", (before,))

    def calls(self, connector: str, since: float) -> Iterator[CallRecord]:
        if not self.path.exists():
            return
        # A connection of its own: the writer's belongs to the writer thread.
        with contextlib.closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=5.0)) as db:
            rows = db.execute(
                f"SELECT {', '.join(_FIELDS)} FROM calls WHERE connector = ? AND time >= ? ORDER BY time",  # noqa: S608
                (connector, since))
            for row in rows:
                yield CallRecord(*row)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


class JsonLinesStore:
    """One file of JSON lines per UTC day; retention deletes whole days."""

    shared = False

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, day: datetime.date) -> Path:
        return self.directory / f"audit-{day.isoformat()}.jsonl"

    def _days(self) -> Iterator[tuple[datetime.date, Path]]:
        for path in sorted(self.directory.glob("audit-*.jsonl")):
            try:
                yield datetime.date.fromisoformat(path.stem.removeprefix("audit-")), path
            except ValueError:
                continue  # not one of ours

    def write(self, calls: Sequence[CallRecord]) -> None:
        private_dir(self.directory)
        by_day: dict[datetime.date, list[str]] = {}
        for call in calls:
            line = json.dumps(dict(zip(_FIELDS, _values(call), strict=True)))
            by_day.setdefault(_utc_day(call.time), []).append(line + "\n")
        for day, lines in by_day.items():
            with open_private_append(self._file(day)) as file:
                file.writelines(lines)

    def purge(self, before: float) -> None:
        cutoff = _utc_day(before)
        for day, path in self._days():
            if day < cutoff:
                path.unlink(missing_ok=True)

    def calls(self, connector: str, since: float) -> Iterator[CallRecord]:
        if not self.directory.is_dir():
            return
        for day, path in self._days():
            if day < _utc_day(since):
                continue
            with path.open(encoding="utf-8") as file:
                for line in file:
                    try:
                        fields = json.loads(line)
                        call = CallRecord(**{name: fields[name] for name in _FIELDS})
                    except (ValueError, KeyError, TypeError):
                        continue  # a line cut short by a crash
                    if call.connector == connector and call.time >= since:
                        yield call

    def close(self) -> None:
        return None


def _utc_day(epoch: float) -> datetime.date:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).date()


class _Flush:
    """A marker among the pending records: set once everything recorded before it is written."""

    def __init__(self) -> None:
        self.done = threading.Event()


class _Settle:
    """A marker an event loop awaits: resolved once everything recorded before it was stored (True), or the
    store failed to take it (False)."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[bool] = self.loop.create_future()

    def resolve(self, stored: bool) -> None:
        self.loop.call_soon_threadsafe(self._set, stored)

    def _set(self, stored: bool) -> None:
        if not self.future.done():  # the waiting call may have been cancelled
            self.future.set_result(stored)


_STOP: Final = object()


class _Writer:
    """One writer thread and what it drains: records are appended without waking it (a deque append is
    atomic and costs the caller nothing), and it wakes every `WRITE_EVERY_S`, or at once for a flush."""

    def __init__(self, run: Callable[[_Writer], None]) -> None:
        self.pending: collections.deque[object] = collections.deque()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=run, args=(self,), name="specbridge-audit", daemon=True)

    def send(self, marker: object) -> None:
        self.pending.append(marker)
        self.wake.set()

    def take(self, wait_s: float) -> list[object]:
        """Everything pending, after at most `wait_s` seconds."""
        self.wake.wait(max(wait_s, 0.0))
        self.wake.clear()
        items = []
        while True:
            try:
                items.append(self.pending.popleft())
            except IndexError:
                return items


class BackgroundAudit:
    """The `AuditSink`: `record()` appends to a list that a writer thread (started by the first record) stores
    in one transaction every `WRITE_EVERY_S`; so a call never waits for the disk, nor wakes a thread. The
    writer deletes what is older than the retention (on `clock`) when it starts and every hour."""

    def __init__(self, store: CallStore, *, retention_days: float = DEFAULT_RETENTION_DAYS,
                 clock: Clock = SYSTEM_CLOCK) -> None:
        self.store = store
        self.retention_days = retention_days
        self.clock = clock
        self.down: str | None = None  # why the store did not take the last batch; None once it does
        self._lock = threading.Lock()
        self._writer: _Writer | None = None

    def record(self, call: CallRecord) -> None:
        writer = self._writer or self._start()
        writer.pending.append(call)

    def flush(self, timeout: float = 10.0) -> bool:
        """Write every record so far now; False if that took longer than `timeout`."""
        writer = self._writer
        if writer is None:
            return True
        marker = _Flush()
        writer.send(marker)
        return marker.done.wait(timeout)

    def check(self) -> None:
        """`DurableAudit`: refuse a call while the store does not take records."""
        if self.down is not None:
            raise StoreUnavailable(f"The audit cannot store records, so no call is made: {self.down}")

    async def settled(self) -> None:
        """`DurableAudit`: return once every record so far is stored (one write for all who wait meanwhile);
        if the store fails, the records are kept for later and the failure is logged, not raised: the call
        it records was made."""
        writer = self._writer
        if writer is None:
            return
        marker = _Settle()
        writer.send(marker)
        await marker.future

    def close(self) -> None:
        """Write what is pending and stop the writer (a later record starts a new one)."""
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.send(_STOP)
            writer.thread.join(timeout=10.0)
            atexit.unregister(self.close)

    def _start(self) -> _Writer:
        with self._lock:
            if self._writer is None:
                self._writer = _Writer(self._run)
                self._writer.thread.start()
                atexit.register(self.close)  # what is pending is written before the process exits
            return self._writer

    def _run(self, writer: _Writer) -> None:
        next_purge = 0.0
        stopping = False
        unsaved: list[CallRecord] = []
        while not stopping:
            now = self.clock.time()
            if now >= next_purge:
                next_purge = now + PURGE_EVERY_S
                cutoff = now - self.retention_days * _DAY_S
                _attempt("old records not deleted", functools.partial(self.store.purge, cutoff))
            items = writer.take(min(WRITE_EVERY_S, next_purge - now))
            unsaved += [item for item in items if isinstance(item, CallRecord)]
            if unsaved:
                # Logged when the store fails and when it takes records again, not at every retry.
                failure = _attempt(f"{len(unsaved)} call record(s) not stored yet",
                                   functools.partial(self.store.write, unsaved), quiet=self.down is not None)
                if failure is None and self.down is not None:
                    logger.warning("audit: the store takes records again (%d stored)", len(unsaved))
                self.down = failure
                if failure is None:
                    unsaved = []
            if len(unsaved) > MAX_UNSAVED:
                logger.error("audit: %d call record(s) dropped: the store has not taken any for too long",
                             len(unsaved) - MAX_UNSAVED)
                del unsaved[:-MAX_UNSAVED]
            for item in items:
                if isinstance(item, _Flush):
                    item.done.set()
                elif isinstance(item, _Settle):
                    item.resolve(not unsaved)
            stopping = _STOP in items
        if unsaved:
            logger.error("audit: %d call record(s) lost at shutdown: the store could not take them", len(unsaved))
        self.store.close()


def _attempt(failure: str, action: Callable[[], None], *, quiet: bool = False) -> str | None:
    """Run a store action; a failing disk or database is returned (and logged unless `quiet`), and the writer
    goes on."""
    try:
        action()
    except (sqlite3.Error, OSError, StoreError) as error:
        if not quiet:
            logger.warning("audit: %s: %s", failure, error)
        return str(error)
    return None


class NoAudit:
    """The audit when SPECBRIDGE_AUDIT=off."""

    def record(self, call: CallRecord) -> None:
        return None


def store_from_env(environ: Mapping[str, str]) -> CallStore | None:
    """The store SPECBRIDGE_AUDIT selects (None for "off"); raises ValueError on an unknown value or a missing
    database URL or driver."""
    database_url = environ.get("SPECBRIDGE_DATABASE_URL", "").strip()
    kind = environ.get("SPECBRIDGE_AUDIT", "").strip().lower() or ("postgresql" if database_url else "sqlite")
    home = specbridge_home(environ)
    if kind in ("postgresql", "postgres"):
        if not database_url:
            raise ValueError("SPECBRIDGE_AUDIT=postgresql needs SPECBRIDGE_DATABASE_URL=postgresql://...")
        try:
            from .postgres import PostgresCallStore
        except ImportError:
            raise ValueError("SPECBRIDGE_DATABASE_URL is set but psycopg is not installed: "
                             "pip install 'specbridge-runtime[postgres]'") from None
        return PostgresCallStore(database_url)
    if kind == "sqlite":
        return SqliteStore(home / "audit.db")
    if kind == "jsonl":
        return JsonLinesStore(home / "audit")
    if kind == "off":
        return None
    raise ValueError(f"SPECBRIDGE_AUDIT={kind!r}: expected sqlite, jsonl, postgresql or off")


def audit_from_env(environ: Mapping[str, str] = os.environ,
                   clock: Clock = SYSTEM_CLOCK) -> tuple[AuditSink, tuple[str, ...]]:
    """The audit sink the environment selects, and a message for each invalid setting (its default used)."""
    problems: list[str] = []
    try:
        store = store_from_env(environ)
    except ValueError as error:
        problems.append(f"{error}; auditing to SQLite")
        store = store_from_env({**environ, "SPECBRIDGE_AUDIT": "sqlite"})
    retention = DEFAULT_RETENTION_DAYS
    text = environ.get("SPECBRIDGE_AUDIT_RETENTION_DAYS")
    if text is not None:
        try:
            retention = float(text)
            if not retention > 0:
                raise ValueError(text)
        except ValueError:
            problems.append(f"SPECBRIDGE_AUDIT_RETENTION_DAYS={text!r} is ignored: expected days > 0 "
                            f"(default {DEFAULT_RETENTION_DAYS:g})")
            retention = DEFAULT_RETENTION_DAYS
    sink: AuditSink = NoAudit() if store is None else BackgroundAudit(store, retention_days=retention, clock=clock)
    return sink, tuple(problems)
