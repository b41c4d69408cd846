"""`serve --transport http` as a user runs it, with SPECBRIDGE_FAST_IO on (uvicorn on httptools, a POSTed
request answered with one JSON body) and off (uvicorn on h11, an SSE stream per POST, the SDK's default):
the SDK's client in both protocol eras, the transport's checks on raw HTTP, and the same JSON-RPC answers
from both for the same requests."""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.runtime.conftest import SBFIXTURE_SRC
from tests.support import free_port, serving

SWITCH = ["1", "0"]
HANDSHAKE, MODERN = "2025-06-18", "2026-07-28"
ACCEPT = "application/json, text/event-stream"
ENVELOPE = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"}}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, httpbin_url: str) -> Iterator[dict[str, str]]:
    """One server per SPECBRIDGE_FAST_IO value, by value: its base URL."""
    urls = {}
    with ExitStack() as stack:
        for switch in SWITCH:
            port = free_port()
            environ = {**os.environ, "PYTHONPATH": str(SBFIXTURE_SRC), "SBFIXTURE_BASE_URL": httpbin_url,
                       "SPECBRIDGE_HOME": str(tmp_path_factory.mktemp(f"home{switch}")),
                       "SBFIXTURE_SECRET": "header-secret-value", "SPECBRIDGE_FAST_IO": switch}
            stack.enter_context(serving([sys.executable, "-m", "sbfixture_mcp", "serve", "--transport", "http",
                                         "--port", str(port), "--no-auth"], port, env=environ))
            urls[switch] = f"http://127.0.0.1:{port}"
        yield urls


