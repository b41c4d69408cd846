"""The streamable HTTP part of `bench_calls.py`: a generated server served with `serve --transport http`,
driven by a minimal MCP client of this process on raw HTTP/1.1 keep-alive sockets (TCP_NODELAY, each
request one write), so the figures are the server's and not an HTTP client library's.

Two protocols: 2025-06-18 (the handshake: `initialize`, then every request in the `Mcp-Session-Id`
session, the server's stateful default) and 2026-07-28 (no session: each request carries the `_meta`
envelope and the `MCP-Protocol-Version`, `Mcp-Method` and `Mcp-Name` headers). For each, sequential
calls (p50 round trip and server CPU per call) and `concurrency` calls outstanding on as many connections
(calls/s and server CPU per call), the servers and protocols taking turns every round.
"""

from __future__ import annotations

import json
import os
import selectors
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HANDSHAKE = "2025-06-18"
MODERN = "2026-07-28"
PROTOCOLS = (HANDSHAKE, MODERN)
_ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN,
             "io.modelcontextprotocol/clientCapabilities": {},
             "io.modelcontextprotocol/clientInfo": {"name": "bench", "version": "1"}}


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def message(self) -> dict[str, Any]:
        """The JSON-RPC message answered: the body, or the last SSE `data:` event carrying an id."""
        if not self.headers.get("content-type", "").startswith("text/event-stream"):
            message: dict[str, Any] = json.loads(self.body)
            return message
        for line in reversed(self.body.split(b"\n")):
            if line.startswith(b"data:") and b'"id"' in line:
                found: dict[str, Any] = json.loads(line[5:])
                return found
        raise RuntimeError(f"no answer in the event stream: {self.body[:300]!r}")


