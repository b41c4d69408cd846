"""`specbridge gen [SOURCE]`: generate the package(s) of a definition or spec, or of every connector of
`specbridge.yaml`; with `--check`, write nothing and fail when what is on disk differs."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .. import codes
from ..diagnostics import Level, has_errors
from ..options import GenOptions
from ..pipeline import GenerateResult, RenderedPackage, generate
from ..write import check_package, write_package
from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, count_levels, print_diagnostics

# Options that shape one SOURCE's package; a project file gives them per connector.
_SOURCE_OPTIONS = ("out", "name", "base_url", "include", "exclude", "max_operations", "split_by", "overlay", "tools",
                   "output_schemas")


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """The options that choose what is generated from a source (shared with `inspect`)."""
    parser.add_argument("--name", help="connector name (default: the definition's, the spec title's or the file's)")
    parser.add_argument("--base-url", help="the API's base URL (wins over the definition's and the spec's)")
    parser.add_argument("--include", action="append", default=None, metavar="GLOB",
                        help="only operations whose operationId, tag or path matches (repeatable)")
    parser.add_argument("--exclude", action="append", default=None, metavar="GLOB",
                        help="leave out operations whose operationId, tag or path matches (repeatable)")
    parser.add_argument("--max-operations", type=_positive, default=None, metavar="N",
                        help="at most N tools per package (default 100)")
    parser.add_argument("--split-by", choices=["tag"], default=None, help="one package per tag")
    parser.add_argument("--overlay", action="append", default=None, metavar="FILE",
                        help="apply an OpenAPI Overlay 1.0 file to the spec before anything else (repeatable)")
    parser.add_argument("--tools", choices=["direct", "dynamic"], default=None,
                        help="direct: a tool per operation (default); dynamic: three tools to search, describe and "
                             "call the operations (with --include: those operations also as direct tools)")
    parser.add_argument("--output-schemas", choices=["loose", "none"], default=None,
                        help="loose: a lenient outputSchema per tool (default); none: no outputSchema")
    parser.add_argument("--deep", action="store_true",
                        help="also check the spec with openapi-spec-validator (slower; reads no file or URL)")
    parser.add_argument("--strict", action="store_true", help="fail on any warning")


def options_from(args: argparse.Namespace) -> GenOptions:
    return GenOptions(
        name=args.name, base_url=args.base_url, include=tuple(args.include or ()), exclude=tuple(args.exclude or ()),
        max_operations=args.max_operations if args.max_operations is not None else GenOptions.max_operations,
        split_by=args.split_by, strict=args.strict, overlays=tuple(args.overlay or ()), deep=args.deep,
        tools=args.tools, output_schemas=args.output_schemas,
    )


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def shown(path: Path) -> str:
    """`path` relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class GenCommand:
    name = "gen"
    help = "generate MCP server packages from a connector definition or an OpenAPI document"

    def configure(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("source", nargs="?", metavar="SOURCE",
                            help="connector definition or OpenAPI document (file or URL); "
                                 "default: every connector of specbridge.yaml")
        parser.add_argument("-o", "--out", metavar="OUT",
                            help="output folder (default generated/<name>; with --split-by, the packages' folder)")
        add_source_options(parser)
        parser.add_argument("--check", action="store_true",
                            help="write nothing; exit 1 naming the files that differ from what would be generated")

    def run(self, args: argparse.Namespace) -> int:
        if args.source is None:
            given = [f"--{option.replace('_', '-')}" for option in _SOURCE_OPTIONS if getattr(args, option)]
            if given:
                print(f"specbridge gen: {', '.join(given)} need a SOURCE (specbridge.yaml sets them per connector)",
                      file=sys.stderr)
                return EXIT_USAGE
        out = Path(args.out) if args.out else None
        result = generate(args.source, options_from(args), cwd=Path.cwd(), out=out)
        # Warnings were read when the output was generated; a drift check repeats only what fails it.
        print_diagnostics(d for d in result.diagnostics if not args.check or d.level is Level.ERROR)
        failed = any(d.code == codes.NOTHING_GENERATED for d in result.diagnostics)
        if args.check:
            return self._check(result, failed)
        written = []
        for package in result.packages:
            problems = write_package(package.out, package.files)
            print_diagnostics(problems)
            if has_errors(problems):
                failed = True
                continue
            written.append(package)
            print(f"{shown(package.out)}: {_size(package)}")
        tools = sum(_listed(package) for package in written)
        print(f"specbridge gen: {len(written)} package{'s' * (len(written) != 1)} written, {tools} tools; "
              f"{count_levels(result.diagnostics)}", file=sys.stderr)
        return EXIT_FAILED if failed or not written else EXIT_OK

    @staticmethod
    def _check(result: GenerateResult, failed: bool) -> int:
        drift = [
            os.path.join(shown(package.out), name)
            for package in result.packages
            for name in check_package(package.out, package.files)
        ]
        for path in drift:
            print(f"{path} differs from what specbridge gen would write")
        state = f"{len(drift)} file{'s' * (len(drift) != 1)} differ" if drift else "up to date"
        print(f"specbridge gen --check: {len(result.packages)} package{'s' * (len(result.packages) != 1)}, {state}; "
              f"{count_levels(result.diagnostics)}", file=sys.stderr)
        return EXIT_FAILED if failed or drift or not result.packages else EXIT_OK


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
