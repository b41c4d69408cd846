"""validate: what is wrong with an OpenAPI document, as diagnostics.

Real specs are often slightly invalid, so almost everything is a warning and generation goes on; an
error means nothing usable can come out (not an OpenAPI document, an unknown version). The checks are
hand-written and cheap: a 13 MB spec validates in milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Literal

from specbridge import codes
from specbridge.bundle import follow_pointer, is_missing
from specbridge.diagnostics import Diagnostic, Level, pointer

Version = Literal["2.0", "3.0", "3.1"]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_OPENAPI_VERSION = re.compile(r"^3\.([01])(\.\d+)?(-[0-9A-Za-z.-]+)?$")
_TEMPLATE = re.compile(r"{([^{}/]+)}")
_LOCATIONS: dict[Version, frozenset[str]] = {
    "2.0": frozenset({"path", "query", "header", "formData", "body"}),
    "3.0": frozenset({"path", "query", "header", "cookie"}),
    "3.1": frozenset({"path", "query", "header", "cookie"}),
}
_SECURITY_TYPES: dict[Version, frozenset[str]] = {
    "2.0": frozenset({"basic", "apiKey", "oauth2"}),
    "3.0": frozenset({"apiKey", "http", "oauth2", "openIdConnect"}),
    "3.1": frozenset({"apiKey", "http", "oauth2", "openIdConnect", "mutualTLS"}),
}


def detect_version(document: Any) -> Version | None:
    if not isinstance(document, Mapping):
        return None
    swagger = document.get("swagger")
    if swagger is not None and str(swagger) == "2.0":
        return "2.0"
    match = _OPENAPI_VERSION.match(str(document.get("openapi", "")))
    if match is None:
        return None
    return "3.0" if match.group(1) == "0" else "3.1"


def is_openapi_document(data: Any) -> bool:
    """An OpenAPI/Swagger document rather than a connector definition (whose `openapi` is a path)."""
    if not isinstance(data, Mapping):
        return False
    if "swagger" in data:
        return True
    version = data.get("openapi")
    return isinstance(version, str | float) and re.match(r"^\d+(\.\d+)*", str(version)) is not None and (
        "info" in data or "paths" in data or "webhooks" in data)


def validate_openapi(document: Any, source: str) -> tuple[Diagnostic, ...]:
    if not isinstance(document, Mapping):
        return (Diagnostic(Level.ERROR, codes.NOT_A_MAPPING, "the document is not a JSON object or YAML mapping",
                           "#", source),)
    version = detect_version(document)
    if version is None:
        return (_version_error(document, source),)
    return tuple(_Checker(document, version, source).run())


def _version_error(document: Mapping[str, Any], source: str) -> Diagnostic:
    if "swagger" in document:
        found, where = f"swagger {document['swagger']!r}", pointer("swagger")
    elif "openapi" in document:
        found, where = f"openapi {document['openapi']!r}", pointer("openapi")
    else:
        return Diagnostic(Level.ERROR, codes.VERSION,
                          "not an OpenAPI document: it has neither an `openapi` nor a `swagger` field", "#", source)
    return Diagnostic(Level.ERROR, codes.VERSION,
                      f"{found} is not supported; specbridge reads Swagger 2.0, OpenAPI 3.0.x and 3.1.x", where, source)


class _Checker:
    def __init__(self, document: Mapping[str, Any], version: Version, source: str) -> None:
        self.document = document
        self.version = version
        self.source = source
        self.operation_ids: dict[str, str] = {}

    def warn(self, code: str, message: str, *where: str | int) -> Diagnostic:
        return Diagnostic(Level.WARNING, code, message, pointer(*where), self.source)

    def run(self) -> Iterator[Diagnostic]:
        if "swagger" in self.document and "openapi" in self.document:
            yield self.warn(codes.STRUCTURE, "both `swagger` and `openapi` are set; read as "
                            f"{'Swagger' if self.version == '2.0' else 'OpenAPI'} {self.version}", "openapi")
        yield from self._info()
        yield from self._servers()
        yield from self._security_schemes()
        paths = self.document.get("paths")
        if paths is None:
            if self.version != "3.1":
                yield self.warn(codes.STRUCTURE, "`paths` is missing", "paths")
        elif not isinstance(paths, Mapping):
            yield self.warn(codes.STRUCTURE, "`paths` is not an object", "paths")
        else:
            for path, item in paths.items():
                yield from self._path(str(path), item)

    def _info(self) -> Iterator[Diagnostic]:
        info = self.document.get("info")
        if not isinstance(info, Mapping):
            yield self.warn(codes.STRUCTURE, "`info` is missing or not an object", "info")
            return
        for key in ("title", "version"):
            if not isinstance(info.get(key), str):
                yield self.warn(codes.STRUCTURE, f"`info.{key}` is missing or not a string", "info", key)

    def _servers(self) -> Iterator[Diagnostic]:
        servers = self.document.get("servers")
        if servers is None or self.version == "2.0":
            return
        if not isinstance(servers, list):
            yield self.warn(codes.STRUCTURE, "`servers` is not a list", "servers")
            return
        for index, server in enumerate(servers):
            if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
                yield self.warn(codes.STRUCTURE, "a server needs a `url` string", "servers", index)

    def _security_schemes(self) -> Iterator[Diagnostic]:
        where: tuple[str, ...]
        if self.version == "2.0":
            schemes, where = self.document.get("securityDefinitions"), ("securityDefinitions",)
        else:
            components = self.document.get("components")
            schemes = components.get("securitySchemes") if isinstance(components, Mapping) else None
            where = ("components", "securitySchemes")
        if schemes is None:
            return
        if not isinstance(schemes, Mapping):
            yield self.warn(codes.STRUCTURE, "the security schemes are not an object", *where)
            return
        for name, scheme in schemes.items():
            scheme = self._deref(scheme)
            kind = scheme.get("type") if isinstance(scheme, Mapping) else None
            if not (isinstance(kind, str) and kind in _SECURITY_TYPES[self.version]):
                yield self.warn(codes.STRUCTURE, f"security scheme {name!r} has an unknown type {kind!r}",
                                *where, name)

    def _path(self, path: str, item: Any) -> Iterator[Diagnostic]:
        if not path.startswith("/"):
            yield self.warn(codes.STRUCTURE, f"path {path!r} does not start with '/'", "paths", path)
        item = self._deref(item)
        if not isinstance(item, Mapping):
            yield self.warn(codes.STRUCTURE, "a path item is not an object", "paths", path)
            return
        shared = list(self._parameters(item.get("parameters"), ("paths", path, "parameters")))
        yield from (diagnostic for diagnostic, _ in shared if diagnostic is not None)
        for method in HTTP_METHODS:
            if method in item:
                yield from self._operation(path, method, item[method], [p for _, p in shared if p is not None])

    def _operation(self, path: str, method: str, operation: Any, shared: list[tuple[str, str, bool]]
                   ) -> Iterator[Diagnostic]:
        where = ("paths", path, method)
        if not isinstance(operation, Mapping):
            yield self.warn(codes.STRUCTURE, f"{method.upper()} {path} is not an object", *where)
            return
        operation_id = operation.get("operationId")
        if operation_id is not None:
            if not isinstance(operation_id, str):
                yield self.warn(codes.STRUCTURE, "operationId is not a string", *where, "operationId")
            elif operation_id in self.operation_ids:
                yield self.warn(codes.DUPLICATE_OPERATION_ID,
                                f"operationId {operation_id!r} is also used by {self.operation_ids[operation_id]}",
                                *where, "operationId")
            else:
                self.operation_ids[operation_id] = f"{method.upper()} {path}"
        if "responses" not in operation and self.version != "3.1":
            yield self.warn(codes.STRUCTURE, f"{method.upper()} {path} has no `responses`", *where)
        own = list(self._parameters(operation.get("parameters"), (*where, "parameters")))
        yield from (diagnostic for diagnostic, _ in own if diagnostic is not None)
        declared = {(name, location): required for name, location, required in shared}
        declared.update({(name, location): required for name, location, required in
                         (p for _, p in own if p is not None)})
        yield from self._template(path, where, declared)

    def _template(self, path: str, where: tuple[str, ...], declared: dict[tuple[str, str], bool]
                  ) -> Iterator[Diagnostic]:
        in_template = set(_TEMPLATE.findall(path))
        in_parameters = {name for name, location in declared if location == "path"}
        for name in sorted(in_template - in_parameters):
            yield self.warn(codes.PATH_TEMPLATE, f"path variable {{{name}}} has no path parameter", *where)
        for name in sorted(in_parameters - in_template):
            yield self.warn(codes.PATH_TEMPLATE, f"path parameter {name!r} is not in the path", *where)
        for (name, location), required in sorted(declared.items()):
            if location == "path" and name in in_template and not required:
                yield self.warn(codes.PATH_TEMPLATE, f"path parameter {name!r} must be required", *where)

    def _parameters(self, parameters: Any, where: tuple[str | int, ...]
                    ) -> Iterator[tuple[Diagnostic | None, tuple[str, str, bool] | None]]:
        if parameters is None:
            return
        if not isinstance(parameters, list):
            yield self.warn(codes.STRUCTURE, "`parameters` is not a list", *where), None
            return
        for index, parameter in enumerate(parameters):
            parameter = self._deref(parameter)
            name = parameter.get("name") if isinstance(parameter, Mapping) else None
            location = parameter.get("in") if isinstance(parameter, Mapping) else None
            if not isinstance(name, str) or not isinstance(location, str):
                yield self.warn(codes.STRUCTURE, "a parameter needs `name` and `in` strings", *where, index), None
            elif location not in _LOCATIONS[self.version]:
                yield self.warn(codes.STRUCTURE, f"parameter {name!r} has an unknown location {location!r}",
                                *where, index), None
            else:
                yield None, (name, location, parameter.get("required") is True)

    def _deref(self, node: Any) -> Any:
        seen = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and seen < 32:
            ref: str = node["$ref"]
            if not ref.startswith("#"):
                return node
            target = follow_pointer(self.document, ref[1:])
            if is_missing(target):
                return node
            node, seen = target, seen + 1
        return node
