"""Usage figures: calls, error rate and latency percentiles per tool, over a chosen period."""

from __future__ import annotations

import datetime

import pytest
from specbridge_runtime._core.seams import CallRecord
from specbridge_runtime._mechanisms.usage import parse_since, percentile, summarize, usage_table

NOW = 1_700_000_000.0


def call(tool: str, latency_ms: float, status: str = "ok") -> CallRecord:
    return CallRecord(NOW, "shop", tool, status, 200, latency_ms, 0, 0, 0, "h", 0)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(value) for value in range(1, 101)]
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile([3.0], 0.95)) == (50, 95, 3)


def test_summary_per_tool() -> None:
    calls = [call("a", float(ms)) for ms in range(1, 21)] + [call("a", 500.0, "timeout"), call("b", 7.0, "http_404")]
    usage = summarize(calls)
    assert [(item.tool, item.calls, item.errors) for item in usage] == [("a", 21, 1), ("b", 1, 1)]
    assert (usage[0].p50_ms, usage[0].p95_ms) == (11, 20)
    assert usage[0].error_rate == pytest.approx(1 / 21) and usage[1].error_rate == 1
    table = usage_table(usage)
    assert table.splitlines()[0].split() == ["tool", "calls", "errors", "p50", "ms", "p95", "ms"]
    assert table.splitlines()[1].split() == ["a", "21", "4.8%", "11.0", "20.0"]
    assert table.splitlines()[-1].split() == ["(all", "tools)", "22", "9.1%"]


def test_since_spans_and_dates() -> None:
    assert parse_since("1h", NOW) == NOW - 3600
    assert parse_since("30m", NOW) == NOW - 1800
    assert parse_since("1d", NOW) == NOW - 86400
    utc_may = datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC).timestamp()
    assert parse_since("2024-05-01T00:00:00+00:00", NOW) == utc_may
    assert parse_since("2024-05-01", NOW) == datetime.datetime(2024, 5, 1).astimezone().timestamp()
    assert parse_since("yesterday", NOW) is None
