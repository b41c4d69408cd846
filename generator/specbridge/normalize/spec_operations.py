"""The operations of an OpenAPI document (Swagger 2.0, OpenAPI 3.0 or 3.1) as drafts.

Path-level parameters are merged with the operation's (the operation wins by name and location); refs to
parameters, request bodies, responses and path items are followed. Swagger 2's `body` and `formData`
parameters become a request body, `collectionFormat` becomes a style.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, cast
from urllib.parse import parse_qsl

from specbridge_runtime.contract import HttpMethod, ParamLocation, ParamStyle

from specbridge import codes
from specbridge.diagnostics import Level, pointer
from specbridge.ir import SkippedOperation
from specbridge.naming import TOOL_NAME
from specbridge.normalize import media
from specbridge.normalize.document import SpecDocument
from specbridge.normalize.drafts import EXTENSION_TOOL_NAME, BodyDraft, OperationDraft, ParameterDraft
from specbridge.normalize.report import Reporter
from specbridge.validate import HTTP_METHODS

STYLES: dict[str, frozenset[str]] = {
    "path": frozenset({"simple", "label", "matrix"}),
    "query": frozenset({"form", "spaceDelimited", "pipeDelimited", "deepObject"}),
    "header": frozenset({"simple"}),
    "cookie": frozenset({"form"}),
}
# Swagger 2 collectionFormat -> (style, explode) per location.
_COLLECTION_FORMATS: dict[str, tuple[str, bool]] = {
    "csv": ("form", False), "ssv": ("spaceDelimited", False), "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
_SWAGGER_SCHEMA_FIELDS = ("type", "format", "items", "default", "maximum", "exclusiveMaximum", "minimum",
                          "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems",
                          "uniqueItems", "enum", "multipleOf", "x-nullable", "description")

Drafted = OperationDraft | SkippedOperation


def spec_operations(document: SpecDocument, report: Reporter) -> Iterator[tuple[Drafted, tuple[str, ...]]]:
    """Each operation in document order as a draft (or why it was skipped), with its tags."""
    _report_not_generated(document, report)
    paths = document.data.get("paths")
    if not isinstance(paths, Mapping):
        return
    for raw_path, raw_item in paths.items():
        key = str(raw_path)
        path, query = split_path_key(key)
        item, _ = document.deref(raw_item, pointer("paths", key))
        if not isinstance(item, Mapping):
            yield _skip(report, "*", key, "the path item is not an object", pointer("paths", key)), ()
            continue
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            where = pointer("paths", key, method)
            if not isinstance(operation, Mapping):
                yield _skip(report, method.upper(), path, "the operation is not an object", where), ()
                continue
            raw_tags = operation.get("tags")
            tags = tuple(str(tag) for tag in raw_tags if isinstance(tag, str | int)) if isinstance(
                raw_tags, list) else ()
            drafted = _operation(document, path, cast(HttpMethod, method.upper()), item, operation, tags, where,
                                 report)
            yield (replace(drafted, query=query) if query and isinstance(drafted, OperationDraft) else drafted), tags


def split_path_key(key: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A path key with a query or fragment suffix, as cloud-provider specs write them to keep keys unique
    (`/?Action=CreateGroup&Version=2010-05-08`, `/#Action=CreateGroup`, `/GetComponent#componentArn`): the
    plain path, and the `name=value` pairs of the suffix, which are sent as query parameters on every call
    (a bare name only told keys apart)."""
    cut = min((index for index in (key.find("?"), key.find("#")) if index >= 0), default=-1)
    if cut < 0:
        return key, ()
    suffix = key[cut + 1:].lstrip("?#")
    pairs = tuple(parse_qsl("&".join(part for part in suffix.replace("#", "&").split("&") if "=" in part)))
    return key[:cut] or "/", pairs


def _report_not_generated(document: SpecDocument, report: Reporter) -> None:
    webhooks = document.data.get("webhooks")
    if isinstance(webhooks, Mapping) and webhooks:
        report.add(Level.INFO, codes.NOT_GENERATED, f"{len(webhooks)} webhook(s) are not turned into tools (they "
                   "are requests the API sends, not calls to it)", pointer("webhooks"))


