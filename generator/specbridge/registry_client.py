"""A client of the MCP Registry's read API (`/v0.1`): search with cursor paging, one version of a server.

The base URL comes from `--registry-url`, else SPECBRIDGE_REGISTRY_URL, else the official registry.
Every problem (unreachable, not found, not a server.json) is a diagnostic, never an exception.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2
from pydantic import ValidationError

from specbridge import codes
from specbridge.diagnostics import Diagnostic, Level
from specbridge.server_json import VERSION_PLACEHOLDER, ServerResponse, expand_placeholders

DEFAULT_REGISTRY_URL = "https://registry.modelcontextprotocol.io"
REGISTRY_URL_ENV = "SPECBRIDGE_REGISTRY_URL"
API = "/v0.1"
PAGE_SIZE = 30
MAX_PAGES = 50  # a registry whose cursor never ends cannot keep a search going
MAX_RESPONSE_BYTES = 10 * 1024 * 1024


def registry_url(explicit: str | None = None, environ: Mapping[str, str] = os.environ) -> str:
    return (explicit or environ.get(REGISTRY_URL_ENV) or DEFAULT_REGISTRY_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class SearchResult:
    servers: tuple[ServerResponse, ...]
    diagnostics: tuple[Diagnostic, ...] = ()


@dataclass(frozen=True, slots=True)
class ServerLookup:
    server: ServerResponse | None
    diagnostics: tuple[Diagnostic, ...] = ()


class RegistryClient:
    def __init__(self, base_url: str, *, timeout_s: float = 30.0,
                 transport: httpx2.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx2.Client(base_url=self.base_url, timeout=timeout_s, transport=transport,
                                   headers={"Accept": "application/json"})

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._http.close()

    def search(self, text: str, *, limit: int = PAGE_SIZE, latest_only: bool = True) -> SearchResult:
        """Servers whose name matches `text`, following `nextCursor` (or the older `next_cursor`) until
        `limit` entries are found or the registry has no more."""
        found: list[ServerResponse] = []
        problems: list[Diagnostic] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = {"search": text, "limit": str(min(PAGE_SIZE, limit - len(found)))}
            if latest_only:
                params["version"] = "latest"
            if cursor:
                params["cursor"] = cursor
            page, failure = self._get_json(f"{API}/servers", params)
            if page is None:
                problems.extend(failure)
                break
            entries, skipped = _entries(page, self._where(f"{API}/servers"))
            found.extend(entries)
            problems.extend(skipped)
            metadata = page.get("metadata")
            cursor = (metadata.get("nextCursor") or metadata.get("next_cursor")) if isinstance(metadata, dict) else None
            if not cursor or not (entries or skipped) or len(found) >= limit:
                break
        return SearchResult(tuple(found[:limit]), tuple(problems))

    def get(self, name: str, version: str = "latest") -> ServerLookup:
        """One version of a server (`latest` for the newest), `${VERSION}` placeholders filled in."""
        path = f"{API}/servers/{quote(name, safe='')}/versions/{quote(version, safe='')}"
        document, problems = self._get_json(path, {})
        if document is None:
            return ServerLookup(None, problems)
        where = self._where(path)
        raw_version = document.get("server", {}).get("version", "") if isinstance(document.get("server"), dict) else ""
        if f"${{{VERSION_PLACEHOLDER}}}" in str(raw_version):
            if version == "latest":
                return ServerLookup(None, (Diagnostic(
                    Level.ERROR, codes.REGISTRY_PLACEHOLDER,
                    f"{name}: the registry entry is a template (version ${{VERSION}}); name a concrete version",
                    "#/server/version", where),))
            document, problems = expand_placeholders(document, version, where)
        try:
            return ServerLookup(ServerResponse.model_validate(document), problems)
        except ValidationError as error:
            return ServerLookup(None, (_invalid(error, where),))

    def _where(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def _get_json(self, path: str, params: Mapping[str, str]) -> tuple[dict[str, Any] | None, tuple[Diagnostic, ...]]:
        where = self._where(path)
        try:
            response = self._http.get(path, params=params)
        except httpx2.HTTPError as error:
            return None, (Diagnostic(Level.ERROR, codes.REGISTRY_UNREACHABLE,
                                     f"the registry could not be reached: {error}; check the registry URL "
                                     f"(--registry-url or {REGISTRY_URL_ENV})", "", where),)
        if response.status_code == 404:
            return None, (Diagnostic(Level.ERROR, codes.REGISTRY_NOT_FOUND,
                                     "the registry has no such server or version", "", where),)
        if response.status_code != 200 or len(response.content) > MAX_RESPONSE_BYTES:
            return None, (Diagnostic(Level.ERROR, codes.REGISTRY_UNREACHABLE,
                                     f"the registry answered HTTP {response.status_code}", "", where),)
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return None, (Diagnostic(Level.ERROR, codes.REGISTRY_INVALID, "the registry's answer is not a JSON object",
                                     "", where),)
        return data, ()


def _entries(page: Mapping[str, Any], where: str) -> tuple[list[ServerResponse], tuple[Diagnostic, ...]]:
    servers = page.get("servers")
    if not isinstance(servers, list):
        return [], (Diagnostic(Level.ERROR, codes.REGISTRY_INVALID, "the registry's answer has no server list",
                               "#/servers", where),)
    entries: list[ServerResponse] = []
    problems: list[Diagnostic] = []
    for index, item in enumerate(servers):
        try:
            entries.append(ServerResponse.model_validate(item))
        except ValidationError as error:  # one bad entry is skipped, the rest are listed
            problems.append(_invalid(error, where, f"#/servers/{index}", Level.WARNING))
    return entries, tuple(problems)


def _invalid(error: ValidationError, where: str, location: str = "#", level: Level = Level.ERROR) -> Diagnostic:
    first = error.errors(include_url=False, include_input=False)[0]
    field = "/".join(str(part) for part in first["loc"])
    return Diagnostic(level, codes.REGISTRY_INVALID, f"not a valid server.json: {field}: {first['msg']}",
                      location, where)
