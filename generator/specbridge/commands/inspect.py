"""`specbridge inspect SOURCE`: what `gen` would make of a source (tools, operations left out and why,
every diagnostic), without writing anything."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic
from ..pipeline import InspectResult, failed_strict, inspect
from ..render import tool_annotations
from . import EXIT_FAILED, EXIT_OK, count_levels, print_diagnostics
from .gen import add_source_options, options_from


class InspectCommand:
    name = "inspect"
    help = "show the tools a source would give, what is left out and why; writes nothing"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("source", metavar="SOURCE", help="connector definition or OpenAPI document (file or URL)")
        add_source_options(parser)
        parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")

    def run(self, args: argparse.Namespace) -> int:
        result = inspect(args.source, options_from(args), cwd=Path.cwd())
        if args.json:
            print(json.dumps(_as_json(result), indent=2, ensure_ascii=False))
        else:
            _print_text(result)
            print_diagnostics(result.diagnostics)
        tools = sum(len(connector.tools) for connector in result.connectors)
        print(f"specbridge inspect: {len(result.connectors)} connector{'s' * (len(result.connectors) != 1)}, "
              f"{tools} tools; {count_levels(result.diagnostics)}", file=sys.stderr)
        failed = not result.connectors or (args.strict and failed_strict(result.diagnostics))
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
            print(f"  {tool.name:<{width}}  {tool.method:<7} {tool.path}  [{hints}]")
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
                     "annotations": tool_annotations(tool), "listed": tool.listed}
                    for tool in connector.tools
                ],
                "skipped": [asdict(skipped) for skipped in connector.skipped],
            }
            for connector in result.connectors
        ],
        "diagnostics": [_diagnostic(d) for d in result.diagnostics],
    }


def _diagnostic(diagnostic: Diagnostic) -> dict[str, str]:
    return {"level": diagnostic.level.value, "code": diagnostic.code, "message": diagnostic.message,
            "location": diagnostic.location, "source": diagnostic.source}
