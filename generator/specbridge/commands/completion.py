"""`specbridge completion SHELL`: the shell-completion script of `specbridge` (click's), to source from a
shell's start-up file: `eval "$(specbridge completion bash)"`."""

from __future__ import annotations

import click
from click.shell_completion import get_completion_class

from . import EXIT_OK, version_option

COMPLETE_VARIABLE = "_SPECBRIDGE_COMPLETE"


@click.command("completion")
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
@version_option
@click.pass_context
def completion_command(context: click.Context, shell: str) -> int:
    """Print the shell-completion script for SHELL (bash, zsh or fish)."""
    root = context.find_root()
    completion = get_completion_class(shell)
    if completion is None:  # click knows every choice above
        raise click.UsageError(f"no completion for {shell}")
    script = completion(root.command, {}, root.info_name or "specbridge", COMPLETE_VARIABLE).source()
    click.echo(script)
    return EXIT_OK
