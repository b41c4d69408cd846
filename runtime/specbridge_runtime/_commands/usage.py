"""`usage`: calls, error rate and p50/p95 latency per tool, from the audit (SPECBRIDGE_AUDIT's store)."""

from __future__ import annotations

import argparse
import datetime
import json
import time
from typing import TYPE_CHECKING

from .._mechanisms.anomalies import BASELINE_PERIODS, unusual
from .._mechanisms.audit import store_from_env
from .._mechanisms.usage import parse_since, summarize, usage_table

if TYPE_CHECKING:
    from ._context import CliContext

DEFAULT_SINCE = "1d"


def _since(text: str) -> float:
    moment = parse_since(text, time.time())
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a span back from now (90s, 30m, 1h, 1d, 2w) nor an ISO date (2024-05-01)")
    return moment


def _audited(cli: CliContext) -> tuple[str, list[str]]:
    """The server's name, and the connector names its calls are audited under: a gateway's calls are recorded
    by each of its connectors (those it refused itself, under its own name)."""
    if cli.package is not None:
        return cli.package.name, [cli.package.name]
    from .._assembly.gateway import connector_names
    from .._providers.gateway import GatewayProvider

    provider = cli.provider()
    if isinstance(provider, GatewayProvider):
        members = connector_names(provider.config, provider.path.parent, read_definition=None)
        return provider.name, [provider.name, *sorted(members)]
    return provider.name, [provider.name]


class UsageCommand:
    name = "usage"
    help = "show calls, error rate and latency (p50, p95) per tool, from the audit, and unusual activity"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--since", type=_since, default=DEFAULT_SINCE, metavar="WHEN",
                            help="from when: a span back from now (30m, 1h, 1d, 2w) or an ISO date or date-time "
                                 f"(local time unless it names a zone); default {DEFAULT_SINCE}")
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        try:
            store = store_from_env(cli.environ)
        except ValueError as error:
            cli.note(f"{cli.prog}: {error}")
            return 1
        if store is None:
            cli.note(f"{cli.prog}: auditing is off (SPECBRIDGE_AUDIT=off), so there are no usage figures")
            return 1
        connector, audited = _audited(cli)
        since: float = args.since
        baseline_start = since - BASELINE_PERIODS * max(time.time() - since, 0.0)
        try:
            calls = [call for name in audited for call in store.calls(name, baseline_start)]
        finally:
            store.close()
        period = [call for call in calls if call.time >= since]
        usage = summarize(period)
        flagged = unusual(period, [call for call in calls if call.time < since])
        since_text = datetime.datetime.fromtimestamp(since).astimezone().isoformat(timespec="seconds")
        if args.json:
            cli.print(json.dumps({"connector": connector, "since": since_text, "tools": [
                {"tool": item.tool, "calls": item.calls, "errors": item.errors, "error_rate": item.error_rate,
                 "p50_ms": item.p50_ms, "p95_ms": item.p95_ms} for item in usage],
                "unusual": [{"kind": item.kind, "name": item.name, "reason": item.reason} for item in flagged]},
                indent=2))
        elif usage:
            cli.print(f"{connector}: calls since {since_text}\n{usage_table(usage)}")
            for item in flagged:
                cli.print(f"unusual: {item.kind} {item.name}: {item.reason} (the {BASELINE_PERIODS} periods before)")
        else:
            cli.print(f"{connector}: no calls recorded since {since_text}")
        return 0
