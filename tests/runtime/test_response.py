"""HTTP response -> MCP result: JSON (object, array, primitive), text, XML, image, binary, empty, invalid JSON,
and error statuses with a sanitized excerpt and a hint of what to check."""

import base64
import json

import httpx2
import mcp_types as types
import pytest
from specbridge_runtime import InvalidResponse, Operation
from specbridge_runtime._mechanisms.response import sanitized_excerpt, to_result

OPERATION = Operation(tool="shop_get_order", method="GET", path="/orders/{id}", input_model="M")
NOW = 1_700_000_000.0  # a Retry-After in seconds does not depend on it
WRAPPED = Operation(tool="shop_list_orders", method="GET", path="/orders", input_model="M", wrap_output=True)


def _map(response, operation=OPERATION, output_schema=True):
    return to_result(response, response.content, connector="shop", operation=operation, output_schema=output_schema,
                     now=NOW)


def test_a_json_object_is_structured_content_and_text():
    result = _map(httpx2.Response(200, json={"id": 1, "email": "a@b.c"}))
    assert not result.is_error
    assert result.structured_content == {"id": 1, "email": "a@b.c"}
    assert json.loads(result.content[0].text) == {"id": 1, "email": "a@b.c"}


@pytest.mark.parametrize("value", [[1, 2], "text", 3.5, None, True])
def test_a_json_value_that_is_not_an_object_is_wrapped(value):
    response = httpx2.Response(200, content=json.dumps(value).encode(), headers={"content-type": "application/json"})
    result = _map(response)
    assert result.structured_content == {"result": value}
    assert json.loads(result.content[0].text) == value


def test_a_documented_non_object_response_is_always_wrapped():
    result = _map(httpx2.Response(200, json={"page": 1}), operation=WRAPPED)
    assert result.structured_content == {"result": {"page": 1}}


def test_vendor_json_media_types_are_json():
    result = _map(httpx2.Response(200, content=b'{"a":1}', headers={"content-type": "application/vnd.api+json"}))
    assert result.structured_content == {"a": 1}


def test_text_and_xml_are_text_content():
    text = _map(httpx2.Response(200, text="héllo", headers={"content-type": "text/plain; charset=utf-8"}),
                output_schema=False)
    assert text.content == [types.TextContent(type="text", text="héllo")]
    assert text.structured_content is None
    xml = _map(httpx2.Response(200, content=b"<a>1</a>", headers={"content-type": "application/xml"}))
    assert xml.content[0].text == "<a>1</a>"
    # A tool with an outputSchema must carry structured content on success.
    assert xml.structured_content == {"result": "<a>1</a>"}


def test_an_image_is_image_content():
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    result = _map(httpx2.Response(200, content=png, headers={"content-type": "image/png"}), output_schema=False)
    [image] = result.content
    assert isinstance(image, types.ImageContent)
    assert image.mime_type == "image/png"
    assert base64.b64decode(image.data) == png


def test_an_svg_image_is_text():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    result = _map(httpx2.Response(200, content=svg, headers={"content-type": "image/svg+xml"}), output_schema=False)
    assert result.content == [types.TextContent(type="text", text=svg.decode())]


def test_other_binary_is_an_embedded_blob_resource():
    pdf = b"%PDF-1.7\x00\xff"
    result = _map(httpx2.Response(200, content=pdf, headers={"content-type": "application/pdf"}), output_schema=False)
    [embedded] = result.content
    assert isinstance(embedded, types.EmbeddedResource)
    assert isinstance(embedded.resource, types.BlobResourceContents)
    assert embedded.resource.uri == "shop://shop_get_order/response"
    assert embedded.resource.mime_type == "application/pdf"
    assert base64.b64decode(embedded.resource.blob) == pdf


def test_an_empty_body_says_so_with_the_status():
    result = _map(httpx2.Response(204))
    assert result.content[0].text == "(empty response, HTTP 204)"
    assert not result.is_error
    assert result.structured_content == {"result": None}
    assert _map(httpx2.Response(204), output_schema=False).structured_content is None


def test_a_body_without_content_type_is_sniffed():
    assert _map(httpx2.Response(200, content=b'{"a": 1}')).structured_content == {"a": 1}
    assert _map(httpx2.Response(200, content=b"plain words")).content[0].text == "plain words"
    assert isinstance(_map(httpx2.Response(200, content=b"\xff\xfe\x00")).content[0], types.EmbeddedResource)


def test_invalid_json_under_a_json_content_type_is_an_invalid_response():
    with pytest.raises(InvalidResponse, match="response not in the documented format") as error:
        _map(httpx2.Response(200, content=b"<html>oops</html>", headers={"content-type": "application/json"}))
    assert error.value.to_result().is_error


