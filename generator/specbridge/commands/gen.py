"""`specbridge gen [SOURCE]`: generate the package(s) of a definition or spec, or of every connector of
`specbridge.yaml`; with `--check`, write nothing and fail when what is on disk differs."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from specbridge_runtime.contract import is_reference

from .. import codes
from ..diagnostics import Level, has_errors
from ..options import DEFAULT_NAMESPACE, GenOptions
from ..pipeline import GenerateResult, RenderedPackage, generate
from ..write import check_package, write_package
from . import EXIT_FAILED, EXIT_OK, F, count_levels, print_diagnostics, progress, version_option

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Options that shape one SOURCE's package; a project file gives them per connector.
_SOURCE_OPTIONS = ("out", "name", "base_url", "include", "exclude", "max_operations", "split_by", "overlay", "tools",
                   "output_schemas", "registry_namespace")

def source_options(function: F) -> F:
    """The options that choose what is generated from a source (shared with `inspect`)."""
    options = [
        click.option("--name", help="connector name (default: the definition's, the spec title's or the file's)"),
        click.option("--base-url", help="the API's base URL (wins over the definition's and the spec's)"),
        click.option("--include", multiple=True, metavar="GLOB",
                     help="only operations whose operationId, tag or path matches (repeatable)"),
        click.option("--exclude", multiple=True, metavar="GLOB",
                     help="leave out operations whose operationId, tag or path matches (repeatable)"),
        click.option("--max-operations", type=click.IntRange(min=1), metavar="N",
                     help="at most N tools per package (default 100)"),
        click.option("--split-by", type=click.Choice(["tag"]), help="one package per tag"),
        click.option("--overlay", multiple=True, metavar="FILE",
                     help="apply an OpenAPI Overlay 1.0 file to the spec before anything else (repeatable)"),
        click.option("--tools", type=click.Choice(["direct", "dynamic"]),
                     help="direct: a tool per operation (default); dynamic: three tools to search, describe and call "
                          "the operations (with --include: those operations also as direct tools)"),
        click.option("--output-schemas", type=click.Choice(["loose", "none"]),
                     help="loose: a lenient outputSchema per tool (default); none: no outputSchema"),
        click.option("--deep", is_flag=True,
                     help="also check the spec with openapi-spec-validator (slower; reads no file or URL)"),
        click.option("--registry-namespace", metavar="NAMESPACE",
                     help=f"namespace of the server's name in server.json, e.g. io.github.<owner> "
                          f"(default {DEFAULT_NAMESPACE})"),
        click.option("--strict", is_flag=True, help="fail on any warning"),
        click.option("--spec-header", multiple=True, metavar="'NAME: VALUE'", callback=_headers,
                     help="a header sent when fetching the spec by URL, to its origin only (repeatable); VALUE is "
                          "env:VAR, vault:NAME or enc:... (never the secret itself on the command line)"),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def options_from(options: Mapping[str, Any]) -> GenOptions:
    max_operations = options["max_operations"]
    return GenOptions(
        name=options["name"], base_url=options["base_url"], include=tuple(options["include"]),
        exclude=tuple(options["exclude"]),
        max_operations=max_operations if max_operations is not None else GenOptions.max_operations,
        split_by=options["split_by"], strict=options["strict"], overlays=tuple(options["overlay"]),
        deep=options["deep"], tools=options["tools"], output_schemas=options["output_schemas"],
        registry_namespace=options["registry_namespace"] or DEFAULT_NAMESPACE,
        spec_headers=tuple(options["spec_header"]),
    )


def _headers(_context: click.Context, _parameter: click.Parameter,
             values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Each `Name: value`, with a valid header name and a value that is a secret reference."""
    headers = []
    for text in values:
        name, colon, value = text.partition(":")
        name, value = name.strip(), value.strip()
        if not colon or not _HEADER_NAME.fullmatch(name) or not value:
            raise click.BadParameter(f"{text!r} is not 'Name: value'")
        if not is_reference(value):
            raise click.BadParameter(f"the value of {name} must be env:VAR, vault:NAME or enc:... (a secret is never "
                                     "written on a command line, where other users can read it)")
        headers.append((name, value))
    return tuple(headers)


def shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@click.command("gen")
@click.argument("source", required=False, metavar="[SOURCE]")
@click.option("-o", "--out", metavar="OUT",
              help="output folder (default generated/<name>; with --split-by, the packages' folder)")
@source_options
@click.option("--check", is_flag=True,
              help="write nothing; exit 1 naming the files that differ from what would be generated")
@version_option
def gen_command(source: str | None, out: str | None, check: bool, **options: Any) -> int:
    """Generate MCP server packages from a connector definition or an OpenAPI document (file or URL).

    Without SOURCE, every connector of specbridge.yaml.
    """
    if source is None:
        given = [f"--{option.replace('_', '-')}" for option in _SOURCE_OPTIONS
                 if (out if option == "out" else options[option])]
        if given:
            raise click.UsageError(f"{', '.join(given)} need a SOURCE (specbridge.yaml sets them per connector)")
    result = generate(source, options_from(options), cwd=Path.cwd(), out=Path(out) if out else None,
                      progress=progress("gen"))
    # Warnings were read when the output was generated; a drift check repeats only what fails it.
    print_diagnostics(d for d in result.diagnostics if not check or d.level is Level.ERROR)
    failed = any(d.code == codes.NOTHING_GENERATED for d in result.diagnostics)
    if check:
        return _check(result, failed)
    written = []
    reported = list(result.diagnostics)  # the summary counts every diagnostic printed, writing's too
    for package in result.packages:
        problems = write_package(package.out, package.files)
        print_diagnostics(problems)
        reported += problems
        if has_errors(problems):
            failed = True
            continue
        written.append(package)
        print(f"{shown(package.out)}: {_size(package)}")
    tools = sum(_listed(package) for package in written)
    print(f"specbridge gen: {len(written)} package{'s' * (len(written) != 1)} written, {tools} tools; "
          f"{count_levels(reported)}", file=sys.stderr)
    return EXIT_FAILED if failed or not written else EXIT_OK


def _check(result: GenerateResult, failed: bool) -> int:
    drift = [
        os.path.join(shown(package.out), name)
        for package in result.packages
        for name in check_package(package.out, package.files)
    ]
    for path in drift:
        print(f"{path} differs from what specbridge gen would write")
    errors = sum(d.level is Level.ERROR for d in result.diagnostics)
    warnings = sum(d.level is Level.WARNING for d in result.diagnostics)
    unrepeated = f", {warnings} warning{'s' * (warnings != 1)} not repeated (`specbridge gen` shows them)"
    counts = f"{errors} error{'s' * (errors != 1)}" + (unrepeated if warnings else "")
    if not result.packages:
        print(f"specbridge gen --check: nothing checked, no package could be generated; {counts}", file=sys.stderr)
        return EXIT_FAILED
    state = f"{len(drift)} file{'s' * (len(drift) != 1)} differ" if drift else "up to date"
    print(f"specbridge gen --check: {len(result.packages)} package{'s' * (len(result.packages) != 1)}, {state}; "
          f"{counts}", file=sys.stderr)
    return EXIT_FAILED if failed or drift else EXIT_OK


def _listed(package: RenderedPackage) -> int:
    """The tools a client lists: one per operation, or the three of `--tools dynamic` and its direct ones."""
    if package.tools_mode == "dynamic":
        return 3 + sum(tool.listed for tool in package.tools)
    return len(package.tools)


def _size(package: RenderedPackage) -> str:
    skipped = f", {len(package.skipped)} operations left out" if package.skipped else ""
    if package.tools_mode == "dynamic":
        direct = _listed(package) - 3
        return f"3 tools to search, describe and call {len(package.tools)} operations, {direct} direct tools{skipped}"
    return f"{len(package.tools)} tools{skipped}" if package.tools else f"{len(package.files)} files"
