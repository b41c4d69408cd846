"""The audit: every record stored off the caller's path, in SQLite or JSON lines, nothing in clear that was
not opted in, old records deleted, and a broken disk never breaking a call."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from specbridge_runtime._core.seams import CallRecord
from specbridge_runtime._mechanisms.audit import (
    BackgroundAudit,
    JsonLinesStore,
    NoAudit,
    SqliteStore,
    arguments_digest,
    audit_from_env,
)

DAY = 86400.0


def record(tool: str = "shop_list_orders", *, when: float | None = None, status: str = "ok",
           latency_ms: float = 12.5, connector: str = "shop") -> CallRecord:
    digest, size, _ = arguments_digest({"status": "open"}, keep=False)
    return CallRecord(time=time.time() if when is None else when, connector=connector, tool=tool, status=status,
                      http_status=200 if status == "ok" else 404, latency_ms=latency_ms, bytes_out=10, bytes_in=250,
                      retries=1, arguments_hash=digest, arguments_size=size)


def test_arguments_are_a_hash_and_a_size_unless_kept() -> None:
    digest, size, text = arguments_digest({"b": 2, "a": "é"}, keep=False)
    assert text is None and len(digest) == 64 and size == len('{"a":"é","b":2}'.encode())
    assert arguments_digest({"a": "é", "b": 2}, keep=False)[0] == digest  # canonical: key order does not matter
    assert arguments_digest({"b": 2, "a": "é"}, keep=True)[2] == '{"a":"é","b":2}'


def test_sqlite_stores_every_field_in_wal_mode(tmp_path: Path) -> None:
    audit = BackgroundAudit(SqliteStore(tmp_path / "home" / "audit.db"))
    calls = [record(f"tool_{index}") for index in range(25)]
    for call in calls:
        audit.record(call)
    assert audit.flush()
    assert list(audit.store.calls("shop", 0)) == calls
    audit.close()
    db = sqlite3.connect(tmp_path / "home" / "audit.db")
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("SELECT count(*), count(arguments) FROM calls").fetchone() == (25, 0)
    assert (tmp_path / "home").stat().st_mode & 0o777 == 0o700


def test_records_older_than_the_retention_are_deleted_when_the_writer_starts(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "audit.db")
    store.write([record("old", when=time.time() - 8 * DAY), record("recent", when=time.time() - 6 * DAY)])
    store.close()
    audit = BackgroundAudit(store, retention_days=7)
    audit.record(record("new"))
    assert audit.flush()
    assert [call.tool for call in store.calls("shop", 0)] == ["recent", "new"]
    audit.close()


def test_no_writer_thread_until_the_first_record(tmp_path: Path) -> None:
    audit = BackgroundAudit(SqliteStore(tmp_path / "home" / "audit.db"))
    assert audit.flush()
    audit.close()
    assert not (tmp_path / "home").exists()
    audit.record(record())
    audit.close()
    audit.record(record())  # a record after close starts a new writer
    audit.close()
    assert len(list(audit.store.calls("shop", 0))) == 2


def test_json_lines_one_file_per_day_and_retention_by_day(tmp_path: Path) -> None:
    store = JsonLinesStore(tmp_path / "audit")
    old, recent = record("old", when=time.time() - 5 * DAY), record("recent")
    store.write([old, recent])
    files = sorted((tmp_path / "audit").glob("audit-*.jsonl"))
    assert len(files) == 2
    assert json.loads(files[1].read_text())["tool"] == "recent"
    audit = BackgroundAudit(store, retention_days=3)
    newest = record("newest")
    audit.record(newest)
    audit.close()
    assert [path.name for path in (tmp_path / "audit").glob("*.jsonl")] == [files[1].name]
    assert list(store.calls("shop", 0)) == [recent, newest]
    assert list(store.calls("other", 0)) == []


def test_records_made_in_a_burst_are_all_written_by_the_background_writer(tmp_path: Path) -> None:
    # What recording costs the caller is a benchmark figure (benchmarks/bench_calls.py), not a timed test.
    audit = BackgroundAudit(SqliteStore(tmp_path / "audit.db"))
    for index in range(2000):
        digest, size, _ = arguments_digest({"id": index, "status": "open"}, keep=False)
        audit.record(CallRecord(time.time(), "shop", "t", "ok", 200, 1.0, 10, 10, 0, digest, size))
    assert audit.flush()
    assert sum(1 for _ in audit.store.calls("shop", 0)) == 2000
    audit.close()


def test_a_failing_store_keeps_the_records_and_costs_no_call(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the audit folder should be")
    audit = BackgroundAudit(SqliteStore(blocker / "audit.db"))
    with caplog.at_level(logging.WARNING, logger="specbridge_runtime.audit"):
        audit.record(record())
        assert audit.flush()
        audit.close()
    assert "1 call record(s) not stored yet" in caplog.text and "1 call record(s) lost at shutdown" in caplog.text


def test_audit_is_chosen_by_the_environment(tmp_path: Path) -> None:
    sink, problems = audit_from_env({"SPECBRIDGE_AUDIT": "off"})
    assert isinstance(sink, NoAudit) and problems == ()
    sink, problems = audit_from_env({"SPECBRIDGE_HOME": str(tmp_path), "SPECBRIDGE_AUDIT": "jsonl",
                                     "SPECBRIDGE_AUDIT_RETENTION_DAYS": "2"})
    assert isinstance(sink, BackgroundAudit) and isinstance(sink.store, JsonLinesStore)
    assert sink.retention_days == 2 and sink.store.directory == tmp_path / "audit"
    sink.close()
    sink, problems = audit_from_env({"SPECBRIDGE_HOME": str(tmp_path), "SPECBRIDGE_AUDIT": "csv",
                                     "SPECBRIDGE_AUDIT_RETENTION_DAYS": "-1"})
    assert isinstance(sink, BackgroundAudit) and isinstance(sink.store, SqliteStore)
    assert sink.store.path == tmp_path / "audit.db" and len(problems) == 2
    sink.close()
