"""Per-call overhead and throughput of a generated specbridge server, against a direct httpx2 call to the
same upstream, against FastMCP 4.1.6 `FastMCP.from_openapi` and against openapi-mcp-generator 4.0.1 (npm:
the TypeScript project it generates, built and run with node; warmed up with 5,000 calls first, since
Node's JIT needs thousands of calls to settle) on the same spec and upstream, in one run.

    bash benchmarks/setup.sh        # once: the project plus FastMCP 4.1.6 (see benchmarks/requirements.txt)
    python benchmarks/bench_calls.py [--calls 3000] [--concurrency 10] [--skip-fastmcp] [--skip-node]
                                     [--skip-stdio] [--skip-http]

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
  Both servers run side by side and are measured in alternating rounds (`--rounds`), so a change of load
  on the machine during the run touches both; each figure is the median of its rounds (all are printed).
- The runtime's own I/O paths (`SPECBRIDGE_FAST_IO`, on by default) against the libraries' stock ones: the
  in-process provider and the stdio server are measured with the switch on and off in alternating rounds
  of the same run, and the gain of the switch is printed (it stays on only where it is worth it).
- Streamable HTTP (`http_calls.py`; `--skip-http`, or `--skip-stdio` for it alone): the generated server with
  `serve --transport http`, switch on and off, in a 2025-06-18 session and with 2026-07-28 requests,
  sequential and with `--concurrency` outstanding: p50, calls/s and server CPU per call (target <= 1.0 ms).
- The whole run is bounded (`--time-limit`, default 420 s): past it every process is stopped and the run fails.
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
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script or imported by tests
from benchmarks import http_calls, node_peer
from benchmarks.http_calls import cpu_s

BIN = Path(sys.executable).parent
WARMUP = 200
FASTMCP = "FastMCP 4.1.6"
STOCK = "specbridge, SPECBRIDGE_FAST_IO=0"
SWITCH = {"specbridge": "1", STOCK: "0"}

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
def upstream(watch: Callable[[subprocess.Popen[bytes]], None]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", UPSTREAM, str(port)])
    watch(process)
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

    def __init__(self, command: list[str], env: dict[str, str],
                 watch: Callable[[subprocess.Popen[bytes]], None]) -> None:
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env={**os.environ, **env})
        watch(self.process)
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


async def provider_latencies(src: Path, url: str, home: str, calls: int, rounds: int) -> dict[str, list[float]]:
    """The runtime's call path alone: the generated package's provider called in this process (no MCP), with
    `SPECBRIDGE_FAST_IO` on and off in alternating rounds."""
    sys.path.insert(0, str(src))
    from bench_mcp.connector import PACKAGE  # type: ignore[import-not-found]
    from specbridge_runtime._assembly.connectors import rest_provider

    tool = PACKAGE.operations[0].tool
    providers = {label: rest_provider(PACKAGE, environ={"BENCH_BASE_URL": url, "SPECBRIDGE_HOME": home,
                                                        "SPECBRIDGE_FAST_IO": switch})
                 for label, switch in SWITCH.items()}
    latencies: dict[str, list[float]] = {label: [] for label in providers}
    for provider in providers.values():
        await provider.start()
    try:
        for round_ in range(rounds):
            for label, provider in providers.items():
                warmup = WARMUP if round_ == 0 else 0
                for index in range(warmup + calls // rounds):
                    started = time.perf_counter()
                    result = await provider.call_tool(tool, {"item_id": index, "fields": "all"})
                    if index >= warmup:
                        latencies[label].append(time.perf_counter() - started)
                    assert not result.is_error, result
    finally:
        for provider in providers.values():
            await provider.stop()
    return latencies


def tool_of(server: StdioServer) -> str:
    tools = server.request("tools/list", {})["result"]["tools"]
    assert len(tools) == 1, tools
    return str(tools[0]["name"])


def server_latencies(servers: dict[str, tuple[StdioServer, str]], calls: int, rounds: int,
                     warmups: dict[str, int]) -> dict[str, list[float]]:
    """Sequential round trips of each server after its warm-up, the servers taking turns every round."""
    latencies: dict[str, list[float]] = {label: [] for label in servers}
    for label, (server, tool) in servers.items():
        for index in range(warmups.get(label, WARMUP)):
            server.request("tools/call", {"name": tool, "arguments": {"item_id": index, "fields": "all"}})
    for _ in range(rounds):
        for label, (server, tool) in servers.items():
            for index in range(calls // rounds):
                started = time.perf_counter()
                server.request("tools/call", {"name": tool, "arguments": {"item_id": index, "fields": "all"}})
                latencies[label].append(time.perf_counter() - started)
    return latencies


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
                   check=True, capture_output=True, timeout=120)


class Watchdog:
    """Stops every process it was given once `seconds` have passed, so no run outlives its time limit."""

    def __init__(self, seconds: float) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []
        self.fired = False
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, process: subprocess.Popen[bytes]) -> None:
        self.processes.append(process)

    def _fire(self) -> None:
        self.fired = True
        for process in self.processes:
            process.kill()

    def cancel(self) -> None:
        self._timer.cancel()


def throughput_rounds(servers: dict[str, tuple[StdioServer, str]], calls: int, concurrency: int,
                      rounds: int) -> dict[str, list[tuple[float, float]]]:
    """(calls/s, server CPU ms per call) of each server in each round; the servers take turns every round."""
    figures: dict[str, list[tuple[float, float]]] = {label: [] for label in servers}
    for _ in range(rounds):
        for label, (server, tool) in servers.items():
            figures[label].append(server_throughput(server, tool, calls, concurrency))
    return figures


def median_of(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(rate for rate, _ in values), statistics.median(cpu for _, cpu in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per server (median reported)")
    parser.add_argument("--time-limit", type=float, default=420.0, help="seconds before the run is stopped")
    parser.add_argument("--skip-fastmcp", action="store_true")
    parser.add_argument("--skip-node", action="store_true", help=f"skip {node_peer.LABEL}")
    parser.add_argument("--skip-stdio", action="store_true", help="only the streamable HTTP figures")
    parser.add_argument("--skip-http", action="store_true", help="only the stdio figures")
    args = parser.parse_args()

    watchdog = Watchdog(args.time_limit)
    load_before = os.getloadavg()
    servers: dict[str, tuple[StdioServer, str]] = {}
    stdio: StdioFigures | None = None
    http: dict[str, http_calls.Figures] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp, upstream(watchdog.watch) as url:
            spec = Path(tmp) / "bench.json"
            spec.write_text(json.dumps(SPEC))
            generate(spec, Path(tmp) / "bench")
            ours = {label: {"PYTHONPATH": str(Path(tmp) / "bench" / "src"), "SPECBRIDGE_HOME": tmp,
                            "BENCH_BASE_URL": url, "SPECBRIDGE_FAST_IO": switch} for label, switch in SWITCH.items()}
            if not args.skip_stdio:
                stdio = measure_stdio(args, spec, url, ours, watchdog, servers)
            if not args.skip_http:
                http = http_calls.run([sys.executable, "-m", "bench_mcp", "serve"], ours, free_port, watchdog.watch,
                                      args.calls, args.concurrency, args.rounds, WARMUP)
    except Exception as error:
        if watchdog.fired:  # the processes were stopped under the run: whatever failed, that is why
            sys.exit(f"bench_calls: stopped after the time limit of {args.time_limit:g} s ({error})")
        raise
    finally:
        watchdog.cancel()
        for server, _ in servers.values():
            server.close()
    load = (load_before, os.getloadavg())
    if stdio is not None:
        report(args, *stdio, load)
    if http:
        http_calls.report(http, args.concurrency, args.rounds, load)


StdioFigures = tuple[tuple[float, float], float, dict[str, tuple[float, float]], dict[str, tuple[float, float]],
                     dict[str, list[tuple[float, float]]]]


def measure_stdio(args: argparse.Namespace, spec: Path, url: str, ours: dict[str, dict[str, str]],
                  watchdog: Watchdog, servers: dict[str, tuple[StdioServer, str]]) -> StdioFigures:
    """The direct call, the in-process provider and every server over stdio (started into `servers`)."""
    direct = percentiles(direct_latencies(url, args.calls))
    direct_rate = asyncio.run(direct_throughput(url, args.calls, args.concurrency))
    src, home = Path(ours["specbridge"]["PYTHONPATH"]), ours["specbridge"]["SPECBRIDGE_HOME"]
    runtime = {label: percentiles(figures) for label, figures in asyncio.run(
        provider_latencies(src, url, home, args.calls, args.rounds)).items()}
    commands = {label: ([sys.executable, "-m", "bench_mcp", "serve"], env) for label, env in ours.items()}
    if not args.skip_fastmcp:
        commands[FASTMCP] = ([sys.executable, "-c", FASTMCP_SERVER, str(spec), url], {})
    if not args.skip_node:
        commands[node_peer.LABEL] = (node_peer.command(node_peer.build_project(spec, "bench")),
                                     node_peer.environment(url))
    for label, (command, env) in commands.items():
        server = StdioServer(command, env, watchdog.watch)
        servers[label] = (server, tool_of(server))
    warmups = {node_peer.LABEL: node_peer.WARMUP_CALLS}
    latencies = {label: percentiles(figures)
                 for label, figures in server_latencies(servers, args.calls, args.rounds, warmups).items()}
    rounds = throughput_rounds(servers, args.calls, args.concurrency, args.rounds)
    return direct, direct_rate, runtime, latencies, rounds


def report(args: argparse.Namespace, direct: tuple[float, float], direct_rate: float,
           runtime: dict[str, tuple[float, float]],
           latencies: dict[str, tuple[float, float]], rounds: dict[str, list[tuple[float, float]]],
           load: tuple[tuple[float, float, float], tuple[float, float, float]]) -> None:
    print(f"{args.calls} calls per measurement after {WARMUP} warm-up; {os.cpu_count()} cores; servers over stdio; "
          f"load average {load[0][0]:.2f} at start, {load[1][0]:.2f} at end")
    print(f"{'sequential calls':34}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'direct httpx2 call':34}{direct[0]:10.3f}{direct[1]:10.3f}")
    for label, (p50, p99) in runtime.items():
        print(f"{label + ' in-process':34}{p50:10.3f}{p99:10.3f}")
        print(f"{'  call path overhead':34}{p50 - direct[0]:10.3f}{p99 - direct[1]:10.3f}")
    for label, latency in latencies.items():
        print(f"{label + ' tools/call':34}{latency[0]:10.3f}{latency[1]:10.3f}")
        print(f"{label + ' overhead':34}{latency[0] - direct[0]:10.3f}{latency[1] - direct[1]:10.3f}")
    print(f"{args.concurrency} calls outstanding, median of {args.rounds} alternating rounds"
          f"{'calls/s':>10}{'server CPU ms/call':>20}   rounds (calls/s)")
    print(f"{'direct httpx2 (client ceiling)':58}{direct_rate:10.0f}")
    medians = {label: median_of(figures) for label, figures in rounds.items()}
    for label, (rate, cpu_ms) in medians.items():
        each = " ".join(f"{figure:.0f}" for figure, _ in rounds[label])
        print(f"{label:58}{rate:10.0f}{cpu_ms:20.3f}   {each}")
    ours = latencies["specbridge"]
    print("results")
    fast_io_gain(runtime, latencies, medians, direct)
    print(f"  specbridge overhead over a direct httpx2 call, p50: {ours[0] - direct[0]:.3f} ms (target < 1 ms)")
    print(f"  specbridge overhead over a direct httpx2 call, p99: {ours[1] - direct[1]:.3f} ms")
    if FASTMCP in medians:
        (our_rate, our_cpu), (their_rate, their_cpu) = medians["specbridge"], medians[FASTMCP]
        print(f"  throughput specbridge / {FASTMCP}: {our_rate / their_rate:.2f}x (target >= 2x)")
        print(f"  server CPU per call {FASTMCP} / specbridge: {their_cpu / our_cpu:.2f}x")
        print(f"  {FASTMCP} overhead p50 / specbridge overhead p50: "
              f"{(latencies[FASTMCP][0] - direct[0]) / (ours[0] - direct[0]):.2f}x")
    if node_peer.LABEL in medians:
        (our_rate, our_cpu), (their_rate, their_cpu) = medians["specbridge"], medians[node_peer.LABEL]
        print(f"  server CPU per call specbridge / {node_peer.LABEL}: {our_cpu / their_cpu:.2f}x (target <= 1.0x)")
        print(f"  throughput specbridge / {node_peer.LABEL}: {our_rate / their_rate:.2f}x (target >= 1.0x)")


def fast_io_gain(runtime: dict[str, tuple[float, float]], latencies: dict[str, tuple[float, float]],
                 medians: dict[str, tuple[float, float]], direct: tuple[float, float]) -> None:
    """What SPECBRIDGE_FAST_IO=1 gains over the stock I/O paths, in % (positive: the switch helps)."""
    on, off = "specbridge", STOCK

    def less(fast: float, stock: float) -> float:
        return (stock - fast) / stock * 100

    for what, figures in (("in-process call path", runtime), ("stdio server", latencies)):
        fast, stock = figures[on][0] - direct[0], figures[off][0] - direct[0]
        print(f"  SPECBRIDGE_FAST_IO=1 vs 0, {what} overhead p50: {fast:.3f} vs {stock:.3f} ms "
              f"({less(fast, stock):+.1f} % less)")
    (rate_on, cpu_on), (rate_off, cpu_off) = medians[on], medians[off]
    print(f"  SPECBRIDGE_FAST_IO=1 vs 0, throughput: {rate_on:.0f} vs {rate_off:.0f} calls/s "
          f"({(rate_on - rate_off) / rate_off * 100:+.1f} %); server CPU per call {cpu_on:.3f} vs {cpu_off:.3f} ms "
          f"({less(cpu_on, cpu_off):+.1f} % less)")


if __name__ == "__main__":
    main()
