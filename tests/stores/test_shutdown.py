"""SIGTERM to a server over streamable HTTP while calls are in flight: it stops, lets them finish, writes
every one of them to its audit, and exits 0."""

from __future__ import annotations

import signal
import subprocess
import uuid
from pathlib import Path

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.faultserver.process import FaultServerProcess
from tests.stores.replicas import FAULTAPI, SERVER, package_environ
from tests.support import REPO, free_port, wait_for_port


async def test_sigterm_lets_the_calls_in_flight_finish_and_audits_them(faultserver: FaultServerProcess,
                                                                       tmp_path: Path) -> None:
    key = f"sigterm-{uuid.uuid4().hex}"
    port = free_port()
    env = package_environ(tmp_path, {"FAULTAPI_BASE_URL": faultserver.url})
    server = subprocess.Popen([*SERVER, "--port", str(port)], env=env, cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process=server)

        async def terminate_when_all_are_upstream() -> None:
            with anyio.fail_after(30):
                while len(faultserver.stats(key)["ids"]) < 5:
                    await anyio.sleep(0.05)
            server.send_signal(signal.SIGTERM)

        results: dict[int, types.CallToolResult] = {}

        async def call(index: int) -> None:
            http = httpx2.AsyncClient(timeout=60)
            try:
                async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp", http_client=http)) as client:
                    await client.list_tools()  # cached: checking the result needs no request once the server is gone
                    results[index] = await client.call_tool("faultapi_get", {"mode": "ok", "key": key, "delay": "1",
                                                                             "id": str(index)})
            except* httpx2.ConnectError:
                pass  # the client says goodbye to a server that has gone: the answer came before

        async with anyio.create_task_group() as group:
            group.start_soon(terminate_when_all_are_upstream)
            for index in range(5):
                group.start_soon(call, index)
        assert sorted(results) == list(range(5)) and not any(result.is_error for result in results.values())
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    usage = subprocess.run([*FAULTAPI, "usage", "--json"],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert '"calls": 5' in usage.stdout
