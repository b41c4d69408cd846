"""normalize_rest: a rest definition and/or an OpenAPI document as one `RestConnector` (or one per tag)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from specbridge_runtime.contract import ConnectorSpec, Limits

from specbridge import codes
from specbridge.definition import LimitsConfig, RestDefinition
from specbridge.diagnostics import Diagnostic, Level, has_errors, pointer
from specbridge.ir import INPUT_SCHEMA_BUDGET, RestConnector, RestTool, SkippedOperation
from specbridge.naming import (
    NameAllocator,
    connector_name,
    distinguishing_words,
    framework_free,
    operation_slug,
    path_words,
    snake_case,
    tool_name,
)
from specbridge.normalize.document import SpecDocument
from specbridge.normalize.drafts import EXTENSION_TOOL_NAME, OperationDraft
from specbridge.normalize.manual import manual_operation, patched
from specbridge.normalize.report import Reporter
from specbridge.normalize.schemas import SchemaNormalizer
from specbridge.normalize.security import AuthSetup, auth_setup, drop_schemes, limit_schemes
from specbridge.normalize.servers import base_url
from specbridge.normalize.spec_operations import Drafted, spec_operations
from specbridge.normalize.split import group_key, split_by_tag
from specbridge.normalize.text import clean_text, one_line
from specbridge.normalize.tools import ToolBuilder, with_security
from specbridge.options import GenOptions
from specbridge.validate import detect_version

CONNECTOR_DESCRIPTION_MAX = 4000
Listed = frozenset[tuple[str, str]]  # (method, path) of the operations listed as tools


@dataclass(frozen=True, slots=True)
class NormalizeResult:
    connectors: tuple[RestConnector, ...]
    diagnostics: tuple[Diagnostic, ...]


def normalize_rest(definition: RestDefinition | None, document: dict[str, Any] | None, source: str,
                   options: GenOptions, *, sources: Sequence[str] = (), definition_source: str | None = None
                   ) -> NormalizeResult:
    """The connector(s) of a rest definition and/or an OpenAPI document. `source` is where the document
    came from (diagnostics point into it), `definition_source` the definition file (default: `source`);
    `sources` lists every file read, for `RestConnector.sources`."""
    report = Reporter(source, definition_source or source)
    if document is not None and detect_version(document) is None:
        report.add(Level.ERROR, codes.VERSION, "not a Swagger 2.0, OpenAPI 3.0 or 3.1 document", "#")
        return NormalizeResult((), report.finish())
    spec = SpecDocument(document)
    name = _connector_name(definition, spec, source, options, report)
    mode = options.tools or (definition.tools if definition else None) or "direct"
    drafts, skipped, listed = _drafts(definition, spec, options, mode, report)
    if not has_errors(report.diagnostics) and not drafts:
        _no_operations(spec, definition, skipped, report)
    if has_errors(report.diagnostics):
        return NormalizeResult((), report.finish())
    # The limit is on what a client lists: in dynamic mode, the operations also served as direct tools.
    weight = (lambda _draft: 1) if mode == "direct" else (lambda draft: int(_key(draft) in listed))
    groups, keys, by_tag = _groups(drafts, name, options, mode, weight, report)
    if has_errors(report.diagnostics) or not groups:
        return NormalizeResult((), report.finish())
    assembler = _Assembler(definition, spec, name, source, options, report, tuple(sources) or (source,),
                           mode, listed)
    connectors = tuple(assembler.connector(group_name, group, keys.get(group_name, ""))
                       for group_name, group in groups.items())
    assembler.report_unmatched()
    connectors = _with_skipped(connectors, skipped, name, by_tag)
    if has_errors(report.diagnostics):
        return NormalizeResult((), report.finish())
    return NormalizeResult(connectors, report.finish())


def _connector_name(definition: RestDefinition | None, spec: SpecDocument, source: str, options: GenOptions,
                    report: Reporter) -> str:
    info = spec.data.get("info")
    title = info.get("title") if isinstance(info, Mapping) else None
    stem = PurePosixPath(urlsplit(source).path).stem
    for given in (options.name, definition.name if definition else None, title, stem):
        if isinstance(given, str) and given.strip():
            name = connector_name(given)
            if given != name:
                report.add(Level.INFO, codes.NAMING, f"connector name {given!r} is used as {name!r}", "#")
            return name
    return connector_name("")


def _drafts(definition: RestDefinition | None, spec: SpecDocument, options: GenOptions, mode: str, report: Reporter
            ) -> tuple[list[OperationDraft], list[tuple[SkippedOperation, tuple[str, ...]]], Listed]:
    """The selected operations (imported, then hand-written), those skipped with their tags, and (by method
    and path) those listed as tools. In dynamic mode `exclude` selects, and `include` only chooses the
    operations also listed as direct tools."""
    drafts: list[OperationDraft] = []
    skipped: list[tuple[SkippedOperation, tuple[str, ...]]] = []
    drafted: list[tuple[Drafted, tuple[str, ...]]] = list(spec_operations(spec, report)) if spec.version else []
    for item, tags in drafted:
        if isinstance(item, SkippedOperation):
            skipped.append((item, tags))
        else:
            drafts.append(item)
    if definition is not None:
        drafts = _with_hand_written(drafts, definition, report)
    include = (*(definition.include if definition else ()), *options.include)
    exclude = (*(definition.exclude if definition else ()), *options.exclude)
    if mode == "dynamic":
        selected = [draft for draft in drafts if not _excluded(draft, definition, options)]
        listed = frozenset(_key(draft) for draft in selected if include and _included(draft, definition, options))
        if include and not listed:
            report.add(Level.WARNING, codes.DEFINITION_MISMATCH, f"include {list(include)} matched no operation, "
                       "so only the search, describe and call tools are listed", "#")
    else:
        selected = [draft for draft in drafts
                    if _included(draft, definition, options) and not _excluded(draft, definition, options)]
        listed = frozenset(_key(draft) for draft in selected)
    if drafts and not selected:
        report.add(Level.ERROR, codes.NO_OPERATIONS, f"no operations left: include {list(include)} / exclude "
                   f"{list(exclude)} matched away all {len(drafts)} (patterns match operationId, tag or path)", "#")
    return selected, skipped, listed


def _key(draft: OperationDraft) -> tuple[str, str]:
    return draft.method, draft.path


def _with_hand_written(drafts: list[OperationDraft], definition: RestDefinition, report: Reporter
                       ) -> list[OperationDraft]:
    result = list(drafts)
    positions: dict[str, int] = {}
    for index, draft in enumerate(result):
        for key in (draft.operation_id, snake_case(draft.operation_id)):
            if key:
                positions.setdefault(key, index)
    for index, config in enumerate(definition.operations):
        match = positions.get(config.name, positions.get(snake_case(config.name)))
        where = pointer("operations", index)
        if config.method is not None and config.path is not None:
            draft = manual_operation(config, index)
            if match is None:
                positions[config.name] = len(result)
                result.append(draft)
            else:
                result[match] = draft
        elif config.method is not None or config.path is not None:
            report.add(Level.ERROR, codes.DEFINITION_MISMATCH, f"operation {config.name!r} needs both `method` and "
                       "`path` (or neither, to adjust the imported operation of that name)", where)
        elif match is None:
            report.add(Level.ERROR, codes.DEFINITION_MISMATCH, f"operation {config.name!r} has no method and path "
                       "and no imported operation has that operationId", where)
        else:
            result[match] = patched(result[match], config, index)
    return result


def _included(draft: OperationDraft, definition: RestDefinition | None, options: GenOptions) -> bool:
    """Every `include` given (the definition's, the command line's) matches the operation."""
    keys = [key for key in (draft.operation_id, *draft.tags, draft.path) if key]
    return all(not include or any(fnmatchcase(key, pattern) for pattern in include for key in keys)
               for include in (definition.include if definition else [], options.include))


def _excluded(draft: OperationDraft, definition: RestDefinition | None, options: GenOptions) -> bool:
    keys = [key for key in (draft.operation_id, *draft.tags, draft.path) if key]
    return any(fnmatchcase(key, pattern) for pattern in (*(definition.exclude if definition else []),
                                                          *options.exclude) for key in keys)


def _groups(drafts: list[OperationDraft], name: str, options: GenOptions, mode: str,
            weight: Callable[[OperationDraft], int], report: Reporter
            ) -> tuple[dict[str, list[OperationDraft]], dict[str, str], dict[str, str]]:
    """Connector name -> its operations (one connector, or with --split-by tag one per tag or part of a
    tag), connector name -> its split key, and which connector each tag's skipped operations go to. The limit
    is on the `weight`s of a package's operations (what a client lists). A split package over the limit is
    left out with a warning; the others are generated."""
    if options.split_by != "tag":
        count = sum(map(weight, drafts))
        if count > options.max_operations:
            report.add(Level.ERROR, codes.TOO_MANY_OPERATIONS, _too_many(name, count, options, mode), "#/paths")
        return {name: drafts}, {}, {}
    split = split_by_tag(drafts, name, options.max_operations, weight)
    for group_name, count in split.oversized:
        report.add(Level.WARNING, codes.TOO_MANY_OPERATIONS, _too_many(group_name, count, options, mode)
                   + "; its operations share one path, so it is not split further and not generated", "#/paths")
        del split.groups[group_name]
    if not split.groups:
        report.add(Level.ERROR, codes.TOO_MANY_OPERATIONS, "no package fits the limit", "#/paths")
    return split.groups, split.keys, split.by_tag


def _too_many(group: str, count: int, options: GenOptions, mode: str) -> str:
    scope = f"connector {group!r}" if options.split_by else "the connector"
    ways = [
        "select fewer with --include/--exclude (globs on operationId, tag or path)",
        f"raise the limit with --max-operations N (N >= {count})",
    ]
    if options.split_by is None:
        ways.append("or generate one package per tag with --split-by tag")
    what = "direct tools" if mode == "dynamic" else "operations"
    return (f"{scope} would have {count} {what}, more than the limit of {options.max_operations}; "
            + "; ".join(ways))


def _no_operations(spec: SpecDocument, definition: RestDefinition | None, skipped: list[Any],
                   report: Reporter) -> None:
    if skipped:
        message = f"no operations could be generated: all {len(skipped)} were skipped (see the warnings)"
    elif isinstance(spec.data.get("webhooks"), Mapping) and spec.data["webhooks"]:
        message = "no operations: the document only has webhooks, which are calls from the API, not to it"
    elif spec.version is None and definition is not None:
        message = (f"no operations: the spec {definition.openapi!r} was not read" if definition.openapi else
                   "no operations: the definition has no `operations`")
    else:
        message = "no operations: the document's `paths` define none"
    report.add(Level.ERROR, codes.NO_OPERATIONS, message, "#/paths")


def _slugs(drafts: list[OperationDraft]) -> list[str]:
    """Each operation's part of its tool name: the operationId without a framework's suffix, unless two
    operations would then share it (FastAPI functions of the same name in two routers)."""
    # Without an operationId, the path's words name it; a path key's fixed query (`/?Action=ListGroups`) too.
    paths = ["/".join((d.path, *(value for _name, value in d.query))) for d in drafts]
    cleaned = [operation_slug(framework_free(d.operation_id, d.method, d.path), d.method, path)
               for d, path in zip(drafts, paths, strict=True)]
    counts = Counter(cleaned)
    return [slug if counts[slug] == 1 else operation_slug(draft.operation_id, draft.method, path)
            for slug, draft, path in zip(cleaned, drafts, paths, strict=True)]


def _with_skipped(connectors: tuple[RestConnector, ...], skipped: list[tuple[SkippedOperation, tuple[str, ...]]],
                  name: str, by_tag: dict[str, str]) -> tuple[RestConnector, ...]:
    """Skipped operations go to the connector their tag would have put them in (else the first)."""
    if not skipped:
        return connectors
    positions = {connector.spec.name: index for index, connector in enumerate(connectors)}
    routed: list[list[SkippedOperation]] = [[] for _ in connectors]
    for item, tags in skipped:
        routed[positions.get(by_tag.get(group_key(tags), name), 0)].append(item)
    return tuple(
        connector if not extra else replace(connector, skipped=(*connector.skipped, *extra))
        for connector, extra in zip(connectors, routed, strict=True)
    )


class _Assembler:
    """Builds connectors from groups of drafts, sharing the normalized component schemas."""

    def __init__(self, definition: RestDefinition | None, spec: SpecDocument, base_name: str, source: str,
                 options: GenOptions, report: Reporter, sources: tuple[str, ...], mode: str = "direct",
                 listed: Listed = frozenset()) -> None:
        self.definition = definition
        self.spec = spec
        self.base_name = base_name
        self.report = report
        self.sources = sources
        self.mode: Literal["direct", "dynamic"] = "dynamic" if mode == "dynamic" else "direct"
        self.listed = listed
        chosen_url = options.base_url or (definition.base_url if definition else None)
        self.base_url, self.server_variables = base_url(spec, chosen_url, source, base_name, report)
        self.schemas = SchemaNormalizer(spec, report)
        self.auth: AuthSetup = auth_setup(spec, definition.auth if definition else [], report)
        self.builder = ToolBuilder(self.schemas, self.auth, report)
        self.output_schemas = options.output_schemas or (definition.output_schemas if definition else None) or "loose"
        self._matched: set[tuple[str, str]] = set()  # (definition field, key) that named an operation

    def connector(self, name: str, drafts: list[OperationDraft], key: str = "") -> RestConnector:
        names = self._tool_names(name, drafts)
        built = [self.builder.build(draft, tool) for draft, tool in zip(drafts, names, strict=True)]
        tools = [item.tool for item in built]
        if self.output_schemas == "none":  # JSON results stay structured content, just not described
            tools = [replace(tool, output_schema=None) for tool in tools]
        if self.mode == "dynamic":
            tools = [replace(tool, listed=_key(draft) in self.listed)
                     for tool, draft in zip(tools, drafts, strict=True)]
        schemes, dropped = limit_schemes(self.auth, self._used_schemes(tools), self.report)
        security = drop_schemes(self.auth.security, dropped) or ()
        tools = [with_security(tool, drop_schemes(tool.security, dropped)) for tool in tools]
        spec = ConnectorSpec(
            name=name, title=self._title(key), version=self._version(),
            description=self._description(), base_url=self.base_url, server_variables=self.server_variables,
            headers=tuple((header.name, header.value) for header in self.definition.headers) if self.definition
            else (),
            auth=schemes, security=security, limits=self._limits(drafts, names),
            audit_arguments=self.definition.audit_arguments if self.definition else False,
        )
        components = self.schemas.closure(name for item in built for name in item.refs)
        tokens = tuple(scheme.name for scheme in schemes if scheme.name in self.auth.token_schemes)
        budget = self.definition.input_schema_budget if self.definition else INPUT_SCHEMA_BUDGET
        return RestConnector(spec, tuple(tools), components, (), self.sources, tools_mode=self.mode,
                             token_schemes=tokens, input_schema_budget=budget)

    def report_unmatched(self) -> None:
        """Definition entries that named no operation in any connector."""
        if self.definition is None:
            return
        for key in self.definition.tool_names:
            if ("tool_names", key) not in self._matched:
                self.report.add(Level.WARNING, codes.DEFINITION_MISMATCH, f"tool_names: no operation {key!r}",
                                pointer("tool_names", key))
        for key in self.definition.limits.operations if self.definition.limits else {}:
            if ("limits", key) not in self._matched:
                self.report.add(Level.WARNING, codes.DEFINITION_MISMATCH, f"limits: no operation or tool {key!r}",
                                pointer("limits", "operations", key))

    def _tool_names(self, connector: str, drafts: list[OperationDraft]) -> list[str]:
        overrides = self.definition.tool_names if self.definition else {}
        allocator = NameAllocator()
        chosen: list[str | None] = []
        for draft in drafts:
            override = overrides.get(draft.operation_id)
            if override is not None and override in allocator:
                self.report.add(Level.ERROR, codes.DEFINITION_MISMATCH, f"tool_names gives {override!r} to more than "
                                "one operation", pointer("tool_names", draft.operation_id))
            if override is not None:
                allocator.claim(override)
                self._matched.add(("tool_names", draft.operation_id))
            chosen.append(override)
        # Then the spec's own `x-specbridge-tool-name` (an overlay can set it), where the definition named none.
        for index, draft in enumerate(drafts):
            if chosen[index] is not None or draft.tool_name is None:
                continue
            if draft.tool_name in allocator:
                self.report.add(Level.WARNING, codes.NAMING, f"{EXTENSION_TOOL_NAME} {draft.tool_name!r} is already "
                                "the name of another tool; the generated name is used", draft.where)
            else:
                chosen[index] = allocator.claim(draft.tool_name)
        slugs = _slugs(drafts)
        bases = [tool_name(connector, slug) for slug in slugs]
        sharing: dict[str, list[int]] = {}
        for index, slug in enumerate(slugs):
            sharing.setdefault(slug, []).append(index)
        # Operations that would share a name (Kubernetes repeats operationIds per API version): the words of
        # their paths that tell them apart.
        apart: dict[int, list[str]] = {}
        for indices in sharing.values():
            if len(indices) > 1:
                apart.update(zip(indices, distinguishing_words([drafts[i].path for i in indices]), strict=True))
        names = []
        for index, (draft, override, slug) in enumerate(zip(drafts, chosen, slugs, strict=True)):
            if override is not None:
                names.append(override)
                continue
            name = bases[index]
            if name in allocator:  # its path's words tell it apart: those only it has, else those not in its name
                have = set(slug.split("_"))
                words = apart.get(index) or [word for word in path_words(draft.path) if word not in have]
                name = tool_name(connector, "_".join((slug, *words))) if words else name
            names.append(allocator.claim_with_hash(name, f"{draft.method} {draft.path}"))
        return names

    def _used_schemes(self, tools: list[RestTool]) -> set[str]:
        used = {name for alternative in self.auth.security for name in alternative}
        for tool in tools:
            used.update(name for alternative in tool.security or () for name in alternative)
        return used

    def _title(self, key: str) -> str:
        """The API's title, with the part of the API a split package holds (`GitHub (actions orgs)`)."""
        info = self.spec.data.get("info")
        title = one_line(self.definition.title if self.definition and self.definition.title else
                         info.get("title") if isinstance(info, Mapping) else None) or self.base_name
        return f"{title} ({key.replace('_', ' ')})" if key else title

    def _version(self) -> str:
        info = self.spec.data.get("info")
        version = self.definition.version if self.definition and self.definition.version else (
            info.get("version") if isinstance(info, Mapping) else None)
        return one_line(str(version), 64) if version is not None else "0.0.0"

    def _description(self) -> str:
        info = self.spec.data.get("info")
        if self.definition and self.definition.description:
            return clean_text(self.definition.description, CONNECTOR_DESCRIPTION_MAX)
        return clean_text(info.get("description") if isinstance(info, Mapping) else None, CONNECTOR_DESCRIPTION_MAX)

    def _limits(self, drafts: list[OperationDraft], names: list[str]) -> Limits:
        config: LimitsConfig | None = self.definition.limits if self.definition else None
        if config is None:
            return Limits()
        by_key: dict[str, str] = {}
        for draft, tool in zip(drafts, names, strict=True):
            for key in (tool, draft.operation_id, snake_case(draft.operation_id)):
                if key:
                    by_key.setdefault(key, tool)
        tools = {key: by_key[key] for key in config.operations if key in by_key}
        self._matched.update(("limits", key) for key in tools)
        return config.to_limits(tools)
