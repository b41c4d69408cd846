"""`specbridge gateway GATEWAY.yaml [serve options | COMMAND ...]`: `specbridge-gateway` with the generator at
hand, so the gateway file may also list wrapper definitions (`definition: analytics.json`), which are read
here and served without generating a package."""

from __future__ import annotations

from pathlib import Path

import click
from specbridge_runtime import ConfigurationError
from specbridge_runtime.contract import WrapperSpec, gateway_main

from ..definition import RestDefinition, read_definition
from ..diagnostics import Level
from ..wrapper import wrapper_connector
from ..wrapper_render import wrapper_spec


def wrapper_spec_from_definition(path: Path) -> WrapperSpec:
    """A custom or mcp_registry definition as a `WrapperSpec` (no files written)."""
    read = read_definition(path)
    problems = [diagnostic for diagnostic in read.diagnostics if diagnostic.level is Level.ERROR]
    if read.definition is None or problems:
        raise ConfigurationError("; ".join(d.render() for d in problems) or f"{path}: not a connector definition")
    if isinstance(read.definition, RestDefinition):
        raise ConfigurationError(f"{path}: a REST connector is served from its generated package: run "
                                 "`specbridge gen` on it, pip install the package, then list it as `package: NAME`")
    built = wrapper_connector(read.definition, str(path))
    errors = [diagnostic for diagnostic in built.diagnostics if diagnostic.level is Level.ERROR]
    if built.connector is None or errors:
        raise ConfigurationError("; ".join(d.render() for d in errors) or f"{path}: no connector")
    return wrapper_spec(built.connector)


@click.command("gateway", context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False,
                                            "help_option_names": []})
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED, metavar="GATEWAY.yaml ...")
def gateway_command(arguments: tuple[str, ...]) -> int:
    """Serve a gateway file (as specbridge-gateway does), wrapper definitions included."""
    return gateway_main(list(arguments), read_definition=wrapper_spec_from_definition, prog="specbridge gateway")
