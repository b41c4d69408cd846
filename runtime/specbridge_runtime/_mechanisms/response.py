"""An upstream HTTP response (read within the size limit) -> an MCP `CallToolResult`, as the protocol carries it
(`wire_result`: the dict the stdio lane sends, built without the protocol models) or as the model (`to_result`).

JSON becomes structured content (an object as it is; anything else, or any value of an operation whose
documented response is not an object, as `{"result": value}`) plus the JSON as text; newline-delimited JSON
becomes a list; text and XML become text; images become image content; other binary content an embedded
blob resource. An error status becomes an error result with the status, a short sanitized excerpt of the
body (an HTML page as its text, a JSON body with its message fields first), and what to check.

The headers an agent needs to continue (`headers.response_meta`: ETag, Location, next-page links, ...) are
added to every result as a last text block `{"_response": {...}}`, and to its structured content under
`_response`.

A tool that advertises an outputSchema must answer every success with structured content (the MCP client
raises otherwise), so non-JSON successes of such tools carry `{"result": <text or null>}`, which the loose
generated schemas accept.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

from .._core.descriptors import Operation
from .._core.errors import InvalidResponse, error_wire, http_hint
from .excerpts import readable
from .headers import RESPONSE_KEY, response_meta
from .request import body_kind
from .retry import retry_after_s
from .secrets import held

if TYPE_CHECKING:
    import httpx2
    import mcp_types as types

EXCERPT_CHARS = 500
# Deeper JSON is refused: MCP clients' JSON parsers (pydantic's among them) stop at about 200 levels, and
# no API documents anything near this.
MAX_JSON_DEPTH = 100
# Only this much of an error body is examined: the excerpt is short, and redaction must see whole tokens.
_EXAMINED_BYTES = 8192
# An HTML error page is read this far for its text (its title and message may follow long styles and scripts).
_PAGE_BYTES = 65536
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s{2,}")
_REDACTED = "[redacted]"
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_NDJSON_TYPES = frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
                           "application/jsonlines", "application/json-lines"})
# Things that look like credentials: the value of a secret-sounding key or header, whole (quoted, or a scheme
# and its credential), auth schemes with their credentials, well-known key formats, JWTs, and long random
# strings. Identifiers made of short parts (UUIDs, file names) are not credentials and stay readable.
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (?P<key>["']?[a-z0-9_-]*(?:token|secret|password|passwd|api[_-]?key|apikey|authorization|credential|cookie)
    [a-z0-9_-]*["']?\s*[:=]\s*)
    (?P<value>"(?:[^"\\]|\\.)*"|'[^']*'
    |(?:(?:bearer|basic|digest|negotiate|token|apikey)\s+)?[^"'\s,;&}<]+)""")
_AUTH_SCHEME = re.compile(
    r"(?i)\b(bearer|basic)\s+(?![a-z_]+=\")[A-Za-z0-9._~+/=-]{6,}|\b(token|apikey)\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{6,}")
_KNOWN_KEY = re.compile(
    r"\b(?:(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{6,}|gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|xox[abposr]-[A-Za-z0-9-]{8,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}|sk-[A-Za-z0-9_-]{16,})")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_OPAQUE = re.compile(r"[A-Za-z0-9+/_-]{32,}={0,2}")


def to_result(response: httpx2.Response, body: bytes, *, connector: str, operation: Operation,
              output_schema: bool, now: float, arguments: Mapping[str, Any] | None = None) -> types.CallToolResult:
    """`wire_result` as the protocol's model."""
    import mcp_types as types

    return types.CallToolResult.model_validate(wire_result(
        response, body, connector=connector, operation=operation, output_schema=output_schema, now=now,
        arguments=arguments))


