"""Arguments -> HTTP request: base URL, path encoding (values never leave their segment), parameters,
bodies of every media type, static headers."""

import base64
import functools
import json
import random
from urllib.parse import unquote

import httpx2
import pytest
from specbridge_runtime import (
    Body,
    BodyField,
    ConfigurationError,
    ConnectorSpec,
    InvalidArguments,
    Operation,
    Param,
    ServerVariable,
    __version__,
)
from specbridge_runtime._mechanisms.request import build_request, resolve_base_url, user_agent

BASE = "https://api.example.com/v1"
ITEM = Operation(tool="t_get_item", method="GET", path="/items/{id}/files", input_model="M",
                 params=(Param(arg="id", name="id", location="path"),))


def _request(operation, arguments, **kwargs):
    return build_request(operation, arguments, base_url=kwargs.pop("base_url", BASE), **kwargs)


@pytest.mark.parametrize("value", ["..", ".", "../..", "../../admin", "a/../../b", "/", "x?admin=1", "x#frag",
                                   "%2F", "..%2F..%2Fadmin", "a\\b", "\r\n", "ü/é"])
def test_a_path_value_stays_inside_its_segment(value):
    request = _request(ITEM, {"id": value})
    path = request.url.raw_path.decode()
    assert request.url.query == b""
    assert request.url.fragment == ""
    assert path.startswith("/v1/items/") and path.endswith("/files")
    segment = path.removeprefix("/v1/items/").removesuffix("/files")
    assert "/" not in segment and "?" not in segment and "#" not in segment
    assert segment not in (".", "..")
    assert unquote(segment) == value or set(value) == {"."}  # dot segments are sent as %2E


def test_dot_segments_are_percent_encoded():
    assert _request(ITEM, {"id": ".."}).url.raw_path == b"/v1/items/%2E%2E/files"
    assert _request(ITEM, {"id": "%2F"}).url.raw_path == b"/v1/items/%252F/files"


def test_a_missing_path_parameter_is_an_argument_error():
    with pytest.raises(InvalidArguments, match="`id`"):
        _request(ITEM, {})


def test_base_path_is_kept_and_slashes_are_not_doubled():
    url = resolve_base_url(ConnectorSpec(name="x", title="X", version="1", base_url="https://h/api/"), {})
    assert str(_request(ITEM, {"id": "7"}, base_url=url).url) == "https://h/api/items/7/files"


def test_base_url_from_template_variables_and_environment():
    connector = ConnectorSpec(name="my-api.v2", title="X", version="1", base_url="https://{region}.example.com/{v}",
                              server_variables=(ServerVariable("region", "eu"), ServerVariable("v", "v2")))
    assert resolve_base_url(connector, {}) == "https://eu.example.com/v2"
    assert resolve_base_url(connector, {"MY_API_V2_BASE_URL": "http://127.0.0.1:9/x/"}) == "http://127.0.0.1:9/x"


@pytest.mark.parametrize("base_url", ["", "/api/v3", "https://{tenant}.example.com", "https://", "http://[::1"])
def test_no_absolute_base_url_says_which_variable_to_set(base_url):
    connector = ConnectorSpec(name="petstore", title="P", version="1", base_url=base_url)
    with pytest.raises(ConfigurationError, match="PETSTORE_BASE_URL"):
        resolve_base_url(connector, {})


def _httpx2_accepts(url: str) -> bool:
    try:
        return bool(httpx2.URL(url).host)
    except (httpx2.InvalidURL, UnicodeError):  # UnicodeError: a host with `xn--` that is not IDNA
        return False


# Base URLs the runtime accepts without httpx2 (to start without loading it) and ones it hands to httpx2.
TRICKY_URLS = [
    "https://api.example.com", "http://127.0.0.1:9/x", "HTTPS://API.Example.COM:8443/v1/?a=b#c", "http://host.:80",
    "http://0.0.0.0", "http://255.255.255.255/a", "http://256.1.1.1", "http://01.2.3.4", "http://1.2.3", "http://1.2.3.4.5",
    "http://[::1]:8080/x", "http://[::zz]/", "http://münchen.de/x", "http://xn--mnchen-3ya.de", "http://-.-/",
    "http://api.0xn--.com/v1",
    "http://host:port/", "http://host:/", "http://host:99999", "http://user:pw@host/x", "http://@host", "http://:80",
    "http://host/a b", "http://host/a\tb", "http://host/\x7f", "http://host/é", "http://ho st/", "http://host?x",
    "http://host#x", "http://h_st/", "http://host/" + "a" * 70000, "http://" + "a" * 5000 + ".com",
]


