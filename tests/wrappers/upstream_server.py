"""A small MCP server the wrapper tests run as a real upstream (stdio, or streamable HTTP on 127.0.0.1):
tools with a title, annotations and an output schema, a tool that adds a tool (so the list changes), and
one that reports the environment variable the wrapper passed it.

Run: python -m tests.wrappers.upstream_server [stdio | http PORT]
"""

from __future__ import annotations

import os
import sys

import anyio
import mcp_types as types
from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel

server = MCPServer("wrapper-test-upstream")


class Sum(BaseModel):
    total: int


@server.tool(
    title="Add two numbers",
    description="Adds a and b.",
    annotations=types.ToolAnnotations(read_only_hint=True, idempotent_hint=True),
)
def add(a: int, b: int) -> Sum:
    return Sum(total=a + b)


@server.tool(name="dotted.name", description="A name with a dot, which the wrapper must clean.")
def dotted() -> str:
    return "dotted"


@server.tool(description="Returns the value of the environment variable UPSTREAM_SECRET.")
def secret_env() -> str:
    return os.environ.get("UPSTREAM_SECRET", "(unset)")


@server.tool(description="Returns the X-API-Key and Authorization headers this call arrived with (HTTP only).")
def headers(ctx: Context) -> str:
    request = ctx.request_context.request
    found = getattr(request, "headers", {})
    return f"key={found.get('x-api-key', '-')} auth={found.get('authorization', '-')}"


@server.tool(description="Waits `seconds` (at most 5), then answers.")
async def sleep(seconds: float) -> str:
    await anyio.sleep(min(seconds, 5.0))
    return "slept"


@server.tool(description="Adds a tool named `extra` and announces that the tool list changed.")
async def grow(ctx: Context) -> str:
    server.add_tool(lambda: "extra!", name="extra", description="Added at run time.")
    await ctx.notify_tools_changed()
    return "grown"


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
