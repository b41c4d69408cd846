"""One draft operation as a `RestTool`: arguments, wire mapping, output schema, security."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from specbridge_runtime.contract import Param

from specbridge import codes
from specbridge.diagnostics import Level
from specbridge.ir import Argument, RestTool
from specbridge.naming import NameAllocator, argument_name
from specbridge.normalize.body import build_body
from specbridge.normalize.describe import synthesized_description, synthesized_title
from specbridge.normalize.drafts import OperationDraft, ParameterDraft
from specbridge.normalize.output import output_schema
from specbridge.normalize.report import Reporter
from specbridge.normalize.schemas import SchemaNormalizer
from specbridge.normalize.security import AuthSetup, operation_security
from specbridge.normalize.text import clean_text, first_sentence, one_line

# OpenAPI: "If in is header and the name is Accept, Content-Type or Authorization, the definition SHALL be
# ignored" (the HTTP layer and auth set them).
IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_LOCATION_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}
_TEMPLATE = re.compile(r"{([^{}/]+)}")


@dataclass(frozen=True, slots=True)
class BuiltTool:
    tool: RestTool
    refs: frozenset[str]  # component schemas its input refers to


class ToolBuilder:
    def __init__(self, schemas: SchemaNormalizer, auth: AuthSetup, report: Reporter) -> None:
        self.schemas = schemas
        self.auth = auth
        self.report = report

    def build(self, draft: OperationDraft, name: str) -> BuiltTool:
        refs: set[str] = set()
        names = NameAllocator()
        arguments: list[Argument] = []
        params: list[Param] = []
        for parameter in self._parameters(draft):
            argument, param = self._parameter(parameter, names, refs)
            arguments.append(argument)
            params.append(param)
        body = None
        if draft.body is not None:
            body, body_arguments = build_body(draft.body, self.schemas, names, refs)
            arguments.extend(body_arguments)
        output, wrap = (None, False) if draft.response is None else output_schema(
            draft.response, self.schemas, draft.response_headers)
        tool = RestTool(
            name=name, operation_id=draft.operation_id, method=draft.method, path=draft.path,
            # Without a summary, a short first sentence of the description reads better than an identifier;
            # without either, what the method does to the path says more than the operationId.
            title=one_line(draft.summary) or first_sentence(draft.description)
            or synthesized_title(draft.method, draft.path),
            description=clean_text(draft.description) or clean_text(draft.summary)
            or synthesized_description(draft.method, draft.path, arguments),
            arguments=tuple(arguments), params=tuple(params), body=body, output_schema=output, wrap_output=wrap,
            response_headers=draft.response_headers,
            tags=draft.tags, security=self._security(draft),
            idempotent=draft.idempotent, deprecated=draft.deprecated, location=draft.where,
            query=draft.query, accept=draft.accept,
        )
        return BuiltTool(tool, frozenset(refs))

    def _security(self, draft: OperationDraft) -> tuple[tuple[str, ...], ...] | None:
        where = draft.auth_where if draft.auth is not None else f"{draft.where}/security"
        return operation_security(draft.security, self.auth, where, self.report, draft.auth)

    def _parameters(self, draft: OperationDraft) -> list[ParameterDraft]:
        """Parameters in argument order (path, query, header, cookie), the path template made whole."""
        in_template = list(dict.fromkeys(_TEMPLATE.findall(draft.path)))
        fixed = {name for name, _value in draft.query}
        kept: list[ParameterDraft] = []
        for parameter in draft.parameters:
            if parameter.location == "query" and parameter.name in fixed:
                continue  # the path key fixes its value (`/?Action=CreateGroup`)
            if parameter.location == "header" and parameter.name.lower() in IGNORED_HEADERS:
                self.report.repeated(Level.INFO, codes.IGNORED_HEADER, f"header parameter {parameter.name!r} is "
                                     "ignored (OpenAPI: set by the HTTP layer)", parameter.where)
            elif parameter.location == "path" and parameter.name not in in_template:
                self.report.add(Level.WARNING, codes.PARAMETER, f"{draft.label}: path parameter "
                                f"{parameter.name!r} is not in the path; ignored", parameter.where)
            else:
                kept.append(parameter)
        declared = {parameter.name for parameter in kept if parameter.location == "path"}
        for variable in in_template:
            if variable not in declared:
                self.report.add(Level.WARNING, codes.PARAMETER, f"{draft.label}: path variable {{{variable}}} has "
                                "no parameter; a required string argument is added", draft.where)
                kept.append(ParameterDraft(variable, "path", {"type": "string"}, True, where=draft.where))
        return sorted(kept, key=lambda parameter: _LOCATION_ORDER[parameter.location])

    def _parameter(self, parameter: ParameterDraft, names: NameAllocator, refs: set[str]) -> tuple[Argument, Param]:
        where = f"{parameter.where}/schema"
        schema: Any = (self.schemas.request(parameter.schema, where, refs) if parameter.schema is not None
                       else {"type": "string"})
        if isinstance(schema, dict):
            if parameter.examples and "examples" not in schema:
                schema = {**schema, "examples": list(parameter.examples)}
            if parameter.deprecated:
                schema = {**schema, "deprecated": True}
        arg = names.claim(argument_name(parameter.name), prefix=parameter.location)
        argument = Argument(arg, schema, parameter.required, parameter.location, clean_text(parameter.description))
        param = Param(arg, parameter.name, parameter.location, parameter.style, parameter.explode,
                      parameter.allow_reserved, parameter.content_type)
        return argument, param


def with_security(tool: RestTool, security: tuple[tuple[str, ...], ...] | None) -> RestTool:
    return tool if tool.security == security else replace(tool, security=security)