@pytest.mark.parametrize("url", TRICKY_URLS)
def test_a_base_url_is_accepted_exactly_when_httpx2_can_send_to_it(url):
    connector = ConnectorSpec(name="petstore", title="P", version="1", base_url=url)
    if _httpx2_accepts(url):
        assert resolve_base_url(connector, {}) == url.rstrip("/")
    else:
        with pytest.raises(ConfigurationError, match="PETSTORE_BASE_URL"):
            resolve_base_url(connector, {})


def test_random_base_urls_are_judged_as_httpx2_judges_them():
    pieces = ["a", "Z", "0", "9", "1.2.3.4", "300", "-", ".", ":", ":80", "/", "?", "#", "@", "[", "]", "::1", " ",
              "\t", "%", "é", "xn--", "_", "~"]
    chooser = random.Random(14)
    connector_of = functools.partial(ConnectorSpec, name="petstore", title="P", version="1")
    for _ in range(3000):
        url = chooser.choice(["http://", "https://"]) + "".join(chooser.choices(pieces, k=chooser.randint(0, 8)))
        try:
            resolve_base_url(connector_of(base_url=url), {})
            accepted = True
        except ConfigurationError:
            accepted = False
        assert accepted == _httpx2_accepts(url), url


def test_query_header_cookie_and_content_parameters():
    operation = Operation(tool="t", method="GET", path="/search", input_model="M", params=(
        Param(arg="q", name="q", location="query"),
        Param(arg="ids", name="ids", location="query", explode=False),
        Param(arg="where", name="where", location="query", content_type="application/json"),
        Param(arg="trace", name="X-Trace", location="header"),
        Param(arg="sid", name="sid", location="cookie"),
        Param(arg="lang", name="lang", location="cookie"),
        Param(arg="unused", name="unused", location="query"),
    ))
    request = _request(operation, {"q": "a b", "ids": [1, 2], "where": {"a": 1}, "trace": "t-1", "sid": "s1",
                                   "lang": "en", "unused": None})
    assert request.url.query.decode() == "q=a%20b&ids=1,2&where=%7B%22a%22%3A1%7D"
    assert request.headers["X-Trace"] == "t-1"
    assert request.headers["Cookie"] == "sid=s1; lang=en"


def test_static_headers_are_sent_but_never_secret_references():
    request = _request(ITEM, {"id": "1"}, static_headers=(("X-Shop", "main"), ("X-Key", "vault:key"),
                                                           ("X-Env", "env:TOKEN"), ("X-Enc", "enc:v1:abc")))
    assert request.headers["X-Shop"] == "main"
    assert not {"X-Key", "X-Env", "X-Enc"} & set(request.headers.keys())


def test_a_header_parameter_overrides_a_static_header_of_the_same_name():
    operation = Operation(tool="t", method="GET", path="/", input_model="M",
                          params=(Param(arg="v", name="X-Version", location="header"),))
    request = _request(operation, {"v": "2"}, static_headers=(("x-version", "1"),))
    assert request.headers.get_list("X-Version") == ["2"]


def test_json_body_from_flattened_fields():
    fields = (BodyField(arg="email", prop="email"), BodyField(arg="line_items", prop="line_items"),
              BodyField(arg="body_note", prop="note"))
    operation = Operation(tool="t", method="POST", path="/orders", input_model="M",
                          body=Body(media_type="application/json", fields=fields))
    request = _request(operation, {"email": "a@b.c", "line_items": [{"id": 1}], "body_note": "ü"})
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {"email": "a@b.c", "line_items": [{"id": 1}], "note": "ü"}


def test_optional_body_without_fields_sends_no_body_and_required_sends_an_empty_object():
    fields = (BodyField(arg="a", prop="a"),)
    optional = Operation(tool="t", method="POST", path="/", input_model="M",
                         body=Body("application/json", fields=fields))
    assert _request(optional, {}).content == b""
    required = Operation(tool="t", method="POST", path="/", input_model="M",
                         body=Body("application/json", fields=fields, required=True))
    assert _request(required, {}).content == b"{}"


def test_json_body_as_one_argument_and_vendor_json():
    operation = Operation(tool="t", method="PUT", path="/", input_model="M",
                          body=Body("application/merge-patch+json", arg="body"))
    request = _request(operation, {"body": [1, "two"]})
    assert request.headers["Content-Type"] == "application/merge-patch+json"
    assert json.loads(request.content) == [1, "two"]


def test_form_body_in_bracket_style():
    operation = Operation(tool="t", method="POST", path="/v1/charges", input_model="M", body=Body(
        "application/x-www-form-urlencoded",
        fields=tuple(BodyField(arg=name, prop=name) for name in ("amount", "metadata", "items", "capture", "skip"))))
    request = _request(operation, {"amount": 100, "metadata": {"order": "a&b=c"},
                                   "items": [{"price": "p_1", "qty": 2}], "capture": False, "skip": None})
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.content.decode() == (
        "amount=100&metadata[order]=a%26b%3Dc&items[0][price]=p_1&items[0][qty]=2&capture=false")


