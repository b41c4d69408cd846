"""The stdio transport on asyncio pipes (`specbridge_runtime._mechanisms.stdio`): stdin is split into lines exactly as
the SDK's text wrapper splits it, a package serves real pipes (and falls back to the SDK's transport for a
file or a terminal), and fds 0 and 1 are diverted while serving and restored after."""

from __future__ import annotations

import asyncio
import io
import json
import os
import pty
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from specbridge_runtime._mechanisms.stdio import _Lines

from tests.runtime.conftest import SBFIXTURE_SRC

SERVER = [sys.executable, "-m", "sbfixture_mcp", "serve"]
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "test", "version": "1"}}}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
BIG = "x" * 1_000_000

INPUTS = {
    "newlines": b'{"a":1}\n{"b":2}\n',
    "crlf": b'{"a":1}\r\n{"b":2}\r\n',
    "bare cr": b'{"a":1}\r{"b":2}\n\r\r\n',
    "no final newline": b'{"a":1}\n{"b":2}',
    "final cr": b'{"a":1}\r',
    "empty lines": b"\n\n{}\n\n",
    "utf-8 and invalid bytes": 'caf\u00e9 \u2028 \U0001f600\n'.encode() + b"\xff\xfe broken \xc3\n\xe9\n",
    "long line": b'{"big":"' + b"y" * 200_000 + b'"}\n{"after":1}\n',
    "nothing": b"",
}


def chunks(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def lines_of(pieces: Iterator[bytes]) -> list[str]:
    reader = asyncio.StreamReader()

    async def feed() -> None:
        for piece in pieces:
            reader.feed_data(piece)
            await asyncio.sleep(0)  # the lines are read between pieces, so every split point is exercised
        reader.feed_eof()

    feeding = asyncio.create_task(feed())
    lines = [line async for line in _Lines(reader)]
    await feeding
    return lines


@pytest.mark.parametrize("size", [1, 7, 4096, 1 << 20])
@pytest.mark.parametrize("name", list(INPUTS))
async def test_lines_are_split_and_decoded_as_the_sdk_reads_them(name: str, size: int) -> None:
    data = INPUTS[name]
    expected = list(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="replace"))
    assert await lines_of(chunks(data, size)) == expected


async def test_a_line_is_handed_over_as_soon_as_it_is_complete() -> None:
    reader = asyncio.StreamReader()
    lines = aiter(_Lines(reader))
    reader.feed_data(b'{"a":1}\n{"b"')
    assert await asyncio.wait_for(anext(lines), 5) == '{"a":1}\n'
    reader.feed_data(b':2}\r{"c":3}\r')  # the first `\r` ends a line; the last may still precede a `\n`
    assert await asyncio.wait_for(anext(lines), 5) == '{"b":2}\n'
    reader.feed_data(b"\n")
    assert await asyncio.wait_for(anext(lines), 5) == '{"c":3}\n'


def environment(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SBFIXTURE_SRC), "SPECBRIDGE_HOME": str(tmp_path),
            "SBFIXTURE_BASE_URL": "http://127.0.0.1:9", "SPECBRIDGE_LOG_LEVEL": "WARNING"}


def line(message: dict[str, Any], end: str = "\n") -> bytes:
    return (json.dumps(message) + end).encode()


def killed_after(process: subprocess.Popen[bytes], seconds: float) -> threading.Timer:
    """Bounds a test that reads a process's pipe: past `seconds`, the process is killed (and the read ends)."""
    timer = threading.Timer(seconds, process.kill)
    timer.daemon = True
    timer.start()
    return timer


def answers(stdout: io.BufferedReader, count: int) -> dict[Any, dict[str, Any]]:
    found = {}
    while len(found) < count:
        text = stdout.readline()
        assert text, f"the server exited after {len(found)} of {count} answers"
        message = json.loads(text)
        found[message.get("id")] = message
    return found


