"""Per-call overhead and throughput of a generated specbridge server, against a direct httpx2 call to the
same upstream and against FastMCP 4.1.6 `FastMCP.from_openapi` on the same spec and upstream, in one run.

    bash benchmarks/setup.sh        # once: the project plus FastMCP 4.1.6 (see benchmarks/requirements.txt)
    python benchmarks/bench_calls.py [--calls 3000] [--concurrency 10] [--skip-fastmcp]

- Upstream: a minimal asyncio HTTP/1.1 server on 127.0.0.1 in its own process; `GET /items/{item_id}`
  answers small JSON (no framework, so the upstream is not what is measured).
- Servers run over stdio in their own processes, driven by a minimal JSON-RPC client (this process), so the
  figures are the servers' and not an MCP client library's. specbridge runs as `specbridge gen` emits it,
  with its defaults (limits on, audit to SQLite in a temporary SPECBRIDGE_HOME).
- Overhead: p50/p99 of sequential `tools/call` round trips minus p50/p99 of the same request sent directly
  with an httpx2 client (keep-alive) from this process; and, to tell the runtime's share from the MCP
  SDK's (JSON-RPC dispatch, stdio transport), the generated package's provider called in this process.
- Throughput: calls per second with `--concurrency` calls outstanding, over `--calls` calls, and the server
  process's CPU time per call (user + system, all threads), which other load on the machine disturbs less.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

BIN = Path(sys.executable).parent
WARMUP = 200

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Bench", "version": "1.0.0"},
    "paths": {"/items/{item_id}": {"get": {
        "operationId": "getItem",
        "summary": "Get one item",
        "parameters": [{"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                       {"name": "fields", "in": "query", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "The item", "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}, "price": {"type": "number"}},
        }}}}},
    }}},
}

# A raw asyncio HTTP/1.1 upstream (keep-alive, no framework) so the upstream is never the bottleneck.
UPSTREAM = r"""
import asyncio, json, re, sys

ITEM = re.compile(rb"^GET /items/(\d+)")
HEAD = b"HTTP/1.1 %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n%s"

