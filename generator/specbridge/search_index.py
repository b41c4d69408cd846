"""`operations.json` of a `--tools dynamic` package: every operation the three meta-tools reach, with its
description and input schema (for `<name>_describe_operation`) and the search index the runtime ranks
them with (`specbridge_runtime.contract.build_index`, computed here once instead of at every start)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from specbridge_runtime.contract import OperationText, build_index

from .escape import json_line
from .ir import RestTool
from .schemas import InputSchemas

OPERATIONS_FILE = "operations.json"
MAX_CHOICES = 20  # enum values indexed per argument


def operation_text(tool: RestTool) -> OperationText:
    """What the search index reads of a tool."""
    return OperationText(
        name=tool.name, operation_id=tool.operation_id, method=tool.method, path=tool.path, summary=tool.title,
        description=tool.description, tags=tool.tags,
        parameters=tuple(word for argument in tool.arguments for word in (argument.name, *_choices(argument.schema))),
        deprecated=tool.deprecated,
    )


def _choices(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The words an argument may take (its enum's strings): an `event` of APPROVE says what the call can do."""
    enum = schema.get("enum")
    items = schema.get("items")
    if not isinstance(enum, list) and isinstance(items, Mapping):
        enum = items.get("enum")
    return tuple(value for value in enum if isinstance(value, str))[:MAX_CHOICES] if isinstance(enum, list) else ()


def operations_json(tools: Sequence[RestTool], schemas: InputSchemas) -> str:
    """The operations file: `operations` in the index's document order, then `index`."""
    operations: list[dict[str, Any]] = []
    for tool in tools:
        entry: dict[str, Any] = {"name": tool.name, "method": tool.method, "path": tool.path,
                                 "summary": tool.title}
        if tool.description:
            entry["description"] = tool.description
        entry["inputSchema"] = schemas.schemas[tool.name]
        operations.append(entry)
    index = build_index([operation_text(tool) for tool in tools])
    lines = [json_line(entry) for entry in operations]
    # One operation per line (readable in a diff), the index compact at the end.
    return ('{"operations":[\n' + ",\n".join(lines) + '\n],\n"index":'
            + json.dumps(index, separators=(",", ":")) + "}\n")
