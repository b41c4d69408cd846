"""Replicas of the fault API package, each its own process serving streamable HTTP with its own
SPECBRIDGE_HOME, sharing the stores named in their environment; and callers spread over them round-robin."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.limits.conftest import FAULTAPI_SRC
from tests.support import REPO, free_port, installed_package, serving

FAULTAPI_DEFINITION = REPO / "tests" / "limits" / "specs" / "faultapi.json"

FAULTAPI = [sys.executable, "-m", "faultapi_mcp"]  # the fault API package, generated when the tests start
SERVER = [*FAULTAPI, "serve", "--transport", "http", "--no-auth"]


def package_environ(home: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of a fault API process with `home` as its SPECBRIDGE_HOME, plus `environ`; the
    package is installed (with its entry point, for a gateway) and importable."""
    path = [str(installed_package(FAULTAPI_DEFINITION)), str(FAULTAPI_SRC), str(REPO)]
    return {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": os.pathsep.join(path), "SPECBRIDGE_HOME": str(home),
            **environ}


@dataclass
class Replica:
    url: str
    home: Path
    process: subprocess.Popen[bytes]


GATEWAY_YAML = "name: team\nconcurrency: 10\nconnectors:\n  - package: faultapi\n"


def gateway_command(base: Path) -> list[str]:
    """`specbridge-gateway` serving the fault API package (installed, found by its entry point) over HTTP."""
    (base / "gateway.yaml").write_text(GATEWAY_YAML)
    return [sys.executable, "-c", "from specbridge_runtime._gateway_cli import main; main()",
            str(base / "gateway.yaml"), "serve", "--transport", "http", "--no-auth"]


@contextmanager
def replicas(count: int, base: Path, environ: Mapping[str, str],
             command: Sequence[str] = SERVER) -> Iterator[list[Replica]]:
    """`count` replicas of `command` (the fault API package's server by default), each with its own home
    under `base`, with `environ` (the stores, the limits)."""
    with ExitStack() as stack:
        started = []
        for index in range(count):
            home = base / f"replica-{index}"
            port = free_port()
            process = stack.enter_context(serving([*command, "--port", str(port)], port,
                                                  env=package_environ(home, environ), cwd=REPO))
            started.append(Replica(f"http://127.0.0.1:{port}/mcp", home, process))
        yield started


async def round_robin(urls: list[str], callers: int, calls: int, tool: str,
                      arguments: Mapping[str, str]) -> dict[str, types.CallToolResult]:
    """`calls` calls of `tool` by `callers` concurrent MCP clients, client i on replica i mod len(urls);
    each call's arguments carry its own `id`. The results by id."""
    results: dict[str, types.CallToolResult] = {}

    async def caller(index: int) -> None:
        http = httpx2.AsyncClient(timeout=120)
        async with Client(streamable_http_client(urls[index % len(urls)], http_client=http)) as client:
            await client.list_tools()  # once: the client checks each result against the cached output schema
            for number in range(index, calls, callers):
                call_id = f"call-{number}"
                results[call_id] = await client.call_tool(tool, {**arguments, "id": call_id})

    async with anyio.create_task_group() as group:
        for index in range(callers):
            group.start_soon(caller, index)
    return results
