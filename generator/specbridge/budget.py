"""Input schemas within a budget. An agent pays for every tool's inputSchema in its context: a tool whose
schema is larger than the connector's budget (`input_schema_budget`, 16 KB of compact JSON by default) keeps
as many levels of nested objects as fit, and accepts the objects below as open objects with their
description (the API still checks them), with SB513 saying so."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from . import codes
from .diagnostics import Diagnostic, Level
from .ir import RestConnector
from .models import ModelsSource, emit_models, print_models
from .normalize.model_build import MAX_DEPTH, build_models, within_levels
from .normalize.model_ir import references
from .schemas import InputSchemas, input_schemas


def schema_size(schema: Mapping[str, Any]) -> int:
    """Bytes of a schema as compact JSON."""
    return len(json.dumps(schema, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))


def models_within_budget(connector: RestConnector, *, sample_order: Sequence[str] = (), source: str = "",
                         on_schema: Callable[[], None] | None = None) -> tuple[ModelsSource, InputSchemas]:
    """The connector's models and input schemas, tools over the budget cut down to fit (`on_schema`: called
    after each tool's schema, for progress)."""
    built = build_models(connector)
    emitted = print_models(built)
    schemas = input_schemas(emitted, sample_order=sample_order, source=source, on_schema=on_schema)
    budget = connector.input_schema_budget
    over = {tool: size for tool, schema in schemas.schemas.items() if (size := schema_size(schema)) > budget}
    if not over:
        return emitted, schemas
    uses: dict[str, frozenset[str]] = {
        model.name: frozenset().union(*(references(f.type) for f in model.fields)) for model in built.classes
    }
    levels = {tool: _fitting_levels(connector, tool, _object_levels(uses, built.input_models[tool])) for tool in over}
    emitted = print_models(within_levels(connector, built, levels))
    # Only the cut tools' schemas changed: the others keep their classes, names and so their schemas.
    cut = input_schemas(dataclasses.replace(emitted, input_models={t: built.input_models[t] for t in levels}),
                        source=source)
    schemas = dataclasses.replace(
        schemas, failed=(*schemas.failed, *cut.failed), diagnostics=(*schemas.diagnostics, *cut.diagnostics),
        schemas={tool: cut.schemas[tool] if tool in levels else schema for tool, schema in schemas.schemas.items()
                 if tool not in cut.failed})
    location = {tool.name: tool.location for tool in connector.tools}
    notes = tuple(
        Diagnostic(Level.WARNING, codes.INPUT_SCHEMA_BUDGET,
                   f"{tool}: input schema of {size} bytes is over the budget of {budget} "
                   f"(input_schema_budget); objects nested deeper than {levels[tool]} level(s) are accepted as open "
                   f"objects, now {schema_size(schemas.schemas[tool])} bytes", location[tool], source)
        for tool, size in over.items() if tool in schemas.schemas
    )
    return dataclasses.replace(emitted, diagnostics=emitted.diagnostics + notes), schemas


def _object_levels(uses: Mapping[str, frozenset[str]], input_class: str) -> int:
    """How many levels of classes lie below `input_class` (`uses`: class -> the classes its fields name);
    MAX_DEPTH for a recursive one."""
    frontier = uses[input_class]
    for level in range(MAX_DEPTH):
        if not frontier:
            return level
        frontier = frozenset().union(*(uses.get(name, frozenset()) for name in frontier))
    return MAX_DEPTH


def _fitting_levels(connector: RestConnector, tool: str, deepest: int) -> int:
    """The most levels of nested objects `tool`'s input schema keeps within the budget (0: only its own
    arguments are checked in full). Keeping `deepest` levels or more is the whole schema, which is over."""
    alone = dataclasses.replace(connector, tools=tuple(t for t in connector.tools if t.name == tool))
    fitting = 0
    for levels in range(1, deepest):
        schema = input_schemas(emit_models(alone, {tool: levels})).schemas.get(tool)
        if schema is None or schema_size(schema) > connector.input_schema_budget:
            break
        fitting = levels
    return fitting
