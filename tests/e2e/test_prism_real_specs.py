"""Servers generated from a sample of the real-world specs in ../shared/specs, each called against a Prism
mock of the same spec with request validation on (`--errors`: a request that breaks the spec is a 422 and a
VALIDATOR line in Prism's log). Tools are called with arguments built from their advertised input schema
(`tests.examples`), at most `CALLS` a spec, chosen evenly over the sorted tool names; no request may violate
the spec. Credentials are what a user would give: secrets in the environment, OAuth tokens with `creds set`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters
from specbridge.options import GenOptions
from specbridge.pipeline import inspect
from specbridge_runtime.contract import fallback_env_name

from tests.e2e.conftest import run_specbridge
from tests.examples import ExampleError, example_arguments
from tests.support import SHARED_SPECS, free_port, node_tool, serving

# Quick to mock, different dialects and auth styles: Swagger 2 (httpbin, Slack's OAuth2 accessCode), OpenAPI
# 3.0 (implicit OAuth2 + API key, basic, OAuth2 authorization code, none) and 3.1.
SAMPLE = [
    "petstore3-swagger-api.yaml",
    "httpbin-0.10.4-spec.json",
    "oai-v3.0-petstore-expanded.json",
    "oai-v3.0-uspto.json",
    "readme-oas-examples-3.1-json-train-travel.json",
    "twilio-api-v2010.json",
    "spotify-fixed.yml",
    "slack-web-openapi-v2.json",
]
CALLS = 30
# Prism's violation report, as the error excerpt shows it (compact or spaced JSON)
RESPONSE_VIOLATION = re.compile(r'"location":\s*\["response"')
NAME = "real"
MASTER_KEY = "Q0hBTkdFTUVDSEFOR0VNRUNIQU5HRU1FQ0hBTkdFTUU="


def violations(log: Path) -> list[str]:
    lines = log.read_text(errors="replace").splitlines()
    return [line for line in lines if "VALIDATOR" in line and "passed the validation rules" not in line]


def evenly(names: list[str], count: int) -> list[str]:
    if len(names) <= count:
        return names
    return [names[index * len(names) // count] for index in range(count)]


def credentials(spec: Path, home: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Environment variables for every secret the connector reads, and (name, value) pairs to store with
    `creds set` for its OAuth2 schemes (an access token, as after `login`)."""
    connector = inspect(str(spec), GenOptions(name=NAME, max_operations=5000), cwd=home).connectors[0]
    assert connector.spec is not None
    env: dict[str, str] = {}
    stored: list[tuple[str, str]] = []
    for scheme in connector.spec.auth:
        for role, reference in scheme.secrets:
            if reference.startswith("vault:"):
                env[fallback_env_name(NAME, reference.removeprefix("vault:"))] = f"prism-{role}"
        if scheme.type == "oauth2":
            token_name = re.sub(r"[^a-z0-9]+", "_", scheme.name.lower()).strip("_") + "_oauth_token"
            stored.append((token_name, json.dumps({"access_token": "prism-token"})))
    return env, stored


@pytest.mark.slow
@pytest.mark.parametrize("spec_file", SAMPLE)
async def test_generated_tools_send_requests_the_spec_allows(spec_file: str, tmp_path: Path) -> None:
    spec = SHARED_SPECS / spec_file
    if not spec.exists():
        pytest.skip(f"{spec} is absent: the real-world specs live in ../shared/specs (see MANIFEST.json)")
    out = tmp_path / "pkg"
    generated = run_specbridge("gen", str(spec), "-o", str(out), "--name", NAME, "--max-operations", "5000")
    assert generated.returncode == 0, generated.stderr[-3000:]
    secrets, stored = credentials(spec, tmp_path)
    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(out / "src"), "SPECBRIDGE_HOME": str(tmp_path),
           "SPECBRIDGE_MASTER_KEY": MASTER_KEY, "REAL_BASE_URL": f"http://127.0.0.1:{port}", "REAL_MAX_RETRIES": "0",
           "SPECBRIDGE_AUDIT": "off", **secrets}
    for name, value in stored:
        subprocess.run([sys.executable, "-m", f"{NAME}_mcp", "creds", "set", name], input=value.encode(), env=env,
                       check=True, capture_output=True, timeout=60)
    log = tmp_path / "prism.log"
    command = [str(node_tool("prism")), "mock", str(spec), "--host", "127.0.0.1", "--port", str(port), "--errors"]
    made: list[str] = []
    unbuildable: list[str] = []
    failures: dict[str, str] = {}
    with log.open("wb") as sink, serving(command, port, timeout=90, stdout=sink, stderr=subprocess.STDOUT):
        params = StdioServerParameters(command=sys.executable, args=["-m", f"{NAME}_mcp"], env=env)
        async with Client(params, cache=None) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            for name in evenly(sorted(tools), CALLS):
                try:
                    arguments = example_arguments(tools[name].input_schema)
                except ExampleError:
                    unbuildable.append(name)
                    continue
                result = await client.call_tool(name, arguments)
                made.append(name)
                if result.is_error:
                    failures[name] = " ".join(block.text for block in result.content
                                              if isinstance(block, types.TextContent))
    assert unbuildable == []
    assert violations(log) == [], failures
    # Every call reached Prism and its request passed validation (so none went out without its credentials).
    assert log.read_text(errors="replace").count("The request passed the validation rules") == len(made) > 0
    # What Prism may still refuse is its own made-up response breaking the spec (the spec's examples or
    # schemas disagree) or a documented redirect; never the request.
    unexpected = {name: text for name, text in failures.items()
                  if not ("HTTP 500" in text and RESPONSE_VIOLATION.search(text)) and "HTTP 30" not in text}
    assert unexpected == {}
    assert all('"location":["request"' not in text for text in failures.values())
