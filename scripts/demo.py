"""The main job, end to end: generate an MCP server from httpbin's own OpenAPI description, install it
with pip, start httpbin on 127.0.0.1, and let a real MCP client (the mcp SDK's) list and call its tools
over stdio. Run through `bash scripts/demo.sh`, which sets everything up first."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import mcp_types as types
from mcp import Client, StdioServerParameters

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = REPO / "build" / "demo" / "httpbin"

sys.path.insert(0, str(REPO))
from tests.support import HTTPBIN_SERVER, free_port, serving  # noqa: E402


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def show(result: types.CallToolResult) -> str:
    if result.structured_content is not None:
        return json.dumps(result.structured_content, indent=2)[:600]
    return "\n".join(getattr(block, "text", f"<{block.type} content>") for block in result.content)[:600]


async def talk_to(server: StdioServerParameters) -> None:
    async with Client(server, cache=None) as client:
        tools = (await client.list_tools()).tools
        print(f"tools/list: {len(tools)} tools, e.g. " + ", ".join(tool.name for tool in tools[:5]))
        calls: list[tuple[str, dict[str, object]]] = [
            ("httpbin_echo_json", {"item": "widget", "quantity": 2, "trace": "demo", "X-Trace-Id": "42"}),
            ("httpbin_get_status_codes", {"codes": "404"}),
        ]
        for name, arguments in calls:
            result = await client.call_tool(name, arguments)
            state = "error result" if result.is_error else "ok"
            print(f"\ntools/call {name} {json.dumps(arguments)} -> {state}\n{show(result)}")


def main() -> None:
    step("specbridge gen specs/httpbin.json -o build/demo/httpbin")
    shutil.rmtree(OUT, ignore_errors=True)
    generated = subprocess.run([str(BIN / "specbridge"), "gen", "specs/httpbin.json", "-o", str(OUT)], cwd=REPO,
                               capture_output=True, text=True, check=False)
    # httpbin's spec has a few dozen real defects (see `specbridge inspect specs/httpbin.json`): show the summary.
    print(generated.stdout + generated.stderr.strip().splitlines()[-1])
    if generated.returncode != 0:
        sys.exit(generated.stderr)

    step("pip install ./build/demo/httpbin")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", str(OUT)], check=True)

    port = free_port()
    step(f"httpbin (PyPI) on 127.0.0.1:{port}; httpbin-mcp over stdio, driven by the mcp SDK client")
    with serving([sys.executable, "-c", HTTPBIN_SERVER, str(port)], port), tempfile.TemporaryDirectory() as home:
        env = {"PATH": os.environ["PATH"], "SPECBRIDGE_HOME": home, "SPECBRIDGE_LOG_LEVEL": "WARNING",
               "HTTPBIN_BASE_URL": f"http://127.0.0.1:{port}"}
        asyncio.run(talk_to(StdioServerParameters(command=str(BIN / "httpbin-mcp"), args=[], env=env)))
    print("\nDone: the generated package is in build/demo/httpbin; `httpbin-mcp --help` shows its commands.")


if __name__ == "__main__":
    main()
