"""load: a spec from a file or an http(s) URL, parsed, with its external `$ref`s bundled in.

Limits (a spec is untrusted): 64 MB per file or response, 30 s per request, 10,000 files per spec;
refs may only reach files inside the root spec's folder (or `root_dir`) and URLs of the root URL's
origin. Redirects are followed for the root URL only (at most 10). `headers` (e.g. from `--spec-header`)
are sent only to the root URL's origin: never to a file ref, another host, or a redirect to another host.
URLs are shown (diagnostics, `specbridge.lock`) without userinfo, query or fragment, which may hold tokens.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Protocol
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import httpx2

from specbridge import codes
from specbridge.bundle import Target, bundle, has_external_refs
from specbridge.diagnostics import Diagnostic, Level
from specbridge.parse import parse_text

MAX_BYTES = 64 * 1024 * 1024
TIMEOUT_S = 30.0
MAX_FILES = 10_000
MAX_REDIRECTS = 10


@dataclass(frozen=True, slots=True)
class LoadedDocument:
    document: dict[str, Any] | None
    sources: tuple[str, ...]  # every file (relative to cwd) or URL read, root first
    diagnostics: tuple[Diagnostic, ...]
    digests: tuple[tuple[str, str], ...] = ()  # (source, sha256 hex of its bytes), as in `sources`
    final_url: str | None = None  # where a URL's document came from, after redirects


def is_url(ref: str) -> bool:
    return ref[:8].lower().startswith(("http://", "https://"))


def public_url(url: str) -> str:
    """`url` as it may be shown and recorded: without userinfo, query and fragment (they may carry tokens)."""
    if not is_url(url):
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{host}{port}{parts.path}"


def origin(url: str) -> str | None:
    """scheme://host:port of a URL (None when the URL is malformed or not http(s))."""
    if not is_url(url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


def load_document(ref: str, *, cwd: Path, root_dir: Path | None = None, bundle_refs: bool = True,
                  headers: Sequence[tuple[str, str]] = ()) -> LoadedDocument:
    """Read, parse and bundle the spec at `ref` (a path relative to `cwd`, or an http(s) URL).

    `root_dir`: the folder file refs may not leave; by default the root spec's own folder. `bundle_refs`
    False: the document as written (an overlay's `$ref`s are values it puts into the spec). `headers`: sent
    with every request to the origin of `ref` (a URL), and to no other."""
    reader = _Reader(cwd, headers=headers, header_origin=origin(urldefrag(ref).url) if is_url(ref) else None)
    try:
        if is_url(ref):
            location = urldefrag(ref).url
            boundary: _Boundary = _OriginBoundary(location)
        else:
            try:
                path = (cwd / ref).resolve()
            except (OSError, ValueError):
                reader.report(codes.UNREADABLE, "not a usable file path", str(cwd / ref))
                return reader.result(None)
            # Read and shown by the path as given (a checkout reached through a symlink records the same
            # paths); the boundary is checked on resolved paths, so a symlink cannot lead out of it.
            location = os.path.abspath(cwd / ref)
            boundary = _FolderBoundary((root_dir if root_dir is not None else path.parent).resolve())
        document = reader.document(location, root=True)
        if isinstance(boundary, _OriginBoundary) and reader.root_location:
            boundary.rebase(reader.root_location)  # the root URL redirected
        if document is None:
            return reader.result(None)
        if not isinstance(document, dict):
            reader.report(codes.NOT_A_MAPPING, "the document is not a JSON object or YAML mapping", location)
            return reader.result(None)
        if bundle_refs and has_external_refs(document):
            root_location = reader.root_location or location
            document, found = bundle(document, root_location, resolve=boundary.resolve, load=reader.document,
                                     display=reader.display)
            reader.diagnostics.extend(found)
        return reader.result(document)
    finally:
        reader.close()


def confined(ref: str, base: str, *, cwd: Path) -> tuple[str | None, str]:
    """Where `ref`, named in the file or URL `base`, points when it stays where a $ref of `base` may go (its
    folder, or its origin): (the path or URL, ""), or (None, why it is refused)."""
    if is_url(base):
        boundary: _Boundary = _OriginBoundary(base)
        found = boundary.resolve(ref, base)
    else:
        location = os.path.abspath(cwd / base)
        try:
            folder = Path(location).resolve().parent
        except (OSError, ValueError):
            return None, "it is not a usable file path"
        found = _FolderBoundary(folder).resolve(ref, location)
    if isinstance(found, str):
        return None, found
    return found.location, ""


class _Boundary(Protocol):
    def resolve(self, ref: str, base: str) -> Target | str: ...


class _FolderBoundary:
    """Refs from a file: relative paths (and absolute ones) that stay inside the folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def resolve(self, ref: str, base: str) -> Target | str:
        reference, fragment = urldefrag(ref)
        if not reference:
            return Target(base, unquote(fragment))
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", reference):
            return "a spec read from a file may only refer to files next to it"
        given = Path(os.path.normpath(Path(base).parent / unquote(reference)))
        try:
            path = given.resolve()
        except (OSError, ValueError):
            return "it is not a usable file path"
        if not path.is_relative_to(self.folder):
            return f"it leaves the spec's folder {self.folder} (a spec is untrusted)"
        return Target(str(given), unquote(fragment))


class _OriginBoundary:
    """Refs from a URL: URLs (relative or absolute) of the same scheme, host and port."""

    def __init__(self, root_url: str) -> None:
        self.origin = origin(root_url)

    def rebase(self, final_url: str) -> None:
        self.origin = origin(final_url)

    def resolve(self, ref: str, base: str) -> Target | str:
        try:
            url, fragment = urldefrag(urljoin(base, ref))
        except ValueError:
            return "it is not a usable URL"
        if self.origin is None or origin(url) != self.origin:
            return f"it is not on the spec's origin {self.origin} (a spec is untrusted)"
        return Target(url, unquote(fragment))


# An HTML document's first tag, after an optional byte order mark, blank space and comments.
_HTML_START = re.compile(rb"^(?:\xef\xbb\xbf)?\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)[\s>]",
                         re.IGNORECASE | re.DOTALL)


class _Reader:
    """Reads and parses each location once; records what it read and what went wrong."""

    def __init__(self, cwd: Path, *, headers: Sequence[tuple[str, str]] = (), header_origin: str | None = None) -> None:
        self.cwd = cwd
        self._headers = tuple(headers)
        self._header_origin = header_origin
        self.parsed: dict[str, Any] = {}
        self.sources: list[str] = []
        self.digests: list[tuple[str, str]] = []
        self.diagnostics: list[Diagnostic] = []
        self.root_location: str | None = None
        self._client: httpx2.Client | None = None

    def display(self, location: str) -> str:
        if is_url(location):
            return public_url(location)
        return PurePosixPath(Path(os.path.relpath(location, self.cwd))).as_posix()

    def report(self, code: str, message: str, location: str) -> None:
        self.diagnostics.append(Diagnostic(Level.ERROR, code, message, "", self.display(location)))

    def result(self, document: dict[str, Any] | None) -> LoadedDocument:
        return LoadedDocument(document, tuple(self.sources), tuple(self.diagnostics), tuple(self.digests),
                              self.root_location if self.root_location and is_url(self.root_location) else None)

    def document(self, location: str, root: bool = False) -> Any:
        if location in self.parsed:
            return self.parsed[location]
        self.parsed[location] = None
        if len(self.parsed) > MAX_FILES:
            self.report(codes.TOO_LARGE, f"the spec refers to more than {MAX_FILES} files", location)
            return None
        raw, final = self._read_url(location, root) if is_url(location) else (self._read_file(location), location)
        if raw is None:
            return None
        if _HTML_START.match(raw[:512]):
            moved = f" (redirected from {location})" if final != location else ""
            self.report(codes.HTML_PAGE, f"this is an HTML page{moved}, not an OpenAPI document or definition: a "
                        "login or documentation page? Give the URL of the spec's JSON or YAML itself", final)
            return None
        if root:
            self.root_location = final
        source = self.display(final)
        self.sources.append(source)
        self.digests.append((source, hashlib.sha256(raw).hexdigest()))
        path = urlsplit(final).path if is_url(final) else final
        parsed = parse_text(raw, source=source, json_hint=path.lower().endswith(".json"))
        self.diagnostics.extend(parsed.diagnostics)
        self.parsed[location] = self.parsed[final] = parsed.data
        return parsed.data

    def _read_file(self, location: str) -> bytes | None:
        path = Path(location)
        try:
            if not path.is_file():
                self.report(codes.UNREADABLE, "no such file" if not path.exists() else "not a file", location)
                return None
            if path.stat().st_size > MAX_BYTES:
                self.report(codes.TOO_LARGE, f"larger than {MAX_BYTES // (1024 * 1024)} MB", location)
                return None
            return path.read_bytes()
        except (OSError, ValueError) as error:  # ValueError: a NUL in the path
            message = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            self.report(codes.UNREADABLE, f"cannot read: {message}", location)
            return None

    def _read_url(self, url: str, root: bool) -> tuple[bytes | None, str]:
        if self._client is None:
            self._client = httpx2.Client(timeout=TIMEOUT_S)
        try:
            for _ in range(MAX_REDIRECTS + 1):  # redirects by hand: headers go to their origin only
                headers = self._headers if self._headers and origin(url) == self._header_origin else ()
                with self._client.stream("GET", url, headers=list(headers)) as response:
                    if root and response.is_redirect and "location" in response.headers:
                        url = urljoin(url, response.headers["location"])
                        continue
                    return self._body(response, url)
            self.report(codes.UNREADABLE, f"more than {MAX_REDIRECTS} redirects", url)
            return None, url
        except (httpx2.HTTPError, httpx2.InvalidURL) as error:
            self.report(codes.UNREADABLE, f"cannot fetch: {type(error).__name__}: {error}", url)
            return None, url

    def _body(self, response: httpx2.Response, url: str) -> tuple[bytes | None, str]:
        """The body of a final answer, within the size limit; `url` is where it came from."""
        if response.status_code != 200:
            self.report(codes.UNREADABLE, f"HTTP {response.status_code} from {self.display(url)}", url)
            return None, url
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            self.report(codes.TOO_LARGE, f"larger than {MAX_BYTES // (1024 * 1024)} MB", url)
            return None, url
        body = bytearray()
        for chunk in response.iter_bytes():
            body.extend(chunk)
            if len(body) > MAX_BYTES:
                self.report(codes.TOO_LARGE, f"larger than {MAX_BYTES // (1024 * 1024)} MB", url)
                return None, url
        return bytes(body), url

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
