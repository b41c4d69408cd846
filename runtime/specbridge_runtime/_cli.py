"""The command line of every generated server (`<name>-mcp`): argparse subcommands built from `commands()`.
Adding a command is a module under `_commands/` and one line in that list. The command modules are
imported when the command line runs, not with the runtime (a generated package imports `run_cli`), and
each imports what its `run` needs only when it runs.

Logs go to stderr only (stdout carries the stdio transport), at the level of `SPECBRIDGE_LOG_LEVEL`
(default INFO for the runtime, WARNING for libraries, which may log URLs). A user error is one line on
stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from ._core.errors import SpecbridgeError
from ._core.version import __version__
from ._providers.package import RestPackage, WrapperPackage

if TYPE_CHECKING:
    from ._commands._context import Command, ProviderFactory


def commands() -> list[Command]:
    """The subcommands, in the order `--help` lists them."""
    from ._commands.check import CheckCommand
    from ._commands.creds import CredsCommand
    from ._commands.login import LoginCommand
    from ._commands.serve import ServeCommand
    from ._commands.tools import ToolsCommand
    from ._commands.usage import UsageCommand

    return [ServeCommand(), ToolsCommand(), UsageCommand(), CredsCommand(), LoginCommand(), CheckCommand()]


DEFAULT_COMMAND = "serve"
LOG_LEVEL_ENV = "SPECBRIDGE_LOG_LEVEL"
LOG_FORMAT_ENV = "SPECBRIDGE_LOG_FORMAT"
_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(environ: Mapping[str, str]) -> None:
    text = environ.get(LOG_LEVEL_ENV, "INFO").strip().upper()
    level = logging.getLevelName(text)
    handler = logging.StreamHandler(sys.stderr)
    if environ.get(LOG_FORMAT_ENV, "").strip().lower() == "json":
        from ._mechanisms.operations import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    runtime_logger = logging.getLogger("specbridge_runtime")
    if isinstance(level, int):
        runtime_logger.setLevel(level)
    else:
        runtime_logger.setLevel(logging.INFO)
        runtime_logger.warning("%s=%r is not a log level (DEBUG, INFO, WARNING, ERROR); using INFO", LOG_LEVEL_ENV,
                               text)


def version_line(distribution: str) -> str:
    """What `--version` prints: the command's distribution version and the runtime's."""
    from importlib import metadata

    try:
        own = metadata.version(distribution)
    except metadata.PackageNotFoundError:  # run from a folder, not installed
        own = "(not installed)"
    return f"{distribution} {own} (specbridge-runtime {__version__})"


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked (the metadata scan is not paid by every start)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **_: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
                         help="show the versions and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(version_line(parser.prog))
        parser.exit()


def build_parser(prog: str, description: str, commands: Sequence[Command]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in commands:
        command.configure(subparsers.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(target: RestPackage | WrapperPackage | ProviderFactory, argv: Sequence[str] | None = None, *,
         environ: Mapping[str, str] | None = None) -> int:
    """Run the CLI for `target` (a generated package, or a factory of the provider to serve); the exit code."""
    from ._commands._context import CliContext

    environ = os.environ if environ is None else environ
    if isinstance(target, RestPackage):
        prog, description = f"{target.name}-mcp", f"MCP server for {target.connector.title}"
    elif isinstance(target, WrapperPackage):
        prog, description = f"{target.name}-mcp", f"MCP server wrapping {target.name}"
    else:
        prog, description = os.path.basename(sys.argv[0]) or "specbridge-server", "MCP server"
    available = commands()
    parser = build_parser(prog, description, available)
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(arguments)
    if args.command is None:  # `<name>-mcp` alone serves stdio, as MCP client configurations start it
        args = parser.parse_args([DEFAULT_COMMAND, *arguments])
    configure_logging(environ)
    cli = CliContext(target=target, environ=environ, prog=prog)
    command = next(command for command in available if command.name == args.command)
    try:
        return command.run(args, cli)
    except SpecbridgeError as error:
        cli.note(f"{prog}: error: {error}")
        return 1
    except KeyboardInterrupt:
        return 130


def run_cli(target: RestPackage | WrapperPackage | ProviderFactory, argv: Sequence[str] | None = None) -> NoReturn:
    """The `main()` of a generated package: `run_cli(PACKAGE)`."""
    sys.exit(main(target, argv))
