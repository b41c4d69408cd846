"""What reaches the agent besides the body: the `_response` block (headers an agent acts on, Link relations,
the arguments of the next page), readable error excerpts (HTML as text, JSON messages first) and
newline-delimited JSON as a list."""

import json

import httpx2
import mcp_types as types
import pytest
from specbridge_runtime import InvalidResponse, Operation, Param
from specbridge_runtime._mechanisms.response import to_result

LIST = Operation(tool="shop_list_orders", method="GET", path="/v1/orders", input_model="M", params=(
    Param(arg="cursor", name="_token", location="query"), Param(arg="limit", name="limit", location="query"),
    Param(arg="sort", name="sort", location="query", explode=False),
    Param(arg="active", name="active", location="query")),
    response_headers=("X-Request-Id",))
ARGUMENTS = {"cursor": {"type": "string"}, "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
             "sort": {"type": "array", "items": {"type": "string"}}, "active": {"type": "boolean"}}
NOW = 1_700_000_000.0  # what a Retry-After date would be read against
REQUEST = httpx2.Request("GET", "https://api.example.com/v1/orders?limit=2")


def _map(response: httpx2.Response, *, output_schema: bool = True) -> types.CallToolResult:
    response.request = REQUEST
    return to_result(response, response.content, connector="shop", operation=LIST, output_schema=output_schema,
                     now=NOW, arguments=ARGUMENTS)


def _texts(result: types.CallToolResult) -> list[str]:
    return [block.text for block in result.content if isinstance(block, types.TextContent)]


def test_headers_links_and_next_arguments_reach_structured_content_and_text() -> None:
    headers = [("ETag", '"17"'), ("Link", '</v1/orders?_token=abc&limit=2&sort=name,id&active=true>; rel="next", '
                                          '<https://api.example.com/v1/orders>; rel="first prev"'),
               ("X-Total-Count", "5"), ("X-RateLimit-Remaining", "99"), ("X-Request-Id", "r-1"),
               ("Set-Cookie", "session=secret-cookie"), ("Server", "nginx"), ("Content-Type", "application/json")]
    result = _map(httpx2.Response(200, headers=headers, json={"orders": [1, 2]}))
    assert result.structured_content is not None
    meta = result.structured_content["_response"]
    assert result.structured_content["orders"] == [1, 2]
    assert meta == {
        "status": 200,
        "headers": {"etag": '"17"', "link": headers[1][1], "x-total-count": "5", "x-ratelimit-remaining": "99",
                    "x-request-id": "r-1"},
        "links": {"next": "https://api.example.com/v1/orders?_token=abc&limit=2&sort=name,id&active=true",
                  "first": "https://api.example.com/v1/orders", "prev": "https://api.example.com/v1/orders"},
        # Typed as the tool takes them: passing them back to the same tool fetches the next page.
        "next_arguments": {"cursor": "abc", "limit": 2, "sort": ["name", "id"], "active": True},
    }
    # The model reads the same block as text after the body; a session cookie is never shown.
    assert json.loads(_texts(result)[-1]) == {"_response": meta}
    assert "secret-cookie" not in json.dumps(result.model_dump(mode="json"))


def test_a_next_page_header_holding_a_url_is_the_next_link() -> None:
    response = httpx2.Response(200, headers={"Next-Page": "http://proxy.internal/v1/orders?_token=t2&limit=2"},
                               json={"data": []})
    meta = _map(response).structured_content["_response"]  # type: ignore[index]
    assert meta["links"] == {"next": "http://proxy.internal/v1/orders?_token=t2&limit=2"}
    assert meta["next_arguments"] == {"cursor": "t2", "limit": 2}


def test_a_link_to_another_path_gives_no_next_arguments_and_no_headers_no_block() -> None:
    elsewhere = _map(httpx2.Response(200, headers={"Link": '</v1/archive?_token=x>; rel="next"'}, json={}))
    assert "next_arguments" not in elsewhere.structured_content["_response"]  # type: ignore[index]
    plain = _map(httpx2.Response(200, json={"a": 1}))
    assert plain.structured_content == {"a": 1} and len(plain.content) == 1


def test_created_with_a_location_and_no_body_still_tells_where() -> None:
    result = _map(httpx2.Response(201, headers={"Location": "/v1/orders/9"}), output_schema=False)
    assert result.structured_content is None
    assert json.loads(_texts(result)[-1])["_response"] == {"status": 201, "headers": {"location": "/v1/orders/9"}}


def test_error_results_carry_the_block_too() -> None:
    result = _map(httpx2.Response(412, headers={"ETag": '"18"'}, json={"message": "modified meanwhile"}))
    assert result.is_error
    assert json.loads(_texts(result)[-1])["_response"]["headers"] == {"etag": '"18"'}


def test_an_html_error_page_becomes_its_title_and_words() -> None:
    page = ("<!DOCTYPE html><html><head><title>502 Bad Gateway</title><style>body {color: red}</style>"
            "<script>var token = 1;</script></head><body><center><h1>502 Bad Gateway</h1></center><hr>"
            "<p>The upstream &amp; its <b>replica</b> did not answer.</p></body></html>")
    result = _map(httpx2.Response(502, html=page))
    text = _texts(result)[0]
    assert "Response: 502 Bad Gateway: The upstream & its replica did not answer." in text
    assert "<" not in text.split("Response:", 1)[1].split("\n", 1)[0]
    assert "color" not in text and "var token" not in text


def test_a_json_error_keeps_its_message_fields_first() -> None:
    body = {"code": 412, "errno": 114, "info": "https://docs.example.com/" + "x" * 600,
            "error": {"status": "PRECONDITION", "message": "Resource was modified meanwhile"}, "message": "Stale"}
    text = _texts(_map(httpx2.Response(412, json=body)))[0]
    excerpt = text.split("Response: ", 1)[1]
    assert excerpt.startswith('{"message": "Stale", "error": {"message": "Resource was modified meanwhile", '
                              '"status": "PRECONDITION"}, "code": 412')


def test_newline_delimited_json_is_a_list() -> None:
    lines = b'{"id": 1}\n{"id": 2}\n\n{"id": 3}\n'
    for media_type in ("application/x-ndjson", "application/json", "application/jsonl"):
        result = _map(httpx2.Response(200, content=lines, headers={"content-type": media_type}))
        assert result.structured_content == {"result": [{"id": 1}, {"id": 2}, {"id": 3}]}, media_type


def test_a_body_that_is_neither_json_nor_json_lines_is_still_invalid() -> None:
    with pytest.raises(InvalidResponse, match="not valid JSON"):
        _map(httpx2.Response(200, content=b'{"id": 1}\nnot json\n', headers={"content-type": "application/json"}))
