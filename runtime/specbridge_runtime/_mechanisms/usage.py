"""Usage figures from the audit: per tool, the number of calls, the error rate and the p50/p95 latency."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from .._core.seams import CallRecord

_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)\s*$", re.IGNORECASE)
_SPAN_S = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


@dataclass(frozen=True, slots=True)
class ToolUsage:
    tool: str
    calls: int
    errors: int
    p50_ms: float
    p95_ms: float

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0


def parse_since(text: str, now: float) -> float | None:
    """The epoch time `text` means: a span back from `now` ("90s", "30m", "1h", "1d", "2w") or an ISO 8601
    date or date-time (local time unless it names a zone); None when it is neither."""
    span = _SPAN.match(text)
    if span is not None:
        return now - float(span.group(1)) * _SPAN_S[span.group(2).lower()]
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.astimezone().timestamp() if moment.tzinfo is None else moment.timestamp()


def percentile(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending, non-empty list."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summarize(calls: Iterable[CallRecord]) -> list[ToolUsage]:
    """One `ToolUsage` per tool, by tool name; errors are calls whose status is not "ok"."""
    latencies: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for call in calls:
        latencies.setdefault(call.tool, []).append(call.latency_ms)
        errors[call.tool] = errors.get(call.tool, 0) + (call.status != "ok")
    usage = []
    for tool in sorted(latencies):
        ordered = sorted(latencies[tool])
        usage.append(ToolUsage(tool, len(ordered), errors[tool], percentile(ordered, 0.5), percentile(ordered, 0.95)))
    return usage


def usage_table(usage: list[ToolUsage]) -> str:
    """The figures as an aligned text table, with a total line when there is more than one tool."""
    rows = [(item.tool, str(item.calls), f"{item.error_rate:.1%}", f"{item.p50_ms:.1f}", f"{item.p95_ms:.1f}")
            for item in usage]
    if len(usage) > 1:
        calls = sum(item.calls for item in usage)
        errors = sum(item.errors for item in usage)
        rows.append(("(all tools)", str(calls), f"{errors / calls:.1%}", "", ""))
    header = ("tool", "calls", "errors", "p50 ms", "p95 ms")
    widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
    lines = ["  ".join(cell.ljust(width) if column == 0 else cell.rjust(width)
                       for column, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [header, *rows]]
    return "\n".join(lines)
