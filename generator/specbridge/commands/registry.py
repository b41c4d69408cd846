"""`specbridge registry search TEXT`: the servers of the MCP Registry whose name matches, with their
versions and how each can be run (package kinds) or reached (remote transports). `specbridge registry show
FILE`: a server.json (such as the one `specbridge gen` writes in every package) checked against the
registry's schema, and what it says."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..diagnostics import has_errors
from ..registry_client import REGISTRY_URL_ENV, RegistryClient
from ..registry_client import registry_url as registry_url_of
from ..registry_file import read_server_file
from ..server_json import SCHEMA_VERSION, ServerDetail, ServerResponse
from . import EXIT_FAILED, EXIT_OK, count_levels, print_diagnostics, version_option


@click.group("registry")
@version_option
def registry_group() -> None:
    """Search the MCP Registry; read a server.json back."""


@registry_group.command("search")
@click.argument("text", metavar="TEXT")
@click.option("--registry-url", metavar="URL",
              help=f"the registry's base URL (default: ${REGISTRY_URL_ENV}, else the official registry)")
@click.option("--json", "as_json", is_flag=True, help="print the registry's entries as JSON")
@click.option("--limit", type=click.IntRange(min=1), default=30, metavar="N", help="at most N servers (default 30)")
@click.option("--all-versions", is_flag=True, help="every version, not only the latest")
@version_option
def search_command(text: str, registry_url: str | None, as_json: bool, limit: int, all_versions: bool) -> int:
    """List the servers whose name matches TEXT (e.g. github), with their versions."""
    base_url = registry_url_of(registry_url)
    with RegistryClient(base_url) as client:
        result = client.search(text, limit=limit, latest_only=not all_versions)
    if as_json:
        entries = [entry.model_dump(mode="json", by_alias=True, exclude_none=True) for entry in result.servers]
        print(json.dumps(entries, indent=2, ensure_ascii=False))
    else:
        _print_table(result.servers)
    print_diagnostics(result.diagnostics)
    count = len(result.servers)
    print(f"specbridge registry search: {count} server{'s' * (count != 1)} at {base_url}; "
          f"{count_levels(result.diagnostics)}", file=sys.stderr)
    return EXIT_FAILED if has_errors(result.diagnostics) else EXIT_OK


@registry_group.command("show")
@click.argument("file", metavar="FILE")
@click.option("--json", "as_json", is_flag=True, help="print the server.json as read")
@version_option
def show_command(file: str, as_json: bool) -> int:
    """Check FILE (a server.json, e.g. generated/NAME/server.json) against the registry's schema and show it."""
    read = read_server_file(file, cwd=Path.cwd())
    if read.server is not None and as_json:
        print(json.dumps(read.document, indent=2, ensure_ascii=False))
    elif read.server is not None:
        _print_server(read.server)
    print_diagnostics(read.diagnostics)
    state = "valid" if not has_errors(read.diagnostics) else "not valid"
    print(f"specbridge registry show: {file} is {state} against the server.json schema {SCHEMA_VERSION}; "
          f"{count_levels(read.diagnostics)}", file=sys.stderr)
    return EXIT_FAILED if has_errors(read.diagnostics) or read.server is None else EXIT_OK


def _print_server(server: ServerDetail) -> None:
    print(f"{server.name} {server.version}: {_one_line(server.description)}")
    for package in server.packages:
        print(f"  {package.registry_type} {package.identifier} {package.version or ''} ({package.transport.type})")
        for variable in package.environment_variables:
            flags = ", ".join(flag for flag, on in (("required", variable.is_required), ("secret", variable.is_secret))
                              if on)
            print(f"    {variable.name}{f' ({flags})' if flags else ''}: {_one_line(variable.description)}")
    for remote in server.remotes:
        print(f"  remote {remote.type} {remote.url or ''}")


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
