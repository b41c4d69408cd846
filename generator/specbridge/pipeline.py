"""The generator pipeline: load -> validate -> normalize -> models -> schemas -> render -> format.

Each stage is a function from values to values; problems with the input are diagnostics, collected in
order. `generate` returns the rendered packages (nothing is written here: see `write.py`); `inspect`
stops before rendering.

The input is either a connector definition (it has `type:`) or an OpenAPI/Swagger document. `rest`
connectors go through the stages below; `mcp_registry` and `custom` ones are wrappers, built and
built by `specbridge.wrapper` and rendered by `specbridge.wrapper_render` (see `_wrapper_package`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from specbridge_runtime import SpecbridgeError
from specbridge_runtime import __version__ as runtime_version
from specbridge_runtime.contract import (
    ConnectorSpec,
    Operation,
    effective_security,
    resolve_reference,
    runtime_requirement,
)

from . import __version__ as generator_version
from . import codes
from .budget import models_within_budget
from .deep import deep_validate
from .definition import RestDefinition, definition_from_data
from .diagnostics import Diagnostic, Level, has_errors, pointer
from .format import format_python
from .ir import RestConnector, RestTool, SkippedOperation, WrapperConnector
from .load import LoadedDocument, confined, is_url, load_document, origin, public_url
from .normalize import normalize_rest
from .options import DEFAULT_NAMESPACE, GenOptions
from .overlay import apply_overlay
from .progress import SILENT, Progress
from .project import Job, find_project, read_project
from .render import render_package
from .validate import is_openapi_document, validate_openapi
from .wrapper import wrapper_connector
from .wrapper_render import wrapper_files
from .write import LOCK, Sources, lock_file

SPEC_HEADER_NAMESPACE = "specbridge"  # vault: and enc: values of --spec-header belong to this namespace


@dataclass(frozen=True, slots=True)
class RenderedPackage:
    out: Path
    files: dict[str, str]  # relative path -> text, `specbridge.lock` included
    connector_name: str
    tools: tuple[RestTool, ...] = ()
    skipped: tuple[SkippedOperation, ...] = ()
    tools_mode: str = "direct"


@dataclass(frozen=True, slots=True)
class GenerateResult:
    packages: tuple[RenderedPackage, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class InspectedConnector:
    name: str
    tools: tuple[RestTool, ...]
    skipped: tuple[SkippedOperation, ...]
    spec: ConnectorSpec | None = None  # None for a wrapper

    def auth_of(self, tool: RestTool) -> tuple[tuple[str, ...], ...]:
        """The security alternatives `tool` sends, as the runtime picks them (an empty one: no credentials)."""
        assert self.spec is not None
        operation = Operation(tool.name, tool.method, tool.path, "", security=tool.security)
        return effective_security(self.spec, operation)


@dataclass(frozen=True, slots=True)
class InspectResult:
    connectors: tuple[InspectedConnector, ...]
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True, slots=True)
class _Built:
    """What load, validate and normalize made of one source."""

    connectors: tuple[RestConnector, ...]
    wrappers: tuple[WrapperConnector, ...]
    digests: tuple[tuple[str, str], ...]  # (source relative to cwd, or URL; sha256)
    diagnostics: tuple[Diagnostic, ...]


def generate(source: str | None, options: GenOptions, *, cwd: Path, out: Path | None = None,
             progress: Progress = SILENT) -> GenerateResult:
    """The packages for `source` (relative to `cwd`, or a URL) rendered in memory, or with `source` None those
    of every connector of the project file (`specbridge.yaml`) found from `cwd`.
    `out`: the output folder (default `generated/<name>`; with `split_by`, the folder of the packages).
    `progress` hears of each stage done, with counts."""
    if source is not None:
        return _generate_job(Job(source, options, out), cwd, progress)
    project_file = find_project(cwd)
    if project_file is None:
        message = "no SOURCE given and no specbridge.yaml found here or above"
        return GenerateResult((), (Diagnostic(Level.ERROR, codes.PROJECT_INVALID, message, "", str(cwd)),))
    project = read_project(project_file)
    packages: list[RenderedPackage] = []
    diagnostics = list(project.diagnostics)
    for job in project.jobs:
        job_options = dataclasses.replace(job.options, strict=options.strict, deep=options.deep,
                                          spec_headers=options.spec_headers)
        result = _generate_job(Job(job.source, job_options, job.out), project.root, progress)
        packages += result.packages
        diagnostics += result.diagnostics
    return GenerateResult(tuple(packages), tuple(diagnostics))


def inspect(source: str, options: GenOptions, *, cwd: Path, progress: Progress = SILENT) -> InspectResult:
    """What `generate` would make of `source`, without rendering: tools, skipped operations, diagnostics
    (the models' included)."""
    built = _build(source, options, cwd, progress)
    diagnostics = list(built.diagnostics)
    classes = 0
    for connector in built.connectors:
        emitted, schemas = models_within_budget(connector, source=_first(connector))
        diagnostics += (*emitted.diagnostics, *schemas.diagnostics)
        classes += len(emitted.input_models)
    if built.connectors:
        progress.stage("models", f"{classes} input models")
    connectors = [InspectedConnector(c.spec.name, c.tools, c.skipped, c.spec) for c in built.connectors]
    connectors += [InspectedConnector(wrapper.name, (), ()) for wrapper in built.wrappers]
    return InspectResult(tuple(connectors), tuple(diagnostics))


def failed_strict(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.level is not Level.INFO for d in diagnostics)


def _generate_job(job: Job, cwd: Path, progress: Progress) -> GenerateResult:
    built = _build(job.source, job.options, cwd, progress)
    diagnostics = list(built.diagnostics)
    outs = _outs(built.connectors, job, cwd)
    rest, found = rest_packages(built.connectors, outs, built.digests, cwd, progress,
                                registry_namespace=job.options.registry_namespace)
    diagnostics += found
    packages = (*rest, *(_wrapper_package(wrapper, job, built.digests, cwd) for wrapper in built.wrappers))
    if job.options.strict and failed_strict(diagnostics):
        count = sum(d.level is Level.WARNING for d in diagnostics)
        diagnostics.append(Diagnostic(Level.ERROR, codes.STRICT_WARNINGS,
                                      f"--strict: {count} warning(s), so nothing is generated", "",
                                      public_url(job.source)))
        packages = ()
    if not packages:
        diagnostics.append(Diagnostic(Level.ERROR, codes.NOTHING_GENERATED, "no package was generated", "",
                                      public_url(job.source)))
    return GenerateResult(tuple(packages), tuple(diagnostics))


# --- load, validate, normalize ---------------------------------------------------------------------------


def _build(given: str, options: GenOptions, cwd: Path, progress: Progress) -> _Built:
    headers, problems = _spec_headers(options, given)
    if problems:
        return _Built((), (), (), problems)
    loaded = load_document(given, cwd=cwd, headers=headers)
    source = public_url(given)  # what diagnostics and the lock show: no userinfo, no query
    progress.stage("load", f"{source}: {_files(len(loaded.digests))}")
    diagnostics = list(loaded.diagnostics)
    document = loaded.document
    if document is None:
        return _Built((), (), loaded.digests, tuple(diagnostics))
    if is_openapi_document(document):
        return _rest(None, loaded, source, options, diagnostics, progress, cwd=cwd)
    if "type" not in document:
        diagnostics.append(Diagnostic(
            Level.ERROR, codes.SOURCE_UNKNOWN,
            "neither a connector definition (no `type:`) nor an OpenAPI document (no `openapi:` or `swagger:`)",
            "#", source))
        return _Built((), (), loaded.digests, tuple(diagnostics))
    read = definition_from_data(document, source)
    diagnostics += read.diagnostics
    definition = read.definition
    if definition is None:
        return _Built((), (), loaded.digests, tuple(diagnostics))
    if not isinstance(definition, RestDefinition):
        wrapped = wrapper_connector(definition, source, name=options.name)
        diagnostics += wrapped.diagnostics
        wrappers = (wrapped.connector,) if wrapped.connector is not None else ()
        return _Built((), wrappers, loaded.digests, tuple(diagnostics))
    if definition.openapi is None:
        return _rest(definition, None, source, options, diagnostics, progress, cwd=cwd, digests=loaded.digests)
    spec_ref = _relative_to(definition.openapi, given)
    if is_url(given) and origin(spec_ref) != origin(loaded.final_url or given):
        diagnostics.append(Diagnostic(
            Level.ERROR, codes.REMOTE_REFERENCE,
            f"a definition read from {origin(given)} may refer only to its own origin, not to "
            f"{public_url(spec_ref) if is_url(spec_ref) else 'a local file'}", "#/openapi", source))
        return _Built((), (), loaded.digests, tuple(diagnostics))
    spec = load_document(spec_ref, cwd=cwd, headers=headers)
    progress.stage("load", f"{public_url(spec_ref)}: {_files(len(spec.digests))}")
    diagnostics += spec.diagnostics
    if spec.document is None:
        return _Built((), (), loaded.digests + spec.digests, tuple(diagnostics))
    return _rest(definition, spec, public_url(spec_ref), options, diagnostics, progress, cwd=cwd,
                 digests=loaded.digests, definition_source=source)


def _files(count: int) -> str:
    return f"{count} file{'s' * (count != 1)} read"


def _spec_headers(options: GenOptions, source: str) -> tuple[tuple[tuple[str, str], ...], tuple[Diagnostic, ...]]:
    """The `--spec-header` values, references resolved now (never stored in options or output)."""
    headers: list[tuple[str, str]] = []
    problems: list[Diagnostic] = []
    for name, reference in options.spec_headers:
        try:
            headers.append((name, resolve_reference(SPEC_HEADER_NAMESPACE, reference)))
        except SpecbridgeError as error:
            problems.append(Diagnostic(Level.ERROR, codes.UNREADABLE, f"--spec-header {name}: {error}", "",
                                       public_url(source)))
    return tuple(headers), tuple(problems)


def _rest(definition: RestDefinition | None, spec: LoadedDocument | None, spec_source: str, options: GenOptions,
          diagnostics: list[Diagnostic], progress: Progress, *, cwd: Path, digests: tuple[tuple[str, str], ...] = (),
          definition_source: str = "") -> _Built:
    document = spec.document if spec is not None else None
    all_digests = digests + (spec.digests if spec is not None else ())
    if document is not None:
        overlaid: list[Diagnostic] = []
        all_digests += _apply_overlays(document, definition, definition_source, options, cwd, overlaid)
        diagnostics += overlaid
        if has_errors(overlaid):  # without the fixes asked for (an operation hidden, say), nothing is generated
            return _Built((), (), all_digests, tuple(diagnostics))
        found = validate_openapi(document, spec_source)
        if options.deep:
            found += deep_validate(document, spec_source)
        diagnostics += found
        progress.stage("validate", f"{len(found)} finding{'s' * (len(found) != 1)}")
    normalized = normalize_rest(definition, document, spec_source, options,
                                sources=[source for source, _digest in all_digests],
                                definition_source=definition_source or None)
    diagnostics += normalized.diagnostics
    tools = sum(len(connector.tools) for connector in normalized.connectors)
    skipped = sum(len(connector.skipped) for connector in normalized.connectors)
    count = len(normalized.connectors)
    progress.stage("normalize", f"{tools} tools in {count} connector{'s' * (count != 1)}, {skipped} operations "
                   "left out")
    return _Built(normalized.connectors, (), all_digests, tuple(diagnostics))


def _apply_overlays(document: dict[str, Any], definition: RestDefinition | None, definition_source: str,
                    options: GenOptions, cwd: Path, diagnostics: list[Diagnostic]) -> tuple[tuple[str, str], ...]:
    """The definition's overlays (confined to its folder or origin, like a spec's $refs), then those given
    on the command line, applied to `document` in place; the digests of the files read."""
    named: list[str] = []
    for index, ref in enumerate(definition.overlays if definition is not None else ()):
        location, refused = confined(ref, definition_source, cwd=cwd)
        if location is None:
            diagnostics.append(Diagnostic(Level.ERROR, codes.OVERLAY_REFUSED, f"overlay {ref!r} was not read: "
                                          f"{refused}", pointer("overlays", index), definition_source))
        else:
            named.append(location)
    digests: tuple[tuple[str, str], ...] = ()
    for ref in (*named, *options.overlays):
        loaded = load_document(ref, cwd=cwd, bundle_refs=False)
        diagnostics += loaded.diagnostics
        digests += loaded.digests
        if loaded.document is not None:
            diagnostics += apply_overlay(document, loaded.document, loaded.sources[0])
    return digests


def _relative_to(reference: str, base: str) -> str:
    """`reference` (from a definition) as a path relative to cwd, or a URL (from a definition read from a URL,
    always a URL: `/x` is a path on its origin, never a local file)."""
    if is_url(base):
        return urljoin(base, reference)
    if is_url(reference) or os.path.isabs(reference):
        return reference
    return os.path.normpath(os.path.join(os.path.dirname(base), reference))


def _wrapper_package(wrapper: WrapperConnector, job: Job, digests: tuple[tuple[str, str], ...],
                     cwd: Path) -> RenderedPackage:
    """An mcp_registry or custom connector's package (`wrapper_render`): rendered, formatted, locked."""
    out = job.out if job.out is not None else cwd / "generated" / wrapper.name
    files = wrapper_files(wrapper, _sources(digests, out, cwd), generator_version=generator_version,
                          runtime_version=runtime_version, registry_namespace=job.options.registry_namespace)
    return RenderedPackage(out, files, wrapper.name)


# --- models, schemas, render, format ---------------------------------------------------------------------


def _outs(connectors: Sequence[RestConnector], job: Job, cwd: Path) -> list[Path]:
    """Each connector's output folder: `out` (or generated/<name>), or with split_by one folder per
    connector inside it."""
    if job.options.split_by is None:
        return [job.out if job.out is not None else cwd / "generated" / c.spec.name for c in connectors]
    names = [c.spec.name for c in connectors]
    base = job.out if job.out is not None else cwd / "generated" / (job.options.name or _common_name(names))
    return [base / name for name in names]


def _common_name(names: Sequence[str]) -> str:
    """The words all the split packages' names start with (`shop_orders`, `shop_users` -> `shop`)."""
    common: list[str] = []
    for words in zip(*(name.split("_") for name in names), strict=False):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    return "_".join(common) or (names[0] if names else "api")


def rest_packages(connectors: Sequence[RestConnector], outs: Sequence[Path], digests: tuple[tuple[str, str], ...],
                   cwd: Path, progress: Progress = SILENT, *, registry_namespace: str = DEFAULT_NAMESPACE,
                   ) -> tuple[list[RenderedPackage], list[Diagnostic]]:
    """Models for every connector, their schemas, the rendered files, all formatted in two batches."""
    diagnostics: list[Diagnostic] = []
    total = sum(len(connector.tools) for connector in connectors)
    done = 0

    def one_more() -> None:
        nonlocal done
        done += 1
        progress.step("schemas", done, total)

    # The schemas are the same before formatting: computed once, with the input budgets applied.
    built = [models_within_budget(connector, sample_order=_sample_order(connector.tools), source=_first(connector),
                                  on_schema=one_more)
             for connector in connectors]
    for emitted, schemas in built:
        diagnostics += (*emitted.diagnostics, *schemas.diagnostics)
    if built:
        classes = sum(len(emitted.input_models) for emitted, _schemas in built)
        progress.stage("models", f"{classes} input models in {len(built)} module{'s' * (len(built) != 1)}")
        progress.stage("schemas", f"{total} input schemas")
    packages: list[RenderedPackage] = []
    rendered: list[tuple[int, RestConnector, dict[str, str]]] = []
    for index, (connector, (emitted, schemas)) in enumerate(zip(connectors, built, strict=True)):
        kept = dataclasses.replace(connector, tools=tuple(t for t in connector.tools if t.name in schemas.schemas))
        if not kept.tools:
            continue
        files = render_package(kept, emitted, schemas, generator_version=generator_version,
                               runtime_version=runtime_version, registry_namespace=registry_namespace)
        rendered.append((index, kept, files))
    python = {
        f"{index}/{name}": text
        for index, _connector, files in rendered
        for name, text in files.items()
        if name.endswith(".py")
    }
    formatted = format_python(python, first_party=[f"{c.spec.name}_mcp" for _i, c, _f in rendered])
    for index, connector, files in rendered:
        for name in files:
            files[name] = formatted.get(f"{index}/{name}", files[name])
        out = outs[index]
        files[LOCK] = lock_file(files, _sources(digests, out, cwd), generator_version=generator_version,
                                runtime_requirement=runtime_requirement(runtime_version))
        packages.append(RenderedPackage(out, files, connector.spec.name, connector.tools, connector.skipped,
                                        connector.tools_mode))
    if rendered:
        progress.stage("render", f"{len(packages)} package{'s' * (len(packages) != 1)} rendered and formatted")
    return packages, diagnostics


def _sample_order(tools: Sequence[RestTool]) -> list[str]:
    """Tools to try for the package's own test call: those without a body first (simplest to satisfy)."""
    return [tool.name for tool in sorted(tools, key=lambda tool: tool.body is not None)]


def _first(connector: RestConnector) -> str:
    return connector.sources[0] if connector.sources else ""


def _sources(digests: tuple[tuple[str, str], ...], out: Path, cwd: Path) -> Sources:
    """The sources as the lock records them: URLs, or paths relative to the package (the same wherever the
    repository is)."""
    return Sources({
        # abspath, not resolve: a checkout reached through a symlink must record the same paths.
        source if is_url(source) else Path(os.path.relpath(os.path.abspath(cwd / source),
                                                            os.path.abspath(out))).as_posix(): digest
        for source, digest in digests
    })