class ResponseReader:
    """HTTP/1.1 responses split from the bytes of one connection (Content-Length or chunked bodies)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> None:
        if not data:
            raise RuntimeError("the server closed the connection")
        self._buffer += data

    def next(self) -> Response | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (line.partition(":") for line in lines[1:])}
        start = end + 4
        if "content-length" in headers:
            stop = start + int(headers["content-length"])
            if len(self._buffer) < stop:
                return None
            body = self._buffer[start:stop]
        else:
            chunks, stop = self._chunks(start)
            if chunks is None:
                return None
            body = b"".join(chunks)
        self._buffer = self._buffer[stop:]
        return Response(int(lines[0].split()[1]), headers, body)

    def _chunks(self, at: int) -> tuple[list[bytes] | None, int]:
        chunks = []
        while True:
            line_end = self._buffer.find(b"\r\n", at)
            if line_end < 0:
                return None, at
            size = int(self._buffer[at:line_end].split(b";")[0], 16)
            at = line_end + 2
            if len(self._buffer) < at + size + 2:
                return None, at
            if size == 0:
                return chunks, at + 2
            chunks.append(self._buffer[at:at + size])
            at += size + 2


@dataclass
class Connection:
    sock: socket.socket
    reader: ResponseReader = field(default_factory=ResponseReader)

    def receive(self) -> Response:
        while (response := self.reader.next()) is None:
            self.reader.feed(self.sock.recv(65536))
        return response


class McpHttpClient:
    """One MCP client of `port` in `protocol`; `connection(n)` opens connections on first use."""

    def __init__(self, port: int, protocol: str) -> None:
        self.port = port
        self.protocol = protocol
        self.session: str | None = None
        self._connections: list[Connection] = []
        self._next_id = 0
        if protocol == HANDSHAKE:
            response = self.exchange("initialize", {"protocolVersion": HANDSHAKE, "capabilities": {},
                                                    "clientInfo": {"name": "bench", "version": "1"}})
            self.session = response.headers["mcp-session-id"]
            self.connection(0).sock.sendall(self.request_bytes("notifications/initialized", None))
            assert self.connection(0).receive().status == 202

    def connection(self, index: int) -> Connection:
        while len(self._connections) <= index:
            sock = socket.create_connection(("127.0.0.1", self.port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._connections.append(Connection(sock))
        return self._connections[index]

    def reconnect(self) -> None:
        """Fresh connections: uvicorn closes the ones idle for 5 s (between another server's rounds)."""
        self.close()
        self._connections = []

    def request_bytes(self, method: str, params: dict[str, Any] | None) -> bytes:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        headers = ["POST /mcp HTTP/1.1", f"Host: 127.0.0.1:{self.port}", "Content-Type: application/json",
                   "Accept: application/json, text/event-stream"]
        if params is not None:
            self._next_id += 1
            message["id"] = self._next_id
            message["params"] = params
        if self.protocol == MODERN:
            message["params"] = {**(params or {}), "_meta": _ENVELOPE}
            headers += [f"MCP-Protocol-Version: {MODERN}", f"Mcp-Method: {method}"]
            if method == "tools/call":
                headers.append(f"Mcp-Name: {params['name'] if params else ''}")
        elif self.session is not None:
            headers += [f"Mcp-Session-Id: {self.session}", f"MCP-Protocol-Version: {HANDSHAKE}"]
        body = json.dumps(message, separators=(",", ":")).encode()
        return ("\r\n".join([*headers, f"Content-Length: {len(body)}"]) + "\r\n\r\n").encode() + body

    def exchange(self, method: str, params: dict[str, Any]) -> Response:
        connection = self.connection(0)
        connection.sock.sendall(self.request_bytes(method, params))
        response = connection.receive()
        if response.status != 200:
            raise RuntimeError(f"{method}: HTTP {response.status} {response.body[:300]!r}")
        return response

    def call(self, tool: str, index: int) -> dict[str, Any]:
        return answered(self.exchange("tools/call", call_params(tool, index)))

    def outstanding(self, tool: str, calls: int, concurrency: int) -> None:
        """`calls` calls, `concurrency` at a time on as many connections."""
        selector = selectors.DefaultSelector()
        sent = done = 0
        for index in range(min(concurrency, calls)):
            connection = self.connection(index)
            connection.sock.sendall(self.request_bytes("tools/call", call_params(tool, sent)))
            sent += 1
            selector.register(connection.sock, selectors.EVENT_READ, connection)
        while done < calls:
            for key, _ in selector.select(timeout=30):
                connection = key.data
                connection.reader.feed(connection.sock.recv(65536))
                while (response := connection.reader.next()) is not None:
                    answered(response)
                    done += 1
                    if sent < calls:
                        connection.sock.sendall(self.request_bytes("tools/call", call_params(tool, sent)))
                        sent += 1
        selector.close()

    def close(self) -> None:
        for connection in self._connections:
            connection.sock.close()


def call_params(tool: str, index: int) -> dict[str, Any]:
    return {"name": tool, "arguments": {"item_id": index, "fields": "all"}}


def answered(response: Response) -> dict[str, Any]:
    message = response.message()
    if response.status != 200 or "error" in message or message["result"].get("isError"):
        raise RuntimeError(f"call failed: HTTP {response.status} {response.body[:300]!r}")
    return message


@contextmanager
def http_server(command: list[str], env: dict[str, str], port: int,
                watch: Callable[[subprocess.Popen[bytes]], None]) -> Iterator[subprocess.Popen[bytes]]:
    """The server process serving `port`, once it answers /readyz."""
    process = subprocess.Popen([*command, "--transport", "http", "--port", str(port), "--no-auth"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, **env})
    watch(process)
    try:
        deadline = time.monotonic() + 30
        while not _ready(port):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the HTTP server did not start: {command}")
            time.sleep(0.05)
        yield process
    finally:
        process.kill()
        process.wait()


def _ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
            return Connection(sock).receive().status == 200
    except (OSError, RuntimeError):
        return False


def cpu_s(pid: int) -> float:
    """CPU time (user + system, all threads) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Figures:
    """One server and protocol, every round: sequential (p50 ms, CPU ms/call), outstanding (calls/s, CPU ms/call)."""

    sequential: list[tuple[float, float]] = field(default_factory=list)
    outstanding: list[tuple[float, float]] = field(default_factory=list)

    def medians(self) -> tuple[float, float, float, float]:
        return (statistics.median(p50 for p50, _ in self.sequential),
                statistics.median(cpu for _, cpu in self.sequential),
                statistics.median(rate for rate, _ in self.outstanding),
                statistics.median(cpu for _, cpu in self.outstanding))


def measure(clients: dict[str, tuple[McpHttpClient, int]], tool: str, calls: int, concurrency: int,
            rounds: int, warmup: int) -> dict[str, Figures]:
    """Every client (label: client, its server's pid) in alternating rounds of `calls // rounds` calls."""
    figures = {label: Figures() for label in clients}
    for client, _ in clients.values():
        client.reconnect()
        for index in range(warmup):
            client.call(tool, index)
        client.outstanding(tool, warmup, concurrency)
    per_round = calls // rounds
    for _ in range(rounds):
        for label, (client, pid) in clients.items():
            client.reconnect()
            client.call(tool, 0)
            latencies = []
            before = cpu_s(pid)
            for index in range(per_round):
                started = time.perf_counter()
                client.call(tool, index)
                latencies.append(time.perf_counter() - started)
            cpu_ms = (cpu_s(pid) - before) * 1000 / per_round
            figures[label].sequential.append((statistics.median(latencies) * 1000, cpu_ms))
        for label, (client, pid) in clients.items():
            client.reconnect()
            client.outstanding(tool, concurrency, concurrency)
            before, started = cpu_s(pid), time.perf_counter()
            client.outstanding(tool, per_round, concurrency)
            elapsed = time.perf_counter() - started
            figures[label].outstanding.append((per_round / elapsed, (cpu_s(pid) - before) * 1000 / per_round))
    return figures


def report(figures: dict[str, Figures], concurrency: int, rounds: int,
           load: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    print(f"load average {load[0][0]:.2f} at start, {load[1][0]:.2f} at end")
    print(f"streamable HTTP, median of {rounds} alternating rounds{'p50 ms':>12}{'CPU ms/call':>13}"
          f"{f'{concurrency} out: calls/s':>22}{'CPU ms/call':>13}")
    for label, each in figures.items():
        p50, cpu, rate, cpu_out = each.medians()
        print(f"{label:50}{p50:12.3f}{cpu:13.3f}{rate:22.0f}{cpu_out:13.3f}")
    print("results (streamable HTTP)")
    for label, each in figures.items():
        _, cpu, _, cpu_out = each.medians()
        rounds_text = " ".join(f"{c:.3f}" for _, c in each.sequential)
        print(f"  server CPU per call, {label}: sequential {cpu:.3f} ms ({rounds_text}), "
              f"{concurrency} outstanding {cpu_out:.3f} ms (target <= 1.0 ms)")


def run(command: list[str], envs: dict[str, dict[str, str]], free_port: Callable[[], int],
        watch: Callable[[subprocess.Popen[bytes]], None], calls: int, concurrency: int, rounds: int,
        warmup: int) -> dict[str, Figures]:
    """Start one HTTP server per environment (label: env) and measure both protocols on each."""
    with _servers(command, envs, free_port, watch) as ports:
        clients: dict[str, tuple[McpHttpClient, int]] = {}
        try:
            for label, (port, pid) in ports.items():
                for protocol in PROTOCOLS:
                    clients[f"{label}, {protocol}"] = (McpHttpClient(port, protocol), pid)
            listed = next(iter(clients.values()))[0].exchange("tools/list", {}).message()["result"]["tools"]
            tool = str(listed[0]["name"])
            return measure(clients, tool, calls, concurrency, rounds, warmup)
        finally:
            for client, _ in clients.values():
                client.close()


@contextmanager
def _servers(command: list[str], envs: dict[str, dict[str, str]], free_port: Callable[[], int],
             watch: Callable[[subprocess.Popen[bytes]], None]) -> Iterator[dict[str, tuple[int, int]]]:
    ports: dict[str, tuple[int, int]] = {}
    with ExitStack() as stack:
        for label, env in envs.items():
            port = free_port()
            process = stack.enter_context(http_server(command, env, port, watch))
            ports[label] = (port, process.pid)
        yield ports


if __name__ == "__main__":
    sys.exit("run benchmarks/bench_calls.py")
