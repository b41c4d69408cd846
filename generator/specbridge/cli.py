"""The `specbridge` command: argparse subcommands built from `COMMANDS` (a module each under `commands/`;
adding a command is one module and one line here).

Exit codes: 0 done, 1 nothing usable was generated (or --strict found warnings, or --check found drift),
2 usage error, 3 internal error. An internal error is a bug: one line, with a hint to report it; the
traceback only with `SPECBRIDGE_DEBUG=1`.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from . import __version__
from .commands import EXIT_INTERNAL, EXIT_USAGE, Command
from .commands.encrypt import EncryptCommand
from .commands.gateway import GatewayCommand
from .commands.gen import GenCommand
from .commands.inspect import InspectCommand
from .commands.registry import RegistryCommand

COMMANDS: list[Command] = [
    GenCommand(),
    InspectCommand(),
    RegistryCommand(),
    EncryptCommand(),
    GatewayCommand(),
]
DEBUG_ENV = "SPECBRIDGE_DEBUG"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="specbridge", description="Generate typed, installable MCP server packages from API descriptions.")
    parser.add_argument("--version", action="version", version=f"specbridge {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.configure(subparsers.add_parser(command.name, help=command.help, description=command.help))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help, --version (0) or a usage error (2)
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    command = next(command for command in COMMANDS if command.name == args.command)
    try:
        return command.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # a bug: say so in one line, never a traceback unless asked
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        first_line = str(error).splitlines()[0][:300] if str(error) else ""
        print(f"specbridge: internal error ({type(error).__name__}: {first_line}); this is a bug in specbridge, "
              f"please report it with the output of `{DEBUG_ENV}=1 specbridge {args.command} ...`", file=sys.stderr)
        return EXIT_INTERNAL

