"""Real API servers from PyPI, each serving its own published OpenAPI/Swagger document, started on
127.0.0.1 behind a logging proxy; a package generated from the document the running server serves,
installed with pip and driven over stdio by the mcp SDK client."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mcp_types as types
from mcp import Client

from tests.e2e.conftest import InstalledPackage, generate_and_install
from tests.realapis.proxy import LoggingProxy

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class RealApi:
    """A running server, the proxy in front of it, and the package generated from its own spec."""

    proxy: LoggingProxy
    package: InstalledPackage
    home: Path
    env: dict[str, str]

    @asynccontextmanager
    async def client(self) -> AsyncIterator[Client]:
        async with Client(self.package.stdio(self.home, **self.env), cache=None) as client:
            yield client


def fetch_spec(url: str, destination: Path, **headers: str) -> Path:
    """The document as the running server serves it."""
    answer = httpx2.get(url, headers=headers, timeout=30)
    answer.raise_for_status()
    destination.write_bytes(answer.content)
    return destination


def generate(definition: dict[str, Any], folder: Path, *options: str) -> InstalledPackage:
    """Generate and install the package of `definition`; `specbridge gen`'s report is kept beside it."""
    path = folder / f"{definition['name']}.json"
    path.write_text(json.dumps(definition))
    out = folder / "out" / definition["name"]
    return generate_and_install(str(path), out, definition["name"], *options, log=out.parent / "gen.log")


def text_of(result: types.CallToolResult) -> str:
    return "\n".join(block.text for block in result.content if isinstance(block, types.TextContent))


def structured(result: types.CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text_of(result)
    assert result.structured_content is not None, text_of(result)
    return result.structured_content


def measure(package: InstalledPackage) -> dict[str, Any]:
    """What issue 10 re-measures on each real server's tools."""
    tools = json.loads((package.source / "src" / f"{package.name}_mcp" / "tools.json").read_text())
    sizes = {tool["name"]: len(json.dumps(tool["inputSchema"])) for tool in tools}
    largest = max(sizes, key=sizes.__getitem__)
    report = (package.source.parent / "gen.log").read_text()
    return {"tools": len(tools), "without_description": sum(not tool.get("description") for tool in tools),
            "hash_suffixed": sum(_ends_in_hash(tool["name"]) for tool in tools),
            "largest_input_schema": (largest, sizes[largest]), "SB506": report.count("[SB506]")}


def _ends_in_hash(name: str) -> bool:
    tail = name.rsplit("_", 1)[-1]
    return len(tail) == 6 and all(char in "0123456789abcdef" for char in tail) and any(c.isdigit() for c in tail)


def proxied(upstream: str) -> AbstractContextManager[LoggingProxy]:
    return LoggingProxy(upstream).running()
