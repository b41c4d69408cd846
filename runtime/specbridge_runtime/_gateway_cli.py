"""`specbridge-gateway GATEWAY.yaml [serve options | COMMAND ...]`: the server's commands (serve by default,
tools, check, ...) for a gateway."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._assembly.gateway import (
    DefinitionReader,
    connector_names,
    gateway_environ,
    gateway_provider,
    stores_environ,
)
from ._cli import main as cli_main
from ._core.errors import ConfigurationError
from ._core.seams import ToolProvider
from ._core.version import __version__
from ._providers.gateway import GatewayConfig, read_config, unknown_connectors


def gateway_main(argv: Sequence[str] | None = None, *, read_definition: DefinitionReader | None = None,
                 prog: str = "specbridge-gateway") -> int:
    """Run a gateway's command; the exit code. `read_definition` lets it serve wrapper definition files."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["--version"]:
        print(f"{prog} {__version__}")
        return 0
    if not arguments or arguments[0].startswith("-"):
        print(f"usage: {prog} GATEWAY.yaml [--transport stdio|http|sse] [--host HOST] [--port PORT] "
              "| GATEWAY.yaml COMMAND ... | --version", file=sys.stderr)
        return 0 if arguments[:1] in (["-h"], ["--help"]) else 2
    path = Path(arguments[0])
    rest = arguments[1:]
    if not rest or (rest[0].startswith("-") and rest[0] not in ("-h", "--help")):
        rest = ["serve", *rest]
    try:
        config = read_config(path)
        unknown = unknown_connectors(config, connector_names(config, path.parent, read_definition))
        if unknown:
            raise ConfigurationError(f"{path}: {unknown}")
        environ = _with_stores(config, rest[0])
        # Only serving needs the callers' tokens: `creds set` must work while one is not stored yet.
        environ = gateway_environ(config, environ) if rest[0] == "serve" else environ
        gateway_provider(path, environ, read_definition=read_definition).check_tool_names()
    except ConfigurationError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1

    def provider(environ: Mapping[str, str]) -> ToolProvider:
        return gateway_provider(path, environ, read_definition=read_definition)

    return cli_main(provider, rest, environ=environ)


def _with_stores(config: GatewayConfig, command: str) -> dict[str, str]:
    """The environment with the stores the gateway file names; `creds` also runs while one of their URLs is
    not stored yet (it stores it, in this home's vault)."""
    try:
        return stores_environ(config, os.environ)
    except ConfigurationError:
        if command == "creds":
            return dict(os.environ)
        raise


def main() -> None:
    """The `specbridge-gateway` command."""
    sys.exit(gateway_main())