def _skip(report: Reporter, method: str, path: str, reason: str, where: str) -> SkippedOperation:
    report.add(Level.WARNING, codes.OPERATION_SKIPPED, f"{method} {path} skipped: {reason}", where)
    return SkippedOperation(method, path, reason, where)


def _operation(document: SpecDocument, path: str, method: HttpMethod, item: Mapping[str, Any],
               operation: Mapping[str, Any], tags: tuple[str, ...], where: str, report: Reporter) -> Drafted:
    if isinstance(operation.get("callbacks"), Mapping) and operation["callbacks"]:
        report.repeated(Level.INFO, codes.NOT_GENERATED, "callbacks are not turned into tools", f"{where}/callbacks")
    parameters: list[ParameterDraft] = []
    form: list[tuple[Mapping[str, Any], str]] = []
    body: BodyDraft | None = None
    for raw, raw_where in _merged_parameters(document, item, operation, where, report):
        location = raw["in"]
        if document.swagger and location == "body":
            body = BodyDraft(_consumes(document, operation, ()), raw.get("schema"), raw.get("required") is True,
                             str(raw.get("description") or ""), f"{raw_where}/schema")
        elif document.swagger and location == "formData":
            form.append((raw, raw_where))
        elif location in STYLES:
            parameters.append(_parameter(document, raw, raw_where, report))
        elif raw.get("required") is True:
            return _skip(report, method, path, f"required parameter {raw['name']!r} is in {location!r}, which "
                         "is not a parameter location", raw_where)
        else:
            report.add(Level.WARNING, codes.PARAMETER, f"parameter {raw['name']!r} in unknown location "
                       f"{location!r} is ignored", raw_where)
    if form:
        body = _form_body(document, operation, form, where)
    elif not document.swagger:
        body = _request_body(document, operation.get("requestBody"), f"{where}/requestBody", report)
    return OperationDraft(
        method=method, path=path,
        operation_id=operation["operationId"] if isinstance(operation.get("operationId"), str) else "",
        summary=str(operation.get("summary") or ""), description=str(operation.get("description") or ""),
        tags=tags, parameters=tuple(parameters), body=body,
        response=_response_schema(document, operation, where),
        response_headers=_response_headers(document, operation, where),
        security=operation.get("security"), deprecated=operation.get("deprecated") is True, where=where,
        tool_name=_tool_name(operation, where, report),
        accept=_accept(document, operation, where),
    )


def _tool_name(operation: Mapping[str, Any], where: str, report: Reporter) -> str | None:
    """The operation's `x-specbridge-tool-name`, when it is a valid tool name (else a warning)."""
    given = operation.get(EXTENSION_TOOL_NAME)
    if given is None:
        return None
    if isinstance(given, str) and TOOL_NAME.match(given):
        return given
    report.add(Level.WARNING, codes.NAMING, f"{EXTENSION_TOOL_NAME} {str(given)[:80]!r} is not a tool name (at most "
               "64 of A-Z a-z 0-9 _ -); the generated name is used", f"{where}/{EXTENSION_TOOL_NAME}")
    return None


def _merged_parameters(document: SpecDocument, item: Mapping[str, Any], operation: Mapping[str, Any], where: str,
                       report: Reporter) -> list[tuple[Mapping[str, Any], str]]:
    merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
    path_where = where.rsplit("/", 1)[0]
    for raw_list, base in ((item.get("parameters"), f"{path_where}/parameters"),
                           (operation.get("parameters"), f"{where}/parameters")):
        if raw_list is None:
            continue
        if not isinstance(raw_list, list):
            report.add(Level.WARNING, codes.PARAMETER, "`parameters` is not a list; ignored", base)
            continue
        for index, raw in enumerate(raw_list):
            parameter, parameter_where = document.deref(raw, f"{base}/{index}")
            if not (isinstance(parameter, Mapping) and isinstance(parameter.get("name"), str)
                    and isinstance(parameter.get("in"), str)):
                report.add(Level.WARNING, codes.PARAMETER, "a parameter without `name` and `in` is ignored",
                           f"{base}/{index}")
                continue
            merged[(parameter["name"], parameter["in"])] = (parameter, parameter_where)
    return list(merged.values())


