"""Validated arguments -> an `httpx2.Request`: the base URL, the path with its values kept inside their
segments, query/header/cookie parameters in their OpenAPI styles, the body in its media type, the
connector's static headers and a `User-Agent` naming the package and the runtime (unless the definition's
headers set one). Credentials are not added here (that is `UpstreamAuth.apply`).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

from .._core.descriptors import Body, ConnectorSpec, Operation, Param
from .._core.errors import ConfigurationError, InvalidArguments
from .._core.grammar import LITERAL_PREFIX, base_url_variable, is_reference
from .._core.version import __version__
from .styles import bracket_pairs, cookie_text, encode_strict, header_value, path_value, query_text, scalar_text

if TYPE_CHECKING:
    import httpx2

BodyKind = Literal["json", "form", "multipart", "text", "binary"]
Files = list[tuple[str, tuple[str | None, bytes, str | None]]]

_TEMPLATE_VARIABLE = re.compile(r"\{([^{}]+)\}")
# What a product version in a User-Agent may hold (an RFC 9110 token).
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9.!#$%&'*+^_`|~-]+")
# Base URLs httpx2's parser accepts, with a host, whatever follows the authority: a host name (not IDNA) or
# an IPv4 address, a numeric port, then printable ASCII. Only other URLs are given to httpx2 to judge, so
# resolving the usual base URL at a server's start does not load it.
_PLAIN_URL = re.compile(r"https?://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)(?::[0-9]+)?(?:[/?#][!-~]*)?",
                        re.IGNORECASE)
_IPV4_STYLE = re.compile(r"[0-9]+(?:\.[0-9]+){3}")
_PLAIN_URL_MAX = 4096


def user_agent(connector: ConnectorSpec) -> str:
    """`<name>-mcp/<its version> specbridge-runtime/<version>`: the installed distribution's version, else the
    API version the package was generated from."""
    from importlib import metadata  # its scan of the installed distributions: at the first call, not at start

    distribution = f"{connector.name}-mcp"
    try:
        version = metadata.version(distribution)
    except (metadata.PackageNotFoundError, ValueError):
        version = connector.version
    version = _NOT_TOKEN.sub("-", version).strip("-")[:40] or "0"
    return f"{distribution}/{version} specbridge-runtime/{__version__}"


def resolve_base_url(connector: ConnectorSpec, environ: Mapping[str, str]) -> str:
    """The URL every operation path is appended to: `<NAME>_BASE_URL` if set, else the connector's
    template with its server variables' defaults. Raises `ConfigurationError` when that is not an absolute
    http(s) URL (a spec may give only a path such as `/api/v3`)."""
    variable = base_url_variable(connector)
    url = environ.get(variable, "").strip()
    if not url:
        defaults = {server_variable.name: server_variable.default for server_variable in connector.server_variables}
        unknown = [name for name in _TEMPLATE_VARIABLE.findall(connector.base_url) if name not in defaults]
        if unknown:
            raise ConfigurationError(
                f"the base URL of {connector.name} ({connector.base_url!r}) uses undefined server variables "
                f"{', '.join(unknown)}: set {variable}")
        url = _TEMPLATE_VARIABLE.sub(lambda match: defaults[match.group(1)], connector.base_url)
    if not url.lower().startswith(("http://", "https://")):
        shown = repr(url) if url else "none"
        raise ConfigurationError(
            f"{connector.name} has no absolute base URL (the definition gives {shown}): set {variable}, "
            f"e.g. {variable}=https://api.example.com{url if url.startswith('/') else ''}")
    if not _plain_url(url):
        import httpx2

        try:
            host = httpx2.URL(url).host
        except (httpx2.InvalidURL, UnicodeError) as problem:  # UnicodeError: a host with `xn--` that is not IDNA
            raise ConfigurationError(f"the base URL of {connector.name} ({url!r}) is not a valid URL ({problem}): "
                                     f"set {variable}") from None
        if not host:
            raise ConfigurationError(f"the base URL of {connector.name} ({url!r}) has no host: set {variable}")
    return url.rstrip("/")


def _plain_url(url: str) -> bool:
    match = _PLAIN_URL.fullmatch(url) if len(url) <= _PLAIN_URL_MAX else None
    if match is None:
        return False
    host = match.group("host")
    if "xn--" in host.lower():  # IDNA, which httpx2 decodes (and may fail to)
        return False
    if not _IPV4_STYLE.fullmatch(host):
        return True
    try:  # httpx2 takes a host of four numbers for an IPv4 address, which must then be one
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def build_request(operation: Operation, arguments: Mapping[str, Any], *, base_url: str,
                  static_headers: Sequence[tuple[str, str]] = (), agent: str | None = None) -> httpx2.Request:
    """The request for one call. `arguments` is the input model's dump (keys are argument names); `agent`
    the User-Agent sent unless `static_headers` name one."""
    # A header whose value is a secret reference is a credential: `UpstreamAuth` resolves and adds it. A
    # `literal:` value is sent as the text it carries.
    headers: list[tuple[str, str]] = [(name, value.removeprefix(LITERAL_PREFIX)) for name, value in static_headers
                                      if not is_reference(value)]
    if operation.accept and not any(name.lower() == "accept" for name, _ in headers):
        headers.append(("Accept", operation.accept))
    if agent and not any(name.lower() == "user-agent" for name, _ in static_headers):
        headers.insert(0, ("User-Agent", agent))
    query: list[str] = [f"{encode_strict(name)}={encode_strict(value)}" for name, value in operation.query]
    cookies: list[str] = []
    path_values: dict[str, str] = {}
    for param in operation.params:
        if param.arg not in arguments or arguments[param.arg] is None:
            continue
        value = _param_value(param, arguments[param.arg])
        if param.location == "path":
            path_values[param.name] = path_value(param, value)
        elif param.location == "query":
            query.append(query_text(param, value))
        elif param.location == "header":
            headers = [(name, text) for name, text in headers if name.lower() != param.name.lower()]
            headers.append((param.name, header_value(param, value)))
        else:
            cookies.append(cookie_text(param, value))
    if cookies:
        headers.append(("Cookie", "; ".join(text for text in cookies if text)))
    url = base_url + render_path(operation.path, path_values)
    query_string = "&".join(text for text in query if text)
    if query_string:
        url += "?" + query_string
    content, files, content_type = _body(operation.body, arguments)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    import httpx2

    return httpx2.Request(operation.method, url, headers=headers, content=content, files=files or None)


def _param_value(param: Param, value: Any) -> Any:
    # A parameter described by `content` (not `schema`) is one value of that media type: JSON text.
    if param.content_type is not None:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def render_path(template: str, values: Mapping[str, str]) -> str:
    """The operation path with each `{name}` replaced by its encoded value. Values are percent-encoded
    (`/`, `?`, `#`, `%` included), and a segment that would read as `.` or `..` has its dots encoded, so no
    value can leave its segment or climb out of the base path."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise InvalidArguments(f"the path parameter `{name}` is required")
        return values[name]

    rendered = _TEMPLATE_VARIABLE.sub(substitute, template)
    if not rendered.startswith("/"):
        rendered = "/" + rendered
    segments = ["%2E" * len(segment) if segment in (".", "..") else segment for segment in rendered.split("/")]
    return "/".join(segments)


