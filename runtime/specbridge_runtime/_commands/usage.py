"""`usage`: calls, error rate and p50/p95 latency per tool, from the audit (SPECBRIDGE_AUDIT's store)."""

from __future__ import annotations

import argparse
import datetime
import json
import time

from .._mechanisms.audit import store_from_env
from .._mechanisms.usage import parse_since, summarize, usage_table
from ._context import CliContext

DEFAULT_SINCE = "1d"


def _since(text: str) -> float:
    moment = parse_since(text, time.time())
    if moment is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a span back from now (90s, 30m, 1h, 1d, 2w) nor an ISO date (2024-05-01)")
    return moment


class UsageCommand:
    name = "usage"
    help = "show calls, error rate and latency (p50, p95) per tool, from the audit"

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
        connector = cli.package.name if cli.package is not None else cli.provider().name
        since: float = args.since
        try:
            usage = summarize(store.calls(connector, since))
        finally:
            store.close()
        since_text = datetime.datetime.fromtimestamp(since).astimezone().isoformat(timespec="seconds")
        if args.json:
            cli.print(json.dumps({"connector": connector, "since": since_text, "tools": [
                {"tool": item.tool, "calls": item.calls, "errors": item.errors, "error_rate": item.error_rate,
                 "p50_ms": item.p50_ms, "p95_ms": item.p95_ms} for item in usage]}, indent=2))
        elif usage:
            cli.print(f"{connector}: calls since {since_text}\n{usage_table(usage)}")
        else:
            cli.print(f"{connector}: no calls recorded since {since_text}")
        return 0
