"""Every real-world spec of ../shared/specs goes through load, validate and normalize without an exception,
and becomes as many tools as it has operations (or fails with a diagnostic that states a real defect).
Every schema that comes out is valid JSON Schema 2020-12."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from specbridge.diagnostics import Level
from specbridge.load import load_document
from specbridge.normalize import normalize_rest
from specbridge.options import GenOptions
from specbridge.validate import validate_openapi

from tests.support import SHARED_SPECS

pytestmark = pytest.mark.corpus

# Specs that cannot yield a tool, and what the error must say.
DEFECTS = {"oai-v3.1-webhook-example.json": "no operations: the document only has webhooks"}


def manifest() -> list[dict[str, Any]]:
    path = SHARED_SPECS / "MANIFEST.json"
    return json.loads(path.read_text()) if path.exists() else []


LOOSE_KEYS = frozenset({"title", "description", "properties", "items"})


def check_schemas(schemas: list[Any]) -> None:
    """Each distinct schema is valid JSON Schema 2020-12 (many arguments repeat: check each text once)."""
    for text in {json.dumps(schema, sort_keys=True) for schema in schemas}:
        Draft202012Validator.check_schema(json.loads(text))


def assert_loose(schema: Any) -> None:
    """Only what describes, nothing that constrains: any JSON object satisfies an output schema."""
    assert schema["type"] == "object" and set(schema) - {"type", "required"} <= LOOSE_KEYS
    stack = [schema.get("properties", {})]
    while stack:
        for sub in stack.pop().values():
            assert set(sub) <= LOOSE_KEYS, sub
            stack.append(sub.get("properties", {}))
            if "items" in sub:
                stack.append({"items": sub["items"]})


@pytest.mark.slow
@pytest.mark.parametrize("entry", manifest(), ids=lambda entry: entry["file"])
def test_real_spec(entry: dict[str, Any]) -> None:
    loaded = load_document(entry["file"], cwd=SHARED_SPECS)
    assert loaded.document is not None, [d.render() for d in loaded.diagnostics]
    diagnostics = list(loaded.diagnostics) + list(validate_openapi(loaded.document, entry["file"]))
    result = normalize_rest(None, loaded.document, entry["file"], GenOptions(name="real", max_operations=5000))
    diagnostics += result.diagnostics
    errors = [d.message for d in diagnostics if d.level is Level.ERROR]
    if entry["file"] in DEFECTS:
        assert result.connectors == ()
        assert any(DEFECTS[entry["file"]] in message for message in errors)
        return
    assert errors == []
    (connector,) = result.connectors
    assert len(connector.tools) == entry["operations"]
    assert len({tool.name for tool in connector.tools}) == len(connector.tools)
    check_schemas([argument.schema for tool in connector.tools for argument in tool.arguments]
                  + list(connector.components.values()))
    for tool in connector.tools:
        if tool.output_schema is not None:
            assert_loose(tool.output_schema)
