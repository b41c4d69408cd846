"""A fault server of our own: plain HTTP/1.1 on 127.0.0.1 (raw asyncio, so it can misbehave at the byte
level), told per request by its path and query what to do.

    python -m tests.faultserver.server [--port N]     (prints "listening on 127.0.0.1:N", serves until killed)

Every request may carry `key` (the counter it counts under, default "default"), `id` (echoed back) and
`delay` (seconds to wait before answering). Paths:

    /ok                    200 JSON {"id", "method", "n" (this key's request number), "body" (the JSON sent)}
    /status?code=N         status N with a JSON error body; `body=TEXT` sends TEXT instead
    /limited?times=N&header=retry_after|date|reset|none&after=S
                           the first N requests of the key (default 1) get 429 telling to wait S seconds
                           (Retry-After seconds, Retry-After HTTP date, X-RateLimit-Reset epoch, or nothing)
    /flap?status=N         alternates per key: odd requests get N (default 503), even ones 200 JSON
    /hang?seconds=S        answers only after S seconds (default 30)
    /big?mb=N&chunk=B&pause=S&length=1
                           streams N MB (default 50) of JSON-looking bytes in chunks of B bytes, chunked
                           transfer encoding unless length=1 (Content-Length), pausing S seconds per chunk
    /badjson               200 application/json that is not JSON
    /cut                   200 with Content-Length 10000, sends 100 bytes and closes the connection
    /wrongtype             200 text/html where JSON is documented
    /garbage               a status line that is not HTTP, then waits for the next request
    /badchunk              200 chunked whose first chunk size is not hexadecimal, then waits
    /hugehead              200 whose head goes on with 1 MB of headers and never ends
    /stats?key=K           {"requests", "ids", "methods", "max_in_flight", "arrivals"} of key K
    /reset                 forgets all counters
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

_REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class KeyStats:
    requests: int = 0
    ids: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def number(self, name: str, default: float) -> float:
        return float(self.query.get(name, default))


class Cut(Exception):
    """Close the connection without finishing the response."""


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    url = urlsplit(target)
    query = {name: values[-1] for name, values in parse_qs(url.query).items()}
    return Request(method, url.path, query, headers, body)


class FaultServer:
    def __init__(self) -> None:
        self.stats: dict[str, KeyStats] = {}

    def _stats(self, key: str) -> KeyStats:
        return self.stats.setdefault(key, KeyStats())

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while (request := await read_request(reader)) is not None:
                if not await self.answer(request, writer):
                    break
        except (ConnectionError, Cut, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection must close."""
        if request.path == "/stats":
            stats = self._stats(request.query.get("key", "default"))
            await send(writer, 200, {"requests": stats.requests, "ids": stats.ids, "methods": stats.methods,
                                     "max_in_flight": stats.max_in_flight, "arrivals": stats.arrivals})
            return True
        if request.path == "/reset":
            self.stats.clear()
            await send(writer, 200, {"reset": True})
            return True
        stats = self._stats(request.query.get("key", "default"))
        stats.requests += 1
        stats.ids.append(request.query.get("id", ""))
        stats.methods.append(request.method)
        stats.arrivals.append(time.monotonic())
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            await asyncio.sleep(request.number("delay", 0))
            return await self.fault(request, stats.requests, writer)
        finally:
            stats.in_flight -= 1

    async def fault(self, request: Request, n: int, writer: asyncio.StreamWriter) -> bool:
        mode = request.path.strip("/")
        ok = {"id": request.query.get("id"), "method": request.method, "n": n, "body": _json_or_none(request.body)}
        if mode == "ok":
            await send(writer, 200, ok)
        elif mode == "status":
            code = int(request.query.get("code", "500"))
            text = request.query.get("body")
            if text is None:
                await send(writer, code, {"error": {"message": f"fault server says {code}"}})
            else:
                await send_bytes(writer, code, "text/plain", text.encode())
        elif mode == "limited":
            if n <= request.number("times", 1):
                await send(writer, 429, {"error": "slow down"}, _wait_headers(request))
            else:
                await send(writer, 200, ok)
        elif mode == "flap":
            await send(writer, int(request.query.get("status", "503")) if n % 2 else 200, ok)
        elif mode == "hang":
            await asyncio.sleep(request.number("seconds", 30))
            await send(writer, 200, ok)
        elif mode == "big":
            await stream_big(request, writer)
        elif mode == "badjson":
            await send_bytes(writer, 200, "application/json", b'{"items": [1, 2, ')
        elif mode == "cut":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n")
            writer.write(b'{"items": [' + b"1," * 44)
            await writer.drain()
            raise Cut
        elif mode == "wrongtype":
            await send_bytes(writer, 200, "text/html", b"<html><body><h1>Maintenance</h1></body></html>")
        elif mode in ("garbage", "badchunk", "hugehead"):
            await misbehave(mode, writer)
        else:
            await send(writer, 404, {"error": f"no fault mode {mode!r}"})
        return True


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def _wait_headers(request: Request) -> dict[str, str]:
    after = request.number("after", 1)
    kind = request.query.get("header", "retry_after")
    if kind == "retry_after":
        return {"Retry-After": f"{after:g}"}
    if kind == "date":
        return {"Retry-After": email.utils.formatdate(time.time() + after, usegmt=True)}
    if kind == "reset":
        return {"X-RateLimit-Reset": f"{int(time.time() + after)}", "X-RateLimit-Remaining": "0"}
    return {}


async def send(writer: asyncio.StreamWriter, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
    await send_bytes(writer, status, "application/json", json.dumps(payload).encode(), headers)


async def send_bytes(writer: asyncio.StreamWriter, status: int, content_type: str, body: bytes,
                     headers: dict[str, str] | None = None) -> None:
    head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", f"Content-Type: {content_type}",
            f"Content-Length: {len(body)}", *(f"{name}: {value}" for name, value in (headers or {}).items())]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()


async def misbehave(mode: str, writer: asyncio.StreamWriter) -> None:
    """An answer that is not HTTP/1.1; the connection stays open (the client must give up by itself)."""
    if mode == "garbage":
        writer.write(b"HELLO THERE\r\nthis is not HTTP\r\n\r\n")
    elif mode == "badchunk":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"zz\r\n{}\r\n")
    else:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
        for number in range(1024):
            writer.write(b"X-Filler-%d: %s\r\n" % (number, b"f" * 1000))
            await writer.drain()
    await writer.drain()


async def stream_big(request: Request, writer: asyncio.StreamWriter) -> None:
    total = int(request.number("mb", 50) * 1024 * 1024)
    chunk_size = int(request.number("chunk", 65536))
    pause = request.number("pause", 0)
    declared = request.query.get("length") == "1"
    framing = f"Content-Length: {total}" if declared else "Transfer-Encoding: chunked"
    writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{framing}\r\n\r\n".encode())
    chunk = b"[" + b"1," * (chunk_size // 2)
    sent = 0
    while sent < total:
        piece = chunk[: min(chunk_size, total - sent)]
        writer.write(piece if declared else b"%x\r\n%s\r\n" % (len(piece), piece))
        sent += len(piece)
        await writer.drain()  # at the client's pace: the server never holds more than a chunk
        if pause:
            await asyncio.sleep(pause)
    if not declared:
        writer.write(b"0\r\n\r\n")
    await writer.drain()


async def serve(port: int) -> None:
    fault_server = FaultServer()
    server = await asyncio.start_server(fault_server.handle, "127.0.0.1", port, backlog=512)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))


if __name__ == "__main__":
    main()
