"""Unusual activity in the audit, as the connector docs ask ("monitor for unusual activity"): a tool or a
caller whose call rate, or error rate, over the period shown is far above its own baseline, the
`BASELINE_PERIODS` periods of the same length just before it. Too few calls flag nothing (`MIN_CALLS`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .._core.seams import CallRecord

BASELINE_PERIODS = 7
RATE_FACTOR = 3.0  # calls in the period above this many times the usual number per period
ERROR_RISE = 0.25  # error rate this much above the usual one
MIN_CALLS = 10


@dataclass(frozen=True, slots=True)
class Unusual:
    kind: str  # "tool" or "caller"
    name: str
    reason: str


def _counts(calls: Iterable[CallRecord]) -> dict[tuple[str, str], tuple[int, int]]:
    """(calls, errors) by ("tool", tool) and ("caller", caller)."""
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for call in calls:
        keys = [("tool", call.tool)] + ([("caller", call.caller)] if call.caller is not None else [])
        for key in keys:
            total, errors = found.get(key, (0, 0))
            found[key] = (total + 1, errors + (call.status != "ok"))
    return found


def unusual(period: Iterable[CallRecord], baseline: Iterable[CallRecord]) -> list[Unusual]:
    """What stands out in `period` against `baseline` (the `BASELINE_PERIODS` periods before it)."""
    before = _counts(baseline)
    flagged = []
    for (kind, name), (calls, errors) in sorted(_counts(period).items()):
        if calls < MIN_CALLS:
            continue
        usual_calls, usual_errors = before.get((kind, name), (0, 0))
        per_period = usual_calls / BASELINE_PERIODS
        reasons = []
        if calls > RATE_FACTOR * max(per_period, 1.0):
            reasons.append(f"{calls} calls, usually {per_period:.1f} in a period as long")
        error_rate, usual_rate = errors / calls, (usual_errors / usual_calls if usual_calls else 0.0)
        if error_rate - usual_rate >= ERROR_RISE:
            reasons.append(f"error rate {error_rate:.0%}, usually {usual_rate:.0%}")
        if reasons:
            flagged.append(Unusual(kind, name, "; ".join(reasons)))
    return flagged
