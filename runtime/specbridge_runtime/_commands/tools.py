"""`tools`: list the tools the server offers (name, title, HTTP method and path, annotations)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import mcp_types as types

    from .._core.seams import ToolProvider
    from ._context import CliContext

_HINTS = (("readOnlyHint", "read-only"), ("destructiveHint", "destructive"), ("idempotentHint", "idempotent"))


async def _listed(provider: ToolProvider) -> Sequence[types.Tool]:
    await provider.start()
    try:
        return await provider.list_tools()
    finally:
        await provider.stop()


class ToolsCommand:
    name = "tools"
    help = "list the tools this server offers"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args: argparse.Namespace, cli: CliContext) -> int:
        import anyio

        rows = [self._row(tool, cli) for tool in anyio.run(_listed, cli.provider())]
        if args.json:
            cli.print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        endpoints = [f"{row['method']} {row['path']}" if row["method"] else "" for row in rows]
        name_width = max([len(row["name"]) for row in rows] + [0])
        endpoint_width = max([len(endpoint) for endpoint in endpoints] + [0])
        for row, endpoint in zip(rows, endpoints, strict=True):
            hints = ", ".join(label for key, label in _HINTS if row["annotations"].get(key))
            cli.print(f"{row['name']:<{name_width}}  {endpoint:<{endpoint_width}}  {row['title']}"
                      + (f"  [{hints}]" if hints else ""))
        return 0

    def _row(self, tool: types.Tool, cli: CliContext) -> dict[str, Any]:
        package = cli.package
        operation = package.operation(tool.name) if package is not None else None
        annotations = tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else {}
        return {
            "name": tool.name,
            "title": tool.title or (tool.annotations.title if tool.annotations else None) or "",
            "method": operation.method if operation else None,
            "path": operation.path if operation else None,
            "annotations": annotations,
        }
