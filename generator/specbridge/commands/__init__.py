"""The subcommands of `specbridge`, one click command per module, listed in `cli.COMMANDS`.

A command returns its exit code. Only commands print: results on stdout, diagnostics on stderr (one per
line), then a summary line.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from .. import __version__
from ..diagnostics import Diagnostic, Level
from ..progress import SILENT, Progress, TerminalProgress

EXIT_OK = 0
EXIT_FAILED = 1  # nothing usable was generated, --strict found warnings, --check found drift
EXIT_USAGE = 2
EXIT_INTERNAL = 3

F = TypeVar("F", bound=Callable[..., Any])


def version_option(function: F) -> F:
    """`--version` on a subcommand too (`specbridge gen --version`)."""
    return click.version_option(__version__, "--version", prog_name="specbridge",
                                message="%(prog)s %(version)s")(function)


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=sys.stderr)


def count_levels(diagnostics: Iterable[Diagnostic]) -> str:
    found = list(diagnostics)
    errors = sum(d.level is Level.ERROR for d in found)
    warnings = sum(d.level is Level.WARNING for d in found)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"


def progress(command: str) -> Progress:
    """Stage lines and a progress bar on stderr when it is a terminal; nothing in a pipe or a log."""
    return TerminalProgress(sys.stderr, prefix=f"specbridge {command}") if sys.stderr.isatty() else SILENT
