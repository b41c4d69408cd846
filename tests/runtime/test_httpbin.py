"""Calls against a real upstream: httpbin (PyPI) on 127.0.0.1, through the fixture package's tools."""

import base64

import mcp_types as types
import pytest
from specbridge_runtime._assembly.connectors import rest_provider
from specbridge_runtime.testing import connect


@pytest.fixture
def provider(package, httpbin_url, tmp_path):
    return rest_provider(package, environ={"SBFIXTURE_BASE_URL": httpbin_url, "SPECBRIDGE_HOME": str(tmp_path),
                                           "SPECBRIDGE_AUDIT": "off", "SBFIXTURE_SECRET": "from-the-env"})


async def _call(provider, tool, arguments):
    async with connect(provider) as client:
        return await client.call_tool(tool, arguments)


async def test_path_query_headers_and_cookies(provider):
    result = await _call(provider, "sbfixture_get_anything", {
        "item_id": "../etc/passwd", "q": "a&b", "tags": ["x", "y"], "filter": {"state": "open"},
        "X-Trace": "trace-1", "session": "s1"})
    echoed = result.structured_content
    assert echoed["method"] == "GET"
    # httpbin shows the path decoded; it was routed to /anything/<item_id>, not to /etc/passwd.
    assert echoed["url"].endswith("/anything/../etc/passwd?q=a%26b&tags=x&tags=y&filter[state]=open")
    assert echoed["args"] == {"q": "a&b", "tags": ["x", "y"], "filter[state]": "open"}
    assert echoed["headers"]["X-Trace"] == "trace-1"
    assert echoed["headers"]["X-Static"] == "static-value"
    assert echoed["headers"]["Cookie"] == "session=s1"
    # A header whose value is a secret reference (env:SBFIXTURE_SECRET) is resolved by the upstream auth.
    assert echoed["headers"]["X-Secret"] == "from-the-env"


async def test_json_body(provider):
    result = await _call(provider, "sbfixture_post_json", {"name": "n", "count": 3, "meta": {"source": "t"}})
    assert result.structured_content["json"] == {"name": "n", "count": 3, "meta": {"source": "t"}}
    assert result.structured_content["headers"]["Content-Type"] == "application/json"


async def test_form_body(provider):
    result = await _call(provider, "sbfixture_post_form", {
        "name": "n", "items": [{"price": "p1", "quantity": 2}], "metadata": {"k": "v w"}})
    assert result.structured_content["form"] == {"name": "n", "items[0][price]": "p1", "items[0][quantity]": "2",
                                                 "metadata[k]": "v w"}


async def test_multipart_body(provider):
    result = await _call(provider, "sbfixture_upload", {
        "file": base64.b64encode(b"file content").decode(), "description": "d", "meta": {"source": "s"}})
    echoed = result.structured_content
    assert echoed["files"] == {"file": "file content"}
    assert echoed["form"] == {"description": "d", "meta": '{"source":"s"}'}


async def test_text_and_binary_bodies(provider):
    text = await _call(provider, "sbfixture_post_text", {"body": "plain text"})
    assert text.structured_content["data"] == "plain text"
    binary = await _call(provider, "sbfixture_post_binary", {"body": base64.b64encode(b"\x00\x01\xff").decode()})
    assert binary.structured_content["data"] == "data:application/octet-stream;base64,AAH/"


async def test_image(provider):
    result = await _call(provider, "sbfixture_image_png", {})
    [image] = result.content
    assert isinstance(image, types.ImageContent) and image.mime_type == "image/png"
    assert base64.b64decode(image.data).startswith(b"\x89PNG")


async def test_binary_and_xml_responses(provider):
    binary = await _call(provider, "sbfixture_bytes", {"n": 64})
    assert isinstance(binary.content[0], types.EmbeddedResource)
    assert len(base64.b64decode(binary.content[0].resource.blob)) == 64
    xml = await _call(provider, "sbfixture_xml", {})
    assert xml.content[0].text.lstrip().startswith("<?xml")


async def test_404_is_an_error_with_a_hint(provider):
    result = await _call(provider, "sbfixture_status", {"code": 404})
    assert result.is_error
    assert result.content[0].text.startswith("HTTP 404 NOT FOUND from sbfixture (GET /status/{code})")
    assert "not found" in result.content[0].text.split("Hint:")[1]


async def test_empty_response(provider):
    result = await _call(provider, "sbfixture_status", {"code": 204})
    assert not result.is_error and result.content[0].text == "(empty response, HTTP 204)"
