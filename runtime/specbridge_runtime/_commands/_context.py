"""What every subcommand gets: the `Command` shape and the `CliContext` it runs in."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TextIO

from .._assembly.connectors import build_provider
from .._core.seams import ToolProvider
from .._mechanisms.lane import ServerCard
from .._mechanisms.lifetime import ProviderLifetime
from .._providers.package import RestPackage, WrapperPackage

if TYPE_CHECKING:
    from .._mechanisms.server import ProviderServer

ProviderFactory = Callable[[Mapping[str, str]], ToolProvider]
"""Builds the provider a non-REST server runs (a wrapper, the gateway) from the environment."""


@dataclass
class CliContext:
    """The server the CLI is for (`target`: a generated REST or wrapper package, or a provider factory),
    the environment, and where output goes (stdout is the stdio transport's while serving)."""

    target: RestPackage | WrapperPackage | ProviderFactory
    environ: Mapping[str, str]
    prog: str
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)

    @property
    def package(self) -> RestPackage | None:
        return self.target if isinstance(self.target, RestPackage) else None

    def provider(self) -> ToolProvider:
        if isinstance(self.target, RestPackage | WrapperPackage):
            return build_provider(self.target, self.environ)
        return self.target(self.environ)

    def card(self, provider: ToolProvider) -> ServerCard:
        """What the server says of itself in `initialize`."""
        package = self.package
        if package is None:
            return ServerCard(provider.name, "")
        connector = package.connector
        return ServerCard(provider.name, connector.version, connector.title, connector.description or None)

    def server(self, provider: ToolProvider, lifetime: ProviderLifetime | None = None) -> ProviderServer:
        """The SDK's server for `provider` (imported here: the stdio lane may serve without it)."""
        from .._mechanisms.server import build_server

        card = self.card(provider)
        return build_server(provider, version=card.version, title=card.title, instructions=card.instructions,
                            lifetime=lifetime)

    def print(self, text: str) -> None:
        print(text, file=self.stdout)

    def note(self, text: str) -> None:
        """A status line for the user, on stderr."""
        print(text, file=self.stderr)


class Command(Protocol):
    """A subcommand: `name` and `help` for argparse, its options, and what it does (an exit code)."""

    name: str
    help: str

    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, cli: CliContext) -> int: ...