@pytest.mark.parametrize("fast_io", ["1", "0"], ids=["fast-io", "stock-io"])
def test_a_package_serves_pipes_and_diverts_stray_output(tmp_path: Path, fast_io: str) -> None:
    """On the event loop's pipes, and with SPECBRIDGE_FAST_IO=0 on the SDK's own stdio wrappers."""
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                   env={**environment(tmp_path), "SPECBRIDGE_FAST_IO": fast_io})
    assert process.stdin is not None and process.stdout is not None
    timer = killed_after(process, 60)
    try:
        process.stdin.write(line(INITIALIZE) + line(INITIALIZED))
        process.stdin.flush()
        assert answers(process.stdout, 1)[1]["result"]["serverInfo"]["name"] == "sbfixture"
        # While serving, what the process itself writes to fd 1 goes to stderr, and fd 0 reads nothing.
        assert os.readlink(f"/proc/{process.pid}/fd/1") == str(log)
        assert os.readlink(f"/proc/{process.pid}/fd/0") == os.devnull

        call = {"name": "sbfixture_post_text", "arguments": {"body": BIG, "unexpected": 1}}
        process.stdin.write(b"this is not JSON\n"
                            + line({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, end="\r\n")
                            + line({"jsonrpc": "2.0", "id": 3, "method": "ping"}, end="\r")
                            + line({"jsonrpc": "2.0", "id": 4, "method": "ping"})
                            + line({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": call}))
        process.stdin.flush()
        found = answers(process.stdout, 5)
        # JSON-RPC 2.0: a line that is not JSON is answered with a parse error and `id: null`; the rest is served.
        assert sorted(found, key=str) == [2, 3, 4, 5, None]
        assert found[None]["error"]["code"] == -32700
        assert len(found[2]["result"]["tools"]) == 13
        assert found[3]["result"] == found[4]["result"] == {}
        refused = found[5]["result"]
        assert refused["isError"] and "`unexpected`" in refused["content"][0]["text"]  # the 1 MB line arrived

        # JSON that is not a JSON-RPC message: invalid request, `id: null`; the server goes on serving.
        process.stdin.write(b'{"hello": "world"}\n' + line({"jsonrpc": "2.0", "id": 6, "method": "ping"}))
        process.stdin.flush()
        later = answers(process.stdout, 2)
        assert later[None]["error"]["code"] == -32600 and later[6]["result"] == {}

        process.stdin.close()  # end of input: the server stops by itself
        assert process.wait(timeout=30) == 0
    finally:
        timer.cancel()
        process.kill()
        process.wait()
    assert "Traceback" not in log.read_text()


def test_a_file_for_stdin_and_stdout_is_served_by_the_sdk_transport(tmp_path: Path) -> None:
    requests, output = tmp_path / "requests.jsonl", tmp_path / "answers.jsonl"
    requests.write_bytes(line(INITIALIZE) + line(INITIALIZED))
    with requests.open("rb") as stdin, output.open("wb") as stdout:
        done = subprocess.run(SERVER, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=environment(tmp_path),
                              timeout=60)
    assert done.returncode == 0, done.stderr
    (answer,) = [json.loads(text) for text in output.read_text().splitlines()]
    assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "sbfixture"


def test_a_terminal_for_stdout_is_served_by_the_sdk_transport(tmp_path: Path) -> None:
    terminal, device = pty.openpty()
    process = subprocess.Popen(SERVER, stdin=subprocess.PIPE, stdout=device, stderr=subprocess.DEVNULL,
                               env=environment(tmp_path))
    os.close(device)
    assert process.stdin is not None
    try:
        process.stdin.write(line(INITIALIZE))
        process.stdin.flush()
        received = b""
        deadline = time.monotonic() + 60
        while b"\n" not in received and time.monotonic() < deadline:
            if select.select([terminal], [], [], 1)[0]:
                received += os.read(terminal, 65536)
        answer = json.loads(received.split(b"\n", 1)[0])  # the terminal ends lines with \r\n
        assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "sbfixture"
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
        os.close(terminal)


ECHO = """
import anyio, os
from specbridge_runtime._mechanisms.stdio import stdio_pipes

async def main():
    async with stdio_pipes() as (stdin, stdout):
        assert stdin is not None and stdout is not None
        print("stray", flush=True)
        async for text in stdin:
            await stdout.write(text.upper())
            await stdout.flush()
    print("after", os.get_blocking(1), flush=True)

anyio.run(main)
"""


def test_fds_are_diverted_while_serving_and_restored_after() -> None:
    done = subprocess.run([sys.executable, "-c", ECHO], input=b"one\ntwo\r\nthree", capture_output=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"ONE\nTWO\nTHREEafter True\n"  # the wire, then fd 1 back on it, blocking again
    assert done.stderr == b"stray\n"
