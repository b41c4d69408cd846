"""specbridge: generate typed, installable MCP server packages from API descriptions."""

__version__ = "0.1.0"