def _parameter(document: SpecDocument, raw: Mapping[str, Any], where: str, report: Reporter) -> ParameterDraft:
    location = cast(ParamLocation, raw["in"])
    schema: Any
    content_type = None
    if document.swagger:
        schema = _swagger_schema(raw)
        style, explode = _collection_style(raw, location, where, report)
    else:
        schema = raw.get("schema")
        content = raw.get("content")
        if schema is None and isinstance(content, Mapping) and content:
            content_type, media_object = next(iter(content.items()))
            schema = media_object.get("schema") if isinstance(media_object, Mapping) else None
        style, explode = _style(raw, location, where, report)
    examples: tuple[Any, ...] = ()
    if "example" in raw:
        examples = (raw["example"],)
    elif isinstance(raw.get("examples"), Mapping):
        examples = tuple(example["value"] for example in raw["examples"].values()
                         if isinstance(example, Mapping) and "value" in example)
    return ParameterDraft(
        name=raw["name"], location=location, schema=schema,
        required=raw.get("required") is True or location == "path",
        description=str(raw.get("description") or ""), style=style, explode=explode,
        allow_reserved=raw.get("allowReserved") is True, content_type=content_type, examples=examples,
        deprecated=raw.get("deprecated") is True, where=where,
    )


def _style(raw: Mapping[str, Any], location: str, where: str, report: Reporter
           ) -> tuple[ParamStyle | None, bool | None]:
    style = raw.get("style")
    explode = raw.get("explode") if isinstance(raw.get("explode"), bool) else None
    if style is None:
        return None, explode
    if not (isinstance(style, str) and style in STYLES[location]):
        report.add(Level.WARNING, codes.PARAMETER, f"style {style!r} is not allowed in {location}; the default is "
                   "used", where)
        return None, explode
    return cast(ParamStyle, style), explode


def _collection_style(raw: Mapping[str, Any], location: str, where: str, report: Reporter
                      ) -> tuple[ParamStyle | None, bool | None]:
    if raw.get("type") != "array":
        return None, None
    collection = raw.get("collectionFormat", "csv")
    if not isinstance(collection, str) or collection not in _COLLECTION_FORMATS:
        report.add(Level.WARNING, codes.PARAMETER, f"collectionFormat {collection!r} is not supported; csv is used",
                   where)
        collection = "csv"
    style, explode = _COLLECTION_FORMATS[collection]
    if location in ("path", "header"):
        return "simple", False
    if style not in STYLES.get(location, frozenset()):
        return None, explode
    return cast(ParamStyle, style), explode


def _swagger_schema(raw: Mapping[str, Any]) -> dict[str, Any]:
    """A Swagger 2 non-body parameter (or Items object) describes its value inline."""
    schema = {key: raw[key] for key in _SWAGGER_SCHEMA_FIELDS if key in raw and key != "description"}
    if isinstance(schema.get("items"), Mapping):
        schema["items"] = _swagger_schema(schema["items"])
    return schema


def _consumes(document: SpecDocument, operation: Mapping[str, Any], fallback: tuple[str, ...]) -> str:
    consumes = operation.get("consumes") or document.data.get("consumes") or fallback
    types = [value for value in consumes if isinstance(value, str)] if isinstance(consumes, list) else []
    return media.preferred(types) or "application/json"


def _form_body(document: SpecDocument, operation: Mapping[str, Any], form: list[tuple[Mapping[str, Any], str]],
               where: str) -> BodyDraft:
    properties = {}
    required = []
    for raw, _ in form:
        schema = _swagger_schema(raw)
        if raw.get("description"):
            schema["description"] = raw["description"]
        properties[raw["name"]] = schema
        if raw.get("required") is True:
            required.append(raw["name"])
    has_file = any(raw.get("type") == "file" for raw, _ in form)
    consumes = operation.get("consumes") or document.data.get("consumes") or []
    multipart = has_file or (isinstance(consumes, list) and "multipart/form-data" in consumes
                             and "application/x-www-form-urlencoded" not in consumes)
    body_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        body_schema["required"] = required
    return BodyDraft("multipart/form-data" if multipart else "application/x-www-form-urlencoded", body_schema,
                     bool(required), "", f"{where}/parameters")