def wire_result(response: httpx2.Response, body: bytes, *, connector: str, operation: Operation,
                output_schema: bool, now: float, arguments: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Map a response whose body (`body`, decoded, within the size limit) has been read.
    `output_schema`: the tool advertises one, so a success must carry structured content; `now` (epoch
    seconds) is what a `Retry-After` date is measured from; `arguments`: the schemas of the tool's arguments
    (see `response_meta`). Raises `InvalidResponse` when a JSON content type carries something else."""
    result = _body_result(response, body, connector=connector, operation=operation, output_schema=output_schema,
                          now=now)
    meta = response_meta(response, operation, arguments)
    if meta is not None:
        result["content"].append(_text(json.dumps({RESPONSE_KEY: meta}, ensure_ascii=False)))
        structured = result.get("structuredContent")
        if structured is not None and RESPONSE_KEY not in structured:
            structured[RESPONSE_KEY] = meta
    return result


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _result(content: dict[str, Any], structured: dict[str, Any] | None) -> dict[str, Any]:
    """A success: one content block, and structured content when there is some."""
    result: dict[str, Any] = {"content": [content], "isError": False}
    if structured is not None:
        result["structuredContent"] = structured
    return result


def _body_result(response: httpx2.Response, body: bytes, *, connector: str, operation: Operation,
                 output_schema: bool, now: float) -> dict[str, Any]:
    status = response.status_code
    if not 200 <= status < 300:
        return http_error_result(response, body, connector=connector, operation=operation, now=now)
    content_type = response.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    fallback = {"result": None} if output_schema else None
    if not body:
        return _result(_text(f"(empty response, HTTP {status})"), fallback)
    if not media_type:
        media_type = _sniff(body)
    kind = body_kind(media_type)
    if kind == "json" or media_type in _NDJSON_TYPES:
        return _json_result(body, connector=connector, media_type=media_type, status=status,
                            wrap=operation.wrap_output)
    if output_schema and media_type in _PAGE_TYPES:
        # JSON is documented; a web page instead is a login, error or maintenance page (or mislabelled JSON).
        return _json_result(body, connector=connector, media_type=media_type, status=status,
                            wrap=operation.wrap_output, expected="JSON is documented")
    if kind == "text":
        text = body.decode(response.encoding or "utf-8", errors="replace")
        return _result(_text(text), {"result": text} if output_schema else None)
    data = base64.b64encode(body).decode("ascii")
    if media_type.startswith("image/"):
        return _result({"type": "image", "data": data, "mimeType": media_type}, fallback)
    resource = {"uri": f"{connector}://{operation.tool}/response", "mimeType": media_type, "blob": data}
    return _result({"type": "resource", "resource": resource}, fallback)


def _sniff(body: bytes) -> str:
    """A media type for a response without Content-Type: JSON if it parses, text if it decodes."""
    try:
        json.loads(body)
        return "application/json"
    except (ValueError, RecursionError):
        pass
    try:
        body.decode("utf-8")
        return "text/plain"
    except UnicodeDecodeError:
        return "application/octet-stream"


def _json_result(body: bytes, *, connector: str, media_type: str, status: int, wrap: bool,
                 expected: str = "the body is not valid JSON") -> dict[str, Any]:
    try:
        value: Any = _json_value(body, lines=media_type in _NDJSON_TYPES)
        too_deep = json_depth(value) > MAX_JSON_DEPTH
    except ValueError:  # includes UnicodeDecodeError
        raise InvalidResponse(
            f"{connector} answered HTTP {status} with {media_type}, but {expected}: "
            f"response not in the documented format. Excerpt: {sanitized_excerpt(body)}") from None
    except RecursionError:
        too_deep = True
    if too_deep:
        raise InvalidResponse(
            f"{connector} answered HTTP {status} with JSON nested deeper than {MAX_JSON_DEPTH} levels, which MCP "
            "clients cannot read: response not in the documented format")
    structured = {"result": value} if wrap or not isinstance(value, dict) else value
    return _result(_text(json.dumps(value, ensure_ascii=False)), structured)


def _json_value(body: bytes, *, lines: bool) -> Any:
    """One JSON document, or a list of the JSON documents of newline-delimited JSON (labelled as such, or
    as plain JSON when it is one document a line)."""
    if not lines:
        try:
            return json.loads(body)
        except ValueError:
            if body.count(b"\n") == 0:
                raise
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def json_depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:
            stack.extend((child, depth + 1) for child in children)
    return deepest


def http_error_result(response: httpx2.Response, body: bytes, *, connector: str,
                      operation: Operation, now: float) -> dict[str, Any]:
    status = response.status_code
    reason = response.reason_phrase or ""
    message = f"HTTP {status}{' ' + reason if reason else ''} from {connector} ({operation.method} {operation.path})"
    location = response.headers.get("location")
    if location and 300 <= status < 400:
        # Without the query: a redirect target may carry a signature or token there.
        message += f", redirected to {location.split('?', 1)[0]}"
    media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    excerpt = sanitized_excerpt(readable(body[:_PAGE_BYTES], media_type).encode())
    if excerpt:
        message += f". Response: {excerpt}"
    return error_wire(f"{message}\nHint: {http_hint(status, retry_after_s=retry_after_s(response.headers, now))}")


def sanitized_excerpt(body: bytes, limit: int = EXCERPT_CHARS) -> str:
    """At most `limit` characters of `body` on one line: control characters removed, every secret the
    process holds replaced, and anything that looks like a token, key or password redacted."""
    text = body[:_EXAMINED_BYTES].decode("utf-8", errors="replace")
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text)).strip()
    # Only a window that can reach the excerpt is cleaned (the patterns cost ~2 ms per KB). It reaches far
    # enough past `limit` that a secret cut at its end cannot show; if redaction shrinks it below that, it grows.
    margin = 3 * max((len(value) for value in held()), default=0) + 256
    window = 4 * limit
    while True:
        cleaned = redact_secrets(text[:window])
        if window >= len(text) or len(cleaned) >= limit + margin:
            break
        window *= 2
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def redact_secrets(text: str) -> str:
    """`text` without the secrets this process holds (as written, JSON-escaped or URL-encoded) and without
    anything else that looks like a credential."""
    text = redact_held(text)
    text = _SECRET_PAIR.sub(_mask_pair, text)
    text = _AUTH_SCHEME.sub(lambda match: f"{match.group(1) or match.group(2)} {_REDACTED}", text)
    text = _KNOWN_KEY.sub(_REDACTED, text)
    text = _JWT.sub(_REDACTED, text)
    return _OPAQUE.sub(lambda match: _REDACTED if _looks_random(match.group(0)) else match.group(0), text)


def redact_held(text: str) -> str:
    """`text` with every secret value the process has sent replaced, in each form an echo may take."""
    for value in sorted(held(), key=len, reverse=True):
        for form in _forms(value):
            if form in text:
                text = text.replace(form, _REDACTED)
    return text


@functools.lru_cache(maxsize=1024)
def _forms(value: str) -> tuple[str, ...]:
    """How an echo may spell `value`: as is, JSON-escaped, URL-encoded, with its runs of spaces collapsed."""
    escaped = json.dumps(value)[1:-1]
    return tuple(dict.fromkeys((value, escaped, json.dumps(value, ensure_ascii=False)[1:-1],
                                escaped.replace("/", "\\/"), quote(value, safe=""), quote(value), quote_plus(value),
                                _SPACES.sub(" ", value))))


def _mask_pair(match: re.Match[str]) -> str:
    value = match.group("value")
    quote_char = value[0] if value[0] in "\"'" else ""
    return f"{match.group('key')}{quote_char}{_REDACTED}{quote_char}"


def _looks_random(text: str) -> bool:
    """A long run with a part of 20+ characters mixing letters and digits; UUIDs and other identifiers of
    short parts (kernel, session and request ids, file names) are not taken for secrets."""
    return any(len(part) >= 20 and any(char.isdigit() for char in part) and any(char.isalpha() for char in part)
               for part in re.split(r"[-_]", text))
