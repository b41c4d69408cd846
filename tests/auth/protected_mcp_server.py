"""An MCP server protected by OAuth, built with the mcp SDK's own auth support: it publishes its
protected-resource metadata (RFC 9728) naming the test authorization server, answers 401 without a
token, and checks every token by introspection at that server (the runtime's verifier) for its own URL.

    python -m tests.auth.protected_mcp_server PORT ISSUER INTROSPECTION_CLIENT_ID   (secret: env MCP_CLIENT_SECRET)
"""

from __future__ import annotations

import os
import sys

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from specbridge_runtime._mechanisms.inbound import IntrospectionTokenVerifier


def build(port: int, issuer: str, client_id: str, client_secret: str) -> MCPServer:
    resource = f"http://127.0.0.1:{port}/mcp"
    server = MCPServer(
        "guarded",
        token_verifier=IntrospectionTokenVerifier(issuer, client_id, client_secret, resource_url=resource),
        auth=AuthSettings(issuer_url=issuer, resource_server_url=resource, required_scopes=["read"]),
    )

    @server.tool()
    def whoami() -> str:
        """The subject the caller's token was issued to."""
        token = get_access_token()
        return f"subject={token.subject if token else None} scopes={' '.join(token.scopes) if token else ''}"

    @server.tool()
    def add(a: int, b: int) -> int:
        """The sum of two integers."""
        return a + b

    return server


if __name__ == "__main__":
    port = int(sys.argv[1])
    build(port, sys.argv[2], sys.argv[3], os.environ["MCP_CLIENT_SECRET"]).run(
        "streamable-http", host="127.0.0.1", port=port)
