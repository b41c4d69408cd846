"""`specbridge inspect SOURCE`: what `gen` would make of a source (tools, operations left out and why,
every diagnostic), without writing anything."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from ..diagnostics import Diagnostic
from ..pipeline import InspectResult, failed_strict, inspect
from ..render import tool_annotations
from . import EXIT_FAILED, EXIT_OK, count_levels, print_diagnostics, progress, version_option
from .gen import options_from, source_options


@click.command("inspect")
@click.argument("source", metavar="SOURCE")
@source_options
@click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout")
@version_option
def inspect_command(source: str, as_json: bool, **options: Any) -> int:
    """Show the tools SOURCE would give, what is left out and why; writes nothing."""
    result = inspect(source, options_from(options), cwd=Path.cwd(), progress=progress("inspect"))
    if as_json:
        print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
    else:
        _print_text(result)
        print_diagnostics(result.diagnostics)
    tools = sum(len(connector.tools) for connector in result.connectors)
    print(f"specbridge inspect: {len(result.connectors)} connector{'s' * (len(result.connectors) != 1)}, "
          f"{tools} tools; {count_levels(result.diagnostics)}", file=sys.stderr)
    failed = not result.connectors or (options["strict"] and failed_strict(result.diagnostics))
    return EXIT_FAILED if failed else EXIT_OK


def _print_text(result: InspectResult) -> None:
    for connector in result.connectors:
        listed = [tool for tool in connector.tools if tool.listed]
        if len(listed) == len(connector.tools):
            print(f"{connector.name}: {len(connector.tools)} tools")
        else:  # --tools dynamic: the operations below are reached through three tools
            print(f"{connector.name}: {len(connector.tools)} operations behind 3 tools (search, describe, call), "
                  f"{len(listed)} also direct tools")
        width = max((len(tool.name) for tool in connector.tools), default=0)
        for tool in connector.tools:
            hints = ", ".join(key.removesuffix("Hint") for key, on in tool_annotations(tool).items() if on)
            print(f"  {tool.name:<{width}}  {tool.method:<7} {tool.path}  [{hints}]  "
                  f"auth: {_auth_text(connector.auth_of(tool))}")
        if connector.skipped:
            print(f"  left out ({len(connector.skipped)}):")
        for skipped in connector.skipped:
            print(f"    {skipped.method.upper()} {skipped.path}: {skipped.reason}")


def _as_json(result: InspectResult) -> dict[str, Any]:
    return {
        "connectors": [
            {
                "name": connector.name,
                "tools": [
                    {"name": tool.name, "method": tool.method, "path": tool.path, "title": tool.title,
                     "annotations": tool_annotations(tool), "listed": tool.listed,
                     "auth": [list(names) for names in connector.auth_of(tool)]}
                    for tool in connector.tools
                ],
                "skipped": [asdict(skipped) for skipped in connector.skipped],
            }
            for connector in result.connectors
        ],
        "diagnostics": [_diagnostic(d) for d in result.diagnostics],
    }


def _auth_text(alternatives: tuple[tuple[str, ...], ...]) -> str:
    """`basic`, `key+tenant` (together), `a | b` (the first whose credentials are stored), `| none` (optional)."""
    return " | ".join("+".join(names) if names else "none" for names in alternatives) or "none"


def _diagnostic(diagnostic: Diagnostic) -> dict[str, str]:
    return {"level": diagnostic.level.value, "code": diagnostic.code, "message": diagnostic.message,
            "location": diagnostic.location, "source": diagnostic.source}
