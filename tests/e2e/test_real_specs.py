"""Every real-world spec in ../shared/specs either becomes a package that a real MCP client can list
(valid tool names, valid JSON-Schema inputs), or fails with diagnostics that state a real defect of that
spec. Big specs are generated as one package (`--max-operations`), which is the harder case."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from mcp import Client, StdioServerParameters

from tests.e2e.conftest import run_specbridge
from tests.support import SHARED_SPECS

pytestmark = pytest.mark.corpus

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Specs with no usable operation: what generation must say instead of emitting a package.
EXPECTED_FAILURES = {
    # OpenAPI 3.1 allows a document with only webhooks; there is nothing to call.
    "oai-v3.1-webhook-example.json": "no operations",
}


def manifest_files() -> list[str]:
    manifest = SHARED_SPECS / "MANIFEST.json"
    if not manifest.exists():
        return []
    return [entry["file"] for entry in json.loads(manifest.read_text())]


@pytest.mark.slow
@pytest.mark.parametrize("spec", manifest_files())
async def test_real_spec_generates_a_listable_server(spec: str, tmp_path: Path) -> None:
    out = tmp_path / "pkg"
    generated = run_specbridge("gen", str(SHARED_SPECS / spec), "-o", str(out), "--name", "real",
                               "--max-operations", "5000")
    if spec in EXPECTED_FAILURES:
        assert generated.returncode == 1
        assert EXPECTED_FAILURES[spec] in generated.stderr.lower()
        assert "Traceback" not in generated.stderr
        return
    assert generated.returncode == 0, generated.stderr[-3000:]

    params = StdioServerParameters(
        command=sys.executable, args=["-m", "real_mcp"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": str(tmp_path)},
    )
    async with Client(params, cache=None) as client:
        tools = (await client.list_tools()).tools
    assert tools
    names = [tool.name for tool in tools]
    assert len(set(names)) == len(names)
    for tool in tools:
        assert TOOL_NAME.match(tool.name), tool.name
        Draft202012Validator.check_schema(tool.input_schema)
        assert tool.input_schema.get("type") == "object"
        if tool.output_schema is not None:
            Draft202012Validator.check_schema(tool.output_schema)
