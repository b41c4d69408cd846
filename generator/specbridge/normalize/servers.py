"""The connector's base URL: the user's option, else the definition's, else the spec's first server
(a template with variables) or Swagger 2's scheme, host and base path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

from specbridge_runtime.contract import ServerVariable

from specbridge import codes
from specbridge.diagnostics import Level, pointer
from specbridge.load import is_url
from specbridge.normalize.document import SpecDocument
from specbridge.normalize.report import Reporter


def base_url(document: SpecDocument, chosen: str | None, source: str, connector: str,
             report: Reporter) -> tuple[str, tuple[ServerVariable, ...]]:
    """(`chosen` (option or definition) or the spec's URL, its variables)."""
    if chosen:
        return chosen, ()
    url, variables, where = _spec_url(document, report)
    if url and "://" not in url:
        if is_url(source):
            return urljoin(source, url), variables
        report.add(Level.WARNING, codes.BASE_URL,
                   f"the spec's server URL {url!r} is relative; set {connector.upper()}_BASE_URL (or --base-url) "
                   "to the API's address", where)
    elif not url:
        report.add(Level.WARNING, codes.BASE_URL, f"the spec names no server; set {connector.upper()}_BASE_URL "
                   "(or --base-url) to the API's address", where)
    return url, variables


def _spec_url(document: SpecDocument, report: Reporter) -> tuple[str, tuple[ServerVariable, ...], str]:
    data = document.data
    if document.swagger:
        host = data.get("host")
        base = data.get("basePath") if isinstance(data.get("basePath"), str) else ""
        if not isinstance(host, str) or not host:
            return (base or ""), (), pointer("host")
        raw = data.get("schemes")
        schemes = [scheme for scheme in raw if scheme in ("https", "http")] if isinstance(raw, list) else []
        scheme = "https" if "https" in schemes or not schemes else "http"
        return _trimmed(f"{scheme}://{host}{base}"), (), pointer("host")
    servers = data.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else None
    if not isinstance(first, Mapping) or not isinstance(first.get("url"), str):
        return "", (), pointer("servers")
    variables = tuple(_variables(first.get("variables"), report))
    return _trimmed(first["url"]), variables, pointer("servers", 0)


def _trimmed(url: str) -> str:
    return url.rstrip("/") or url


def _variables(raw: Any, report: Reporter) -> list[ServerVariable]:
    if not isinstance(raw, Mapping):
        return []
    found = []
    for name, variable in raw.items():
        where = pointer("servers", 0, "variables", name)
        if not isinstance(variable, Mapping) or variable.get("default") is None:
            report.add(Level.WARNING, codes.BASE_URL, f"server variable {name!r} has no default; left empty", where)
            found.append(ServerVariable(str(name), ""))
            continue
        enum = variable.get("enum")
        found.append(ServerVariable(str(name), str(variable["default"]),
                                    tuple(str(value) for value in enum) if isinstance(enum, list) else ()))
    return found