def test_multipart_body_with_files_fields_and_json_objects():
    operation = Operation(tool="t", method="POST", path="/upload", input_model="M", body=Body(
        "multipart/form-data",
        fields=tuple(BodyField(arg=name, prop=name) for name in ("file", "title", "meta", "tags")), files=("file",)))
    payload = bytes(range(256))
    request = _request(operation, {"file": base64.b64encode(payload).decode(), "title": "T", "meta": {"a": 1},
                                   "tags": ["x", "y"]})
    content_type = request.headers["Content-Type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    body = request.read()
    assert b'name="file"; filename="file"\r\nContent-Type: application/octet-stream\r\n\r\n' + payload in body
    assert b'name="title"\r\n\r\nT\r\n' in body
    assert b'name="meta"\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n' in body
    assert body.count(b'name="tags"') == 2


def test_a_file_that_is_not_base64_is_an_argument_error_naming_it():
    operation = Operation(tool="t", method="POST", path="/upload", input_model="M",
                          body=Body("multipart/form-data", fields=(BodyField(arg="file", prop="file"),),
                                    files=("file",)))
    with pytest.raises(InvalidArguments, match="`file` is not valid base64"):
        _request(operation, {"file": "not base64!"})


def test_text_and_octet_stream_bodies():
    text = Operation(tool="t", method="POST", path="/", input_model="M", body=Body("text/plain", arg="body"))
    request = _request(text, {"body": "héllo"})
    assert request.headers["Content-Type"] == "text/plain"
    assert request.content == "héllo".encode()
    binary = Operation(tool="t", method="PUT", path="/", input_model="M",
                       body=Body("application/octet-stream", arg="data"))
    request = _request(binary, {"data": base64.b64encode(b"\x00\xffdata").decode()})
    assert request.headers["Content-Type"] == "application/octet-stream"
    assert request.content == b"\x00\xffdata"
    assert _request(binary, {"data": base64.urlsafe_b64encode(b"\xfb\xff").decode()}).content == b"\xfb\xff"


def test_fixed_query_pairs_go_before_the_arguments_and_are_encoded():
    operation = Operation(tool="t_create_group", method="POST", path="/", input_model="M",
                          params=(Param(arg="GroupName", name="GroupName", location="query"),),
                          query=(("Action", "CreateGroup"), ("Version", "2010-05-08"), ("odd key", "a&b=c")))
    request = _request(operation, {"GroupName": "admins"})
    assert request.url.raw_path.decode() == (
        "/v1/?Action=CreateGroup&Version=2010-05-08&odd%20key=a%26b%3Dc&GroupName=admins")
    assert request.url.fragment == ""
    assert _request(operation, {}).url.params.multi_items() == [
        ("Action", "CreateGroup"), ("Version", "2010-05-08"), ("odd key", "a&b=c")]


def test_accept_comes_from_the_documented_response_types_unless_a_static_header_sets_it():
    operation = Operation(tool="t", method="GET", path="/a", input_model="M",
                          accept="application/vnd.github+json, application/json")
    assert _request(operation, {}).headers["Accept"] == "application/vnd.github+json, application/json"
    overridden = _request(operation, {}, static_headers=[("accept", "text/csv")])
    assert overridden.headers.get_list("Accept") == ["text/csv"]
    assert _request(ITEM, {"id": "1"}).headers.get("Accept") is None


def test_every_request_names_the_package_and_the_runtime_unless_the_definition_does() -> None:
    connector = ConnectorSpec(name="shop", title="Shop", version="2024-01 (beta)")
    agent = user_agent(connector)
    # Not installed here: the API version the package was generated from, as an RFC 9110 token.
    assert agent == f"shop-mcp/2024-01-beta specbridge-runtime/{__version__}"
    assert _request(ITEM, {"id": "1"}, agent=agent).headers["User-Agent"] == agent
    overridden = _request(ITEM, {"id": "1"}, agent=agent, static_headers=[("user-agent", "my-bot/1.0")])
    assert overridden.headers.get_list("User-Agent") == ["my-bot/1.0"]



def test_a_literal_static_header_is_sent_as_the_text_it_carries():
    from specbridge_runtime import Operation
    from specbridge_runtime._mechanisms.request import build_request

    operation = Operation(tool="t", method="GET", path="/x", input_model="M")
    request = build_request(operation, {}, base_url="http://127.0.0.1:9",
                            static_headers=(("X-Note", "literal:env:HOME"), ("X-Plain", "plain"),
                                            ("X-Secret", "env:HOME")))
    assert request.headers["x-note"] == "env:HOME" and request.headers["x-plain"] == "plain"
    assert "x-secret" not in request.headers  # a reference: auth resolves and adds it
