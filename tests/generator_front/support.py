"""Helpers of the generator front tests: small inline specs normalized in one call."""

from __future__ import annotations

from typing import Any

from specbridge.definition import RestDefinition, definition_from_data
from specbridge.diagnostics import Diagnostic, Level
from specbridge.ir import RestConnector, RestTool
from specbridge.normalize import NormalizeResult, normalize_rest
from specbridge.options import GenOptions


def oas3(paths: dict[str, Any], *, version: str = "3.0.3", **extra: Any) -> dict[str, Any]:
    return {"openapi": version, "info": {"title": "Test API", "version": "1.0.0"},
            "servers": [{"url": "https://api.example.com/v1"}], "paths": paths, **extra}


def swagger2(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "Test API", "version": "1.0.0"}, "host": "api.example.com",
            "basePath": "/v1", "schemes": ["https"], "paths": paths, **extra}


def normalize(document: dict[str, Any] | None, definition: dict[str, Any] | None = None, *,
              source: str = "spec.json", **options: Any) -> NormalizeResult:
    rest: RestDefinition | None = None
    if definition is not None:
        read = definition_from_data(definition, "definition.json")
        assert isinstance(read.definition, RestDefinition), read.diagnostics
        rest = read.definition
    options.setdefault("name", "test")
    return normalize_rest(rest, document, source, GenOptions(**options), definition_source="definition.json")


def connector(document: dict[str, Any] | None, definition: dict[str, Any] | None = None, **options: Any
              ) -> RestConnector:
    result = normalize(document, definition, **options)
    assert len(result.connectors) == 1, [d.render() for d in result.diagnostics]
    return result.connectors[0]


def tool(document: dict[str, Any], name: str | None = None, **options: Any) -> RestTool:
    tools = connector(document, **options).tools
    return tools[0] if name is None else next(t for t in tools if t.name == name)


def messages(diagnostics: tuple[Diagnostic, ...], level: Level | None = None) -> list[str]:
    return [d.message for d in diagnostics if level is None or d.level is level]


def op(**fields: Any) -> dict[str, Any]:
    """An operation with a 200 response unless given."""
    return {"responses": {"200": {"description": "ok"}}, **fields}
