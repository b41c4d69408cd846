"""specbridge runtime: the shared core of every MCP server specbridge generates."""

__version__ = "0.1.0"
