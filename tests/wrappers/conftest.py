"""Fixtures of the wrapper tests: real upstream MCP servers on 127.0.0.1 (our small test server, and the
npm reference server `server-everything` behind supergateway), each waited for and stopped."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from tests.support import REPO, free_port, node_tool, serving, stop, wait_for_port

# supergateway's name for each output transport, the path it serves, and the URL scheme.
SUPERGATEWAY = {
    "streamable_http": ("streamableHttp", "/mcp", "http"),
    "sse": ("sse", "/sse", "http"),
    "websocket": ("ws", "/message", "ws"),
}


@dataclass
class Supergateway:
    """server-everything (stdio) exposed by supergateway on one port; `kill` and `start` again at will."""

    transport: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        _, path, scheme = SUPERGATEWAY[self.transport]
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        output, _, _ = SUPERGATEWAY[self.transport]
        everything = node_tool("mcp-server-everything")
        # Stateful streamable HTTP: one server-everything per session, not one per request (seconds each).
        stateful = ["--stateful"] if self.transport == "streamable_http" else []
        self.process = subprocess.Popen(
            [str(node_tool("supergateway")), "--stdio", f"{everything} stdio", "--outputTransport", output,
             "--port", str(self.port), "--logLevel", "none", *stateful],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        )
        wait_for_port(self.port, process=self.process)

    def kill(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


@pytest.fixture
def supergateway(request: pytest.FixtureRequest) -> Iterator[Supergateway]:
    gateway = Supergateway(request.param)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.kill()


UPSTREAM_MODULE = "tests.wrappers.upstream_server"


@pytest.fixture
def upstream_http() -> Iterator[str]:
    """Our test upstream over streamable HTTP."""
    port = free_port()
    with serving([sys.executable, "-m", UPSTREAM_MODULE, "http", str(port)], port, cwd=REPO):
        yield f"http://127.0.0.1:{port}/mcp"


@pytest.fixture(scope="session")
def registry_url() -> Iterator[str]:
    """The tests' own MCP Registry on 127.0.0.1, serving the shared examples and our server.json files."""
    from tests.wrappers.registry_server import running_registry

    with running_registry() as url:
        yield url
