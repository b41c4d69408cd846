"""`specbridge registry search TEXT`: the servers of the MCP Registry whose name matches, with their
versions and how each can be run (package kinds) or reached (remote transports)."""

from __future__ import annotations

import argparse
import json
import sys

from ..registry_client import REGISTRY_URL_ENV, RegistryClient, registry_url
from ..server_json import ServerResponse
from . import EXIT_FAILED, EXIT_OK, count_levels, print_diagnostics


def _positive(text: str) -> int:
    value = int(text) if text.isdigit() else 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of servers >= 1")
    return value


class RegistryCommand:
    name = "registry"
    help = "search the MCP Registry"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        search = actions.add_parser("search", help="list the servers whose name matches TEXT, with their versions")
        search.add_argument("--registry-url", metavar="URL",
                            help=f"the registry's base URL (default: ${REGISTRY_URL_ENV}, else the official registry)")
        search.add_argument("text", metavar="TEXT", help="part of the server name (e.g. github)")
        search.add_argument("--json", action="store_true", help="print the registry's entries as JSON")
        search.add_argument("--limit", type=_positive, default=30, metavar="N", help="at most N servers (default 30)")
        search.add_argument("--all-versions", action="store_true", help="every version, not only the latest")

    def run(self, args: argparse.Namespace) -> int:
        base_url = registry_url(args.registry_url)
        with RegistryClient(base_url) as client:
            result = client.search(args.text, limit=args.limit, latest_only=not args.all_versions)
        if args.json:
            entries = [entry.model_dump(mode="json", by_alias=True, exclude_none=True) for entry in result.servers]
            print(json.dumps(entries, indent=2, ensure_ascii=False))
        else:
            _print_table(result.servers)
        print_diagnostics(result.diagnostics)
        count = len(result.servers)
        print(f"specbridge registry search: {count} server{'s' * (count != 1)} at {base_url}; "
              f"{count_levels(result.diagnostics)}", file=sys.stderr)
        failed = any(d.level.value == "error" for d in result.diagnostics)
        return EXIT_FAILED if failed else EXIT_OK


def _print_table(entries: tuple[ServerResponse, ...]) -> None:
    rows = [(entry.server.name, entry.server.version, _runs(entry), _one_line(entry.server.description))
            for entry in entries]
    widths = [max((len(row[column]) for row in rows), default=0) for column in range(3)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}")


def _runs(entry: ServerResponse) -> str:
    kinds = [package.registry_type for package in entry.server.packages]
    kinds += [f"remote:{remote.type}" for remote in entry.server.remotes]
    return ",".join(dict.fromkeys(kinds)) or "-"


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= 80 else line[:79] + "…"