def message_of(response: httpx2.Response) -> Any:
    """The JSON-RPC message of an answer: its JSON body, or the SSE event that carries it."""
    if not response.content:
        return None
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        events = [line[5:] for line in response.text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return json.loads(events[-1])
    return response.json()


class RawSession:
    """A client on raw HTTP: a handshake session (`Mcp-Session-Id`) or 2026-07-28 requests with their envelope."""

    def __init__(self, http: httpx2.Client, url: str, era: str) -> None:
        self.http, self.url, self.era = http, f"{url}/mcp", era
        self.session: str | None = None
        self.next_id = 0
        if era == HANDSHAKE:
            opened = self.post("initialize", {"protocolVersion": HANDSHAKE, "capabilities": {},
                                              "clientInfo": {"name": "raw", "version": "1"}})
            self.session = opened.headers["mcp-session-id"]
            assert self.post("notifications/initialized", None).status_code == 202

    def headers(self, method: str, params: dict[str, Any] | None) -> dict[str, str]:
        headers = {"accept": ACCEPT, "content-type": "application/json"}
        if self.era == MODERN:
            headers |= {"mcp-protocol-version": MODERN, "mcp-method": method}
            if params and isinstance(params.get("name"), str):
                headers["mcp-name"] = params["name"]
        elif self.session is not None:
            headers |= {"mcp-session-id": self.session, "mcp-protocol-version": HANDSHAKE}
        return headers

    def post(self, method: str, params: dict[str, Any] | None, **headers: str) -> httpx2.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            self.next_id += 1
            message |= {"id": self.next_id, "params": params}
        if self.era == MODERN:
            message["params"] = {**(params or {}), "_meta": ENVELOPE}
        sent = self.headers(method, params) | {name.replace("_", "-"): value for name, value in headers.items()}
        return self.http.post(self.url, content=json.dumps(message), headers=sent)


@pytest.mark.parametrize("switch", SWITCH)
@pytest.mark.parametrize("mode", ["legacy", MODERN])
async def test_the_sdk_client_lists_and_calls_tools_in_either_era(servers, switch, mode):
    with anyio.fail_after(60):
        async with Client(streamable_http_client(f"{servers[switch]}/mcp"), mode=mode, cache=None) as client:
            tools = (await client.list_tools()).tools
            result = await client.call_tool("sbfixture_get_anything", {"item_id": "a b", "q": "x"})
    assert len(tools) == 13
    assert not result.is_error
    assert result.structured_content["url"].endswith("/anything/a%20b?q=x")


# Requests whose answers depend on nothing but the request (no upstream headers, times or random bytes).
REQUESTS = [
    ("ping", {}),
    ("tools/list", {}),
    ("tools/list", {"cursor": "not-one-of-ours"}),
    ("tools/call", {"name": "sbfixture_xml", "arguments": {}}),
    ("tools/call", {"name": "sbfixture_status", "arguments": {"code": 404}}),
    ("tools/call", {"name": "sbfixture_status", "arguments": {"code": "not a number"}}),
    ("tools/call", {"name": "sbfixture_status", "arguments": {}}),
    ("tools/call", {"name": "sbfixture_no_such_tool", "arguments": {}}),
    ("tools/call", {"name": "sbfixture_image_png"}),
    ("resources/list", {}),
    ("no/such/method", {}),
]


@pytest.mark.parametrize("era", [HANDSHAKE, MODERN])
def test_both_settings_answer_the_same_requests_with_the_same_messages(servers, era):
    answers: dict[str, list[tuple[int, Any]]] = {}
    for switch, url in servers.items():
        with httpx2.Client(timeout=30) as http:
            session = RawSession(http, url, era)
            answers[switch] = [(response.status_code, message_of(response))
                               for response in (session.post(method, params) for method, params in REQUESTS)]
    assert answers["1"] == answers["0"]
    # HTTP status and error code of each answer (None: a result): 2026-07-28 maps errors to HTTP statuses
    # and has no ping.
    outcomes = [(status, message["error"]["code"] if "error" in message else None) for status, message in answers["1"]]
    invalid, unknown = (200, -32602), (200, -32601)
    if era == MODERN:
        invalid, unknown = (400, -32602), (404, -32601)
    assert outcomes == [(200, None) if era == HANDSHAKE else unknown, (200, None), invalid, *[(200, None)] * 4, invalid,
                        (200, None), unknown, unknown]
    assert answers["1"][3][1]["result"]["isError"] is False  # the XML document, as text
    assert answers["1"][4][1]["result"]["isError"] is True  # the upstream's 404


@pytest.mark.parametrize("switch", SWITCH)
def test_a_post_is_answered_with_json_when_fast_and_with_an_event_stream_otherwise(servers, switch):
    with httpx2.Client(timeout=30) as http:
        session = RawSession(http, servers[switch], HANDSHAKE)
        answer = session.post("tools/call", {"name": "sbfixture_xml", "arguments": {}})
    expected = "application/json" if switch == "1" else "text/event-stream"
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(expected)
    assert message_of(answer)["id"] == session.next_id
    assert answer.headers["x-request-id"]


@pytest.mark.parametrize("switch", SWITCH)
def test_the_transport_checks_hold_with_either_setting(servers, switch):
    url = servers[switch]
    with httpx2.Client(timeout=30) as http:
        session = RawSession(http, url, HANDSHAKE)
        call = ("tools/call", {"name": "sbfixture_xml", "arguments": {}})
        assert session.post(*call, host="evil.example").status_code == 421
        assert session.post(*call, origin="http://evil.example").status_code == 403
        assert session.post(*call, accept="text/event-stream").status_code == 406
        assert session.post(*call, content_type="text/plain").status_code == 400
        assert session.post(*call, mcp_session_id="not-a-session").status_code == 404
        assert session.post(*call, mcp_protocol_version="1999-01-01").status_code == 400
        # JSON answers need only JSON accepted; an event stream needs both (the SDK's own rule for each).
        assert session.post(*call, accept="application/json").status_code == (200 if switch == "1" else 406)
        assert session.post(*call).status_code == 200
        ended = http.delete(f"{url}/mcp", headers=session.headers("", None))
        assert ended.status_code == 200
        assert session.post(*call).status_code == 404
        assert RawSession(http, url, MODERN).post(*call, mcp_name="another_tool").status_code == 400
        assert http.get(f"{url}/healthz").status_code == 200
        assert http.get(f"{url}/readyz").status_code == 200
        assert "specbridge" in http.get(f"{url}/metrics").text


@pytest.mark.parametrize("switch", SWITCH)
def test_header_values_are_read_without_the_spaces_and_tabs_around_them(servers, switch):
    # RFC 9110 (5.5): a field value excludes the whitespace around it; the 2026-07-28 rules compare Mcp-Name
    # with the body's tool name and the Host check compares names, so both must see the value alone.
    port = int(servers[switch].rsplit(":", 1)[1])
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "sbfixture_xml", "arguments": {}, "_meta": ENVELOPE}}).encode()
    head = (f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port} \t\r\nContent-Type: application/json \r\n"
            f"Accept: {ACCEPT}\t\r\nMCP-Protocol-Version: {MODERN} \r\nMcp-Method: \ttools/call \r\n"
            f"Mcp-Name:  sbfixture_xml \t \r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head + body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]
    assert b'"isError":false' in answer