def body_kind(media_type: str) -> BodyKind:
    base = media_type.split(";", 1)[0].strip().lower()
    if base in ("application/json", "*/*", "application/*") or base.endswith(("+json", "/json")):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    # XML-based types (SVG images included) are text a model can read.
    if base.startswith("text/") or base.endswith(("/xml", "+xml", "/yaml", "+yaml", "/csv")):
        return "text"
    return "binary"


def _body_value(body: Body, arguments: Mapping[str, Any]) -> Any:
    if body.arg is not None:
        return arguments.get(body.arg)
    present = {field.prop: arguments[field.arg] for field in body.fields if field.arg in arguments}
    return present if present or body.required else None


def _body(body: Body | None, arguments: Mapping[str, Any]) -> tuple[bytes | None, Files, str | None]:
    """(content, multipart files, Content-Type) of the request body."""
    if body is None:
        return None, [], None
    value = _body_value(body, arguments)
    if value is None:
        return None, [], None
    kind = body_kind(body.media_type)
    media_type = "application/json" if body.media_type in ("*/*", "application/*") else body.media_type
    if kind == "json":
        return _json_bytes(value), [], media_type
    if kind == "form":
        if isinstance(value, str):  # already encoded by the caller
            return value.encode(), [], "application/x-www-form-urlencoded"
        pairs = bracket_pairs("", value) if isinstance(value, Mapping) else iter([("", scalar_text(value))])
        text = "&".join(f"{quote(key, safe='[]')}={encode_strict(item)}" if key else encode_strict(item)
                        for key, item in pairs)
        return text.encode(), [], "application/x-www-form-urlencoded"
    if kind == "multipart":
        if not isinstance(value, Mapping):
            raise InvalidArguments(f"the body of a {body.media_type} request must be an object of form fields")
        # httpx2 sets the Content-Type with the boundary it chose.
        return None, list(_multipart_parts(value, body.files)), None
    if kind == "text":
        return (value if isinstance(value, str) else _json_text(value)).encode(), [], media_type
    return _base64_bytes(body.arg or "body", value), [], media_type


def _multipart_parts(fields: Mapping[str, Any], file_fields: tuple[str, ...]) -> Iterator[
        tuple[str, tuple[str | None, bytes, str | None]]]:
    for name, value in fields.items():
        items = value if isinstance(value, list) else [value]
        if name in file_fields:
            for item in items:
                yield name, (name, _base64_bytes(name, item), "application/octet-stream")
        elif isinstance(value, Mapping) or any(isinstance(item, Mapping | list) for item in items):
            yield name, (None, _json_bytes(value), "application/json")
        else:
            for item in items:
                if item is not None:
                    yield name, (None, scalar_text(item).encode(), None)


def _json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _json_bytes(value: Any) -> bytes:
    return _json_text(value).encode()


def _base64_bytes(argument: str, value: Any) -> bytes:
    if not isinstance(value, str):
        raise InvalidArguments(f"`{argument}` must be a base64 string (file content)")
    text = "".join(value.split())
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArguments(f"`{argument}` is not valid base64 (file content must be base64-encoded)") from None
