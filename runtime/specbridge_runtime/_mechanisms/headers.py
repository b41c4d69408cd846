"""What an agent needs from a response's headers to continue, as one JSON object (`RESPONSE_KEY`).

```
"_response": {
  "status": 200,
  "headers": {"etag": "\\"42\\"", "next-page": "https://...", "x-total-count": "120", ...},
  "links": {"next": "https://...", "prev": "https://..."},
  "next_arguments": {"_token": "abc", "_limit": "10"}
}
```

`headers` holds the operation's documented response headers and the standard ones an agent acts on
(`Location`, `ETag`, `Last-Modified`, `Retry-After`, `Link`, rate-limit and common pagination headers),
names lower-cased, never `Set-Cookie`. `links` are the `Link` header's relations (RFC 8288), resolved
against the request's URL, plus a `Next-Page`-style header holding a URL as `next`. `next_arguments` are
the query parameters of the `next` link that are arguments of the same tool, when the link leads back to
the request's own path: passing them to the tool again fetches the next page. Only present keys are
given; without any header of interest there is no `_response` at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import httpx2

from .._core.descriptors import Operation

RESPONSE_KEY = "_response"
STANDARD_HEADERS = frozenset({
    "location", "content-location", "etag", "last-modified", "retry-after", "link", "content-range",
    "ratelimit", "ratelimit-policy",
    # Pagination that is not in the body: a next-page URL or cursor, totals, page numbers.
    "next-page", "x-next-page", "x-next", "x-next-cursor", "x-next-page-token", "x-cursor", "x-continuation",
    "x-continuation-token", "x-prev-page", "x-page", "x-per-page", "x-total", "x-total-count", "total-count",
    "x-total-pages", "x-page-count", "x-has-more",
})
_RATE_LIMIT_PREFIXES = ("x-ratelimit-", "ratelimit-", "x-rate-limit-")
# A session credential: never shown, even when documented.
_NEVER = frozenset({"set-cookie", "set-cookie2"})
# Headers whose value is a URL to the next page (when no `Link: rel="next"` says otherwise).
_NEXT_URL_HEADERS = ("next-page", "x-next-page", "x-next")
_MAX_HEADERS = 32
_MAX_VALUE_CHARS = 2048
_MAX_LINKS = 8


def response_meta(response: httpx2.Response, operation: Operation,
                  arguments: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
    """The `_response` object of `response` to `operation`'s request, or None when nothing in it matters.
    `arguments`: the JSON Schemas of the tool's arguments by name (`inputSchema.properties`), so that
    `next_arguments` have the types the tool takes."""
    documented = {name.lower() for name in operation.response_headers}
    headers: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        if key in _NEVER or not (key in documented or key in STANDARD_HEADERS or key.startswith(_RATE_LIMIT_PREFIXES)):
            continue
        if len(headers) >= _MAX_HEADERS and key not in headers:
            break
        joined = f"{headers[key]}, {value}" if key in headers else value
        headers[key] = joined[:_MAX_VALUE_CHARS]
    if not headers:
        return None
    meta: dict[str, Any] = {"status": response.status_code, "headers": headers}
    links = _links(response, headers)
    if links:
        meta["links"] = links
        following = next_arguments(links.get("next"), response, operation, arguments or {})
        if following:
            meta["next_arguments"] = following
    return meta


def _links(response: httpx2.Response, headers: Mapping[str, str]) -> dict[str, str]:
    links: dict[str, str] = {}
    base = _request_url(response)
    for key, link in response.links.items():
        target = link.get("url")
        rel = link.get("rel") or key
        if not target or not rel or len(links) >= _MAX_LINKS:
            continue
        for relation in rel.split():  # `rel="next last"` names two relations
            links.setdefault(relation.lower(), _absolute(base, target))
    if "next" not in links:
        for name in _NEXT_URL_HEADERS:
            value = headers.get(name, "").strip()
            if value.lower().startswith(("http://", "https://", "/")):
                links["next"] = _absolute(base, value)
                break
    return links


def _request_url(response: httpx2.Response) -> httpx2.URL | None:
    try:
        return response.request.url
    except RuntimeError:  # a response built without its request
        return None


def _absolute(base: httpx2.URL | None, target: str) -> str:
    if base is None:
        return target
    try:
        return str(base.join(target))
    except httpx2.InvalidURL:
        return target


def next_arguments(link: str | None, response: httpx2.Response, operation: Operation,
                   schemas: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments of `operation` that the `link` to its next page sets: its query parameters that are
    query parameters of the operation, when the link leads to the request's own path. (Not its host: behind
    a proxy a service may name itself differently; the arguments go to the configured base URL anyway.)"""
    base = _request_url(response)
    if not link or base is None:
        return {}
    try:
        url = httpx2.URL(link)
    except httpx2.InvalidURL:
        return {}
    if url.path != base.path:
        return {}
    by_name = {param.name: param for param in operation.params if param.location == "query"}
    found: dict[str, Any] = {}
    for name, values in _grouped(url.params.multi_items()).items():
        param = by_name.get(name)
        if param is not None:
            found[param.arg] = _typed(values, schemas.get(param.arg), _DELIMITERS.get(param.effective_style, ","))
    return found


_DELIMITERS = {"form": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


def _typed(values: list[str], schema: Any, delimiter: str) -> Any:
    """Query values as the argument's JSON type says: an array (repeated, or delimited in one value), an
    integer, a number or a boolean; text that does not fit stays text."""
    kinds = _types(schema)
    if "array" in kinds:
        items = values if len(values) > 1 else values[0].split(delimiter) if values[0] else []
        item_schema = schema.get("items") if isinstance(schema, Mapping) else None
        return [_scalar(item, _types(item_schema)) for item in items]
    return _scalar(values[0], kinds) if len(values) == 1 else values


def _scalar(text: str, kinds: set[str]) -> Any:
    try:
        if "integer" in kinds:
            return int(text)
        if "number" in kinds:
            return float(text)
    except ValueError:
        return text
    if "boolean" in kinds and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _types(schema: Any) -> set[str]:
    """The JSON types a schema allows, looking into anyOf/oneOf (an optional argument is `anyOf [T, null]`)."""
    if not isinstance(schema, Mapping):
        return set()
    kind = schema.get("type")
    found = {kind} if isinstance(kind, str) else {item for item in kind if isinstance(item, str)} if isinstance(
        kind, list) else set()
    for keyword in ("anyOf", "oneOf"):
        for member in schema.get(keyword) or ():
            found |= _types(member)
    return found


def _grouped(items: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in items:
        grouped.setdefault(name, []).append(value)
    return grouped
