"""The `specbridge` command, on click: a group of subcommands (a module each under `commands/`; adding a
command is one module and one line in `COMMANDS`).

Exit codes: 0 done, 1 nothing usable was generated (or --strict found warnings, or --check found drift),
2 usage error (the subcommand's help and the problem), 3 internal error. An internal error is a bug: one
line, with a hint to report it; the traceback only with `SPECBRIDGE_DEBUG=1`.

Shell completion comes from click: `specbridge completion bash|zsh|fish` prints the script to source.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence

import click

from . import __version__
from .commands import EXIT_FAILED, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE
from .commands.bundle import bundle_command
from .commands.completion import completion_command
from .commands.encrypt import encrypt_command
from .commands.gateway import gateway_command
from .commands.gen import gen_command
from .commands.inspect import inspect_command
from .commands.registry import registry_group

PROG = "specbridge"
COMMANDS: list[click.Command] = [
    gen_command,
    inspect_command,
    registry_group,
    bundle_command,
    encrypt_command,
    gateway_command,
    completion_command,
]
DEBUG_ENV = "SPECBRIDGE_DEBUG"


@click.group(name=PROG, context_settings={"help_option_names": ["-h", "--help"]}, no_args_is_help=True)
@click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s")
def specbridge() -> None:
    """Generate typed, installable MCP server packages from API descriptions."""


for _command in COMMANDS:
    specbridge.add_command(_command)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        result = specbridge.main(args=arguments, prog_name=PROG, standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as error:  # `specbridge` alone: the help, on stderr
        click.echo(error.ctx.get_help() if error.ctx else str(error), err=True)
        return EXIT_USAGE
    except click.UsageError as error:  # the help of the subcommand it was made in, then the problem
        if error.ctx is not None:
            click.echo(error.ctx.get_help() + "\n", err=True)
        click.echo(f"Error: {error.format_message()}", err=True)
        return EXIT_USAGE
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except click.exceptions.Exit as exit_:  # --help, --version
        return exit_.exit_code
    except (KeyboardInterrupt, click.Abort):
        return 130
    except BrokenPipeError:  # the reader left (`specbridge inspect --json | head`): not an error of ours
        # Python would complain again while flushing stdout at exit: point it at /dev/null first.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_FAILED
    except Exception as error:  # a bug: say so in one line, never a traceback unless asked
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        first_line = str(error).splitlines()[0][:300] if str(error) else ""
        command = next((argument for argument in arguments if not argument.startswith("-")), "")
        print(f"specbridge: internal error ({type(error).__name__}: {first_line}); this is a bug in specbridge, "
              f"please report it with the output of `{DEBUG_ENV}=1 specbridge {command} ...`", file=sys.stderr)
        return EXIT_INTERNAL
    return result if isinstance(result, int) else EXIT_OK