@pytest.mark.parametrize(("status", "hint"), [
    (400, "check the arguments"),
    (401, "invalid or expired"),
    (403, "permission"),
    (404, "not found"),
    (409, "conflicts"),
    (422, "input schema"),
    (429, "Rate limited"),
    (500, "service failed"),
    (502, "service failed"),
    (503, "retry later"),
])
def test_an_error_status_is_an_error_result_with_status_excerpt_and_hint(status, hint):
    result = _map(httpx2.Response(status, json={"error": {"message": "something went wrong"}}))
    assert result.is_error
    assert result.structured_content is None
    text = result.content[0].text
    assert text.startswith(f"HTTP {status} ")
    assert "shop (GET /orders/{id})" in text
    assert "something went wrong" in text
    assert hint.lower() in text.split("Hint:", 1)[1].lower()


def test_rate_limited_says_when_to_retry():
    result = _map(httpx2.Response(429, headers={"retry-after": "30"}, text="slow down"))
    assert "Retry after 30 s" in result.content[0].text


def test_a_redirect_is_reported_without_the_query_of_its_target():
    result = _map(httpx2.Response(302, headers={"location": "https://cdn.example.com/f?X-Amz-Signature=abc"}))
    text = result.content[0].text
    assert result.is_error and "https://cdn.example.com/f" in text and "Signature" not in text


def test_the_excerpt_is_short_single_line_and_redacts_secrets():
    body = ("Error:\r\n\x1b[31m invalid token for Authorization: Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc\n"
            '{"api_key": "k-123456", "password":"hunter2", "access_token": "abc.def"}'
            " jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl ghp_abcdefghijklmnopqrstuvwxyz0123"
            " opaque Zx9Yv8Wu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"
            + " filler" * 200)
    excerpt = sanitized_excerpt(body.encode())
    assert len(excerpt) <= 500
    assert "\n" not in excerpt and "\r" not in excerpt and "\x1b" not in excerpt
    for secret in ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "k-123456", "hunter2", "abc.def", "eyJhbGciOiJIUzI1NiJ9",
                   "ghp_abcdefghijklmnopqrstuvwxyz0123", "Zx9Yv8Wu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBa"):
        assert secret not in excerpt
    assert "invalid token" in excerpt
    assert excerpt.endswith("…")


def test_identifiers_that_are_not_secrets_stay_readable():
    body = (b"Kernel does not exist: 123e4567-e89b-12d3-a456-426614174000;"
            b" session_id=9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b file report_2024_01_15_final_version_2.ipynb;"
            b" Invalid token provided; WWW-Authenticate: Bearer "
            b'realm="api"')
    excerpt = sanitized_excerpt(body)
    for kept in ("123e4567-e89b-12d3-a456-426614174000", "9f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b",
                 "report_2024_01_15_final_version_2.ipynb", "Invalid token provided", 'Bearer realm="api"'):
        assert kept in excerpt


def test_echoed_credential_headers_are_masked_whole():
    excerpt = sanitized_excerpt(b'{"Authorization": "Bearer tok-AAAA-my-secret", "Cookie": "sid=1; theme=dark",'
                                b' "X-Api-Key": "k1"}\nAuthorization: Basic YWxpY2U6aHVudGVyMg==')
    assert excerpt.count("[redacted]") == 4
    assert "tok-AAAA" not in excerpt and "sid=1" not in excerpt and "YWxp" not in excerpt and "k1" not in excerpt


def test_a_value_the_process_sent_is_replaced_in_every_form():
    from urllib.parse import quote, quote_plus

    from specbridge_runtime._mechanisms.secrets import hold

    secret = 'plain/sent+value"x'
    hold(secret)
    forms = [secret, json.dumps(secret)[1:-1], quote(secret, safe=""), quote_plus(secret)]
    excerpt = sanitized_excerpt(" | ".join(f"echo {form}" for form in forms).encode())
    assert excerpt.count("[redacted]") == len(forms) and "sent" not in excerpt


@pytest.mark.parametrize("depth", [101, 500, 100_000])
def test_json_nested_deeper_than_clients_read_is_an_invalid_response(depth):
    body = "[" * depth + "]" * depth
    with pytest.raises(InvalidResponse, match="nested deeper than 100 levels"):
        _map(httpx2.Response(200, headers={"content-type": "application/json"}, content=body.encode()))
    assert not _map(httpx2.Response(200, json=json.loads("[" * 100 + "]" * 100))).is_error


def test_text_pulled_into_the_excerpt_by_redaction_is_cleaned_too():
    from specbridge_runtime._mechanisms.secrets import hold

    secret = "held-" + "y" * 59
    hold(secret)
    excerpt = sanitized_excerpt(f"{secret} ".encode() * 120)  # 7.8 KB that shrinks to a tenth when cleaned
    assert len(excerpt) == 500 and "held-" not in excerpt and "yyyy" not in excerpt
