"""`specbridge bundle PACKAGE [-o FILE.mcpb]`: an MCP Bundle of a generated package, for one-click install
in desktop clients (see `mcpb.py` for what is inside)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..diagnostics import has_errors
from ..mcpb import build_bundle
from . import EXIT_FAILED, EXIT_OK, count_levels, print_diagnostics, version_option
from .gen import shown


@click.command("bundle")
@click.argument("package", metavar="PACKAGE", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", metavar="FILE.mcpb", type=click.Path(dir_okay=False, path_type=Path),
              help="where to write the bundle (default: PACKAGE's distribution name and version, .mcpb, in the "
                   "working folder)")
@click.option("--find-links", multiple=True, metavar="DIR",
              help="a folder of wheels pip may install from (e.g. one holding specbridge-runtime; repeatable)")
@click.option("--no-index", is_flag=True, help="install only from --find-links, never from a package index")
@click.option("--author", default="specbridge", show_default=True, help="the author named in the manifest")
@version_option
def bundle_command(package: Path, output: Path | None, find_links: tuple[str, ...], no_index: bool,
                   author: str) -> int:
    """Write an MCP Bundle (.mcpb) of PACKAGE, a folder made by `specbridge gen`, with its dependencies."""
    pip_args = [argument for link in find_links for argument in ("--find-links", link)]
    if no_index:
        pip_args.append("--no-index")
    target = output if output is not None else Path.cwd() / f"{package.resolve().name}.mcpb"
    result = build_bundle(package, target, pip_args=pip_args, author=author)
    print_diagnostics(result.diagnostics)
    if result.path is None or result.manifest is None or has_errors(result.diagnostics):
        print(f"specbridge bundle: nothing written; {count_levels(result.diagnostics)}", file=sys.stderr)
        return EXIT_FAILED
    compatibility = result.manifest["compatibility"]
    print(shown(result.path))
    print(f"specbridge bundle: {result.manifest['name']} {result.manifest['version']}, "
          f"{len(result.manifest.get('user_config', {}))} settings, for {', '.join(compatibility['platforms'])} "
          f"with Python {compatibility['runtimes']['python']}", file=sys.stderr)
    return EXIT_OK