def _request_body(document: SpecDocument, raw: Any, where: str, report: Reporter) -> BodyDraft | None:
    if raw is None:
        return None
    body, body_where = document.deref(raw, where)
    content = body.get("content") if isinstance(body, Mapping) else None
    if not isinstance(content, Mapping) or not content:
        report.add(Level.WARNING, codes.BODY, "the request body has no `content`; no body is sent", where)
        return None
    media_type = media.preferred(str(key) for key in content)
    assert media_type is not None  # content is not empty
    media_object = content[media_type]
    schema = media_object.get("schema") if isinstance(media_object, Mapping) else None
    return BodyDraft(media_type, schema, body.get("required") is True, str(body.get("description") or ""),
                     f"{body_where}/content/{pointer(media_type)[2:]}/schema")


def _response_schema(document: SpecDocument, operation: Mapping[str, Any], where: str) -> Any:
    responses = operation.get("responses")
    if not isinstance(responses, Mapping):
        return None
    statuses = [str(status) for status in responses]
    success = sorted(status for status in statuses if status[:1] == "2")
    for status in success or [status for status in statuses if status == "default"]:
        response, _ = document.deref(responses.get(status), f"{where}/responses/{status}")
        if not isinstance(response, Mapping):
            continue
        found = _json_schema_of(document, operation, response)
        if found is not None:
            return found
    return None


def _accept(document: SpecDocument, operation: Mapping[str, Any], where: str) -> str:
    """The Accept header: the media types the operation documents for success (else for `default`)."""
    if document.swagger:
        produces = operation.get("produces") or document.data.get("produces")
        types = [value for value in produces if isinstance(value, str)] if isinstance(produces, list) else []
        if not types and _response_schema(document, operation, where) is not None:
            types = ["application/json"]  # a schema without `produces`: read (and asked for) as JSON
    else:
        responses = operation.get("responses")
        by_status = {str(status): raw for status, raw in responses.items()} if isinstance(responses, Mapping) else {}
        types = []
        for status in sorted(s for s in by_status if s[:1] == "2") or [s for s in by_status if s == "default"]:
            response, _ = document.deref(by_status[status], f"{where}/responses/{status}")
            content = response.get("content") if isinstance(response, Mapping) else None
            types += [str(media_type) for media_type in content] if isinstance(content, Mapping) else []
    kept = [media_type.strip() for media_type in dict.fromkeys(types) if _header_safe(media_type)]
    return "" if not kept or "*/*" in kept else ", ".join(kept)


def _header_safe(media_type: str) -> bool:
    return "/" in media_type and all(32 <= ord(char) < 127 and char != "," for char in media_type.strip())


def _response_headers(document: SpecDocument, operation: Mapping[str, Any], where: str) -> tuple[str, ...]:
    """The names of the headers the success responses document, in lower-case name order."""
    responses = operation.get("responses")
    if not isinstance(responses, Mapping):
        return ()
    found: dict[str, str] = {}
    for status in sorted(str(status) for status in responses if str(status)[:1] == "2"):
        response, _ = document.deref(responses.get(status), f"{where}/responses/{status}")
        headers = response.get("headers") if isinstance(response, Mapping) else None
        if isinstance(headers, Mapping):
            for name in headers:
                found.setdefault(str(name).lower(), str(name))
    return tuple(found[key] for key in sorted(found))


def _json_schema_of(document: SpecDocument, operation: Mapping[str, Any], response: Mapping[str, Any]) -> Any:
    if document.swagger:
        produces = operation.get("produces") or document.data.get("produces")
        types = [value for value in produces if isinstance(value, str)] if isinstance(produces, list) else []
        if types and media.json_response(types) is None:
            return None
        schema = response.get("schema")
        # JSON documented without a schema (httpbin does this) is still structured output.
        return {} if schema is None and types else schema
    content = response.get("content")
    if not isinstance(content, Mapping):
        return None
    media_type = media.json_response(str(key) for key in content)
    if media_type is None:
        return None
    media_object = content[media_type]
    schema = media_object.get("schema") if isinstance(media_object, Mapping) else None
    return {} if schema is None else schema
