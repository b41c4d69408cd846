"""The subcommands of `specbridge`, one module each, listed in `cli.COMMANDS`.

A command is an object with a `name`, a `help` line, `configure(parser)` and `run(args) -> exit code`.
Only commands print: results on stdout, diagnostics on stderr (one per line), then a summary line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from typing import Protocol

from ..diagnostics import Diagnostic, Level

EXIT_OK = 0
EXIT_FAILED = 1  # nothing usable was generated, --strict found warnings, --check found drift
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class Command(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def help(self) -> str: ...

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic.render(), file=sys.stderr)


def count_levels(diagnostics: Iterable[Diagnostic]) -> str:
    found = list(diagnostics)
    errors = sum(d.level is Level.ERROR for d in found)
    warnings = sum(d.level is Level.WARNING for d in found)
    return f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