class Item(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer = transport, b""

    def data_received(self, data):
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            match = ITEM.match(head)
            if match:
                body = json.dumps({"id": int(match[1]), "name": "widget", "price": 9.99}).encode()
                self.transport.write(HEAD % (b"200 OK", len(body), body))
            else:
                self.transport.write(HEAD % (b"404 Not Found", 2, b"{}"))

async def main():
    server = await asyncio.get_running_loop().create_server(Item, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    await server.serve_forever()

asyncio.run(main())
"""

FASTMCP_SERVER = """
import json, sys, httpx2
from fastmcp import FastMCP
client = httpx2.AsyncClient(base_url=sys.argv[2])
FastMCP.from_openapi(openapi_spec=json.load(open(sys.argv[1])), client=client, name="bench").run(show_banner=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def upstream() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx2.get(f"{url}/items/1", timeout=1)
                break
            except httpx2.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the upstream did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.kill()
        process.wait()


class StdioServer:
    """An MCP server process and a minimal JSON-RPC client for it: newline-delimited messages on its pipes."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env={**os.environ, **env})
        assert self.process.stdin is not None and self.process.stdout is not None
        self.stdin, self.stdout = self.process.stdin, self.process.stdout
        self.next_id = 0
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "bench", "version": "1"}})
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def send(self, message: dict[str, Any]) -> None:
        self.stdin.write(json.dumps(message).encode() + b"\n")
        self.stdin.flush()

    def call(self, method: str, params: dict[str, Any]) -> None:
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})

    def answer(self) -> dict[str, Any]:
        while True:
            line = self.stdout.readline()
            if not line:
                raise RuntimeError("the server exited")
            message: dict[str, Any] = json.loads(line)
            if "id" in message:
                if "error" in message or message["result"].get("isError"):
                    raise RuntimeError(f"call failed: {line[:300]!r}")
                return message

    def request(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        self.call(method, params)
        return self.answer()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


def cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentiles(seconds: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(seconds)
    return (statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99) - 1] * 1000)


def direct_latencies(url: str, calls: int) -> list[float]:
    latencies = []
    with httpx2.Client(base_url=url) as client:
        for index in range(WARMUP + calls):
            started = time.perf_counter()
            response = client.get(f"/items/{index}", params={"fields": "all"})
            response.json()
            latencies.append(time.perf_counter() - started)
    return latencies[WARMUP:]


async def direct_throughput(url: str, calls: int, concurrency: int) -> float:
    async with httpx2.AsyncClient(base_url=url, limits=httpx2.Limits(max_connections=concurrency)) as client:
        remaining = iter(range(calls))

        async def worker() -> None:
            for index in remaining:
                (await client.get(f"/items/{index}", params={"fields": "all"})).json()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return calls / (time.perf_counter() - started)


async def provider_latencies(src: Path, url: str, home: str, calls: int) -> list[float]:
    """The runtime's call path alone: the generated package's provider called in this process (no MCP)."""
    sys.path.insert(0, str(src))
    from bench_mcp.connector import PACKAGE  # type: ignore[import-not-found]
    from specbridge_runtime._assembly import rest_provider

    provider = rest_provider(PACKAGE, environ={"BENCH_BASE_URL": url, "SPECBRIDGE_HOME": home})
    tool = PACKAGE.operations[0].tool
    await provider.start()
    latencies = []
    try:
        for index in range(WARMUP + calls):
            started = time.perf_counter()
            result = await provider.call_tool(tool, {"item_id": index, "fields": "all"})
            latencies.append(time.perf_counter() - started)
            assert not result.is_error, result
    finally:
        await provider.stop()
    return latencies[WARMUP:]


def tool_of(server: StdioServer) -> str:
    tools = server.request("tools/list", {})["result"]["tools"]
    assert len(tools) == 1, tools
    return str(tools[0]["name"])


def server_latencies(server: StdioServer, tool: str, calls: int) -> list[float]:
    latencies = []
    for index in range(WARMUP + calls):
        started = time.perf_counter()
        server.request("tools/call", {"name": tool, "arguments": {"item_id": index, "fields": "all"}})
        latencies.append(time.perf_counter() - started)
    return latencies[WARMUP:]


def server_throughput(server: StdioServer, tool: str, calls: int, concurrency: int) -> tuple[float, float]:
    """Calls per second, and the server's CPU milliseconds per call (robust to other load on the machine)."""
    cpu_before = cpu_s(server.process.pid)
    started = time.perf_counter()
    sent = 0
    for _ in range(min(concurrency, calls)):
        server.call("tools/call", {"name": tool, "arguments": {"item_id": sent, "fields": "all"}})
        sent += 1
    for _ in range(calls):
        server.answer()
        if sent < calls:
            server.call("tools/call", {"name": tool, "arguments": {"item_id": sent, "fields": "all"}})
            sent += 1
    elapsed = time.perf_counter() - started
    return calls / elapsed, (cpu_s(server.process.pid) - cpu_before) * 1000 / calls


def generate(spec: Path, out: Path) -> None:
    subprocess.run([str(BIN / "specbridge"), "gen", str(spec), "-o", str(out), "--name", "bench"],
                   check=True, capture_output=True)


def measure(server: StdioServer, calls: int, concurrency: int) -> tuple[tuple[float, float], tuple[float, float]]:
    """((p50, p99) latency in ms, (calls/s, server CPU ms per call)) of one server; it is closed after."""
    try:
        tool = tool_of(server)
        return (percentiles(server_latencies(server, tool, calls)),
                server_throughput(server, tool, calls, concurrency))
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--skip-fastmcp", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, upstream() as url:
        spec = Path(tmp) / "bench.json"
        spec.write_text(json.dumps(SPEC))
        generate(spec, Path(tmp) / "bench")
        direct = percentiles(direct_latencies(url, args.calls))
        direct_rate = asyncio.run(direct_throughput(url, args.calls, args.concurrency))
        runtime = percentiles(asyncio.run(provider_latencies(Path(tmp) / "bench" / "src", url, tmp, args.calls)))
        ours = measure(StdioServer([sys.executable, "-m", "bench_mcp", "serve"],
                                   {"PYTHONPATH": str(Path(tmp) / "bench" / "src"), "SPECBRIDGE_HOME": tmp,
                                    "BENCH_BASE_URL": url}), args.calls, args.concurrency)
        theirs = None
        if not args.skip_fastmcp:
            theirs = measure(StdioServer([sys.executable, "-c", FASTMCP_SERVER, str(spec), url], {}), args.calls,
                             args.concurrency)

    print(f"{args.calls} calls per measurement after {WARMUP} warm-up; {os.cpu_count()} cores; servers over stdio")
    print(f"{'sequential calls':34}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'direct httpx2 call':34}{direct[0]:10.3f}{direct[1]:10.3f}")
    print(f"{'specbridge runtime (in-process)':34}{runtime[0]:10.3f}{runtime[1]:10.3f}")
    print(f"{'runtime call path overhead':34}{runtime[0] - direct[0]:10.3f}{runtime[1] - direct[1]:10.3f}")
    rows = [("specbridge", ours)] + ([("FastMCP 4.1.6", theirs)] if theirs is not None else [])
    for label, (latency, _) in rows:
        print(f"{label + ' tools/call':34}{latency[0]:10.3f}{latency[1]:10.3f}")
        print(f"{label + ' overhead':34}{latency[0] - direct[0]:10.3f}{latency[1] - direct[1]:10.3f}"
              + ("   target p50 < 1 ms" if label == "specbridge" else ""))
    print(f"{args.concurrency} calls outstanding{'calls/s':>22}{'server CPU ms/call':>20}")
    print(f"{'direct httpx2 (client ceiling)':34}{direct_rate:10.0f}")
    for label, (_, (rate, cpu_ms)) in rows:
        print(f"{label:34}{rate:10.0f}{cpu_ms:20.3f}")
    if theirs is not None:
        print(f"{'specbridge / FastMCP':34}{ours[1][0] / theirs[1][0]:9.2f}x{theirs[1][1] / ours[1][1]:19.2f}x"
              "   target >= 2x")


if __name__ == "__main__":
    main()
