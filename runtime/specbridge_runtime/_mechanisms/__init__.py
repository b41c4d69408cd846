"""Layer 2: HTTP, request building, response mapping, auth and OAuth, vault, limits, retries, audit, the MCP
server and its transports. Imports only `_core`."""
