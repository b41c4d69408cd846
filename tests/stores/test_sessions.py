"""Clients of protocol versions before 2026-07-28 open a session on one replica: without sticky routing the
next request may reach another replica. With SPECBRIDGE_HTTP_STATELESS=1 any replica answers it."""

from __future__ import annotations

import json
from pathlib import Path

import httpx2

from tests.faultserver.process import FaultServerProcess
from tests.stores.replicas import replicas

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
           "MCP-Protocol-Version": "2025-06-18"}


def post(url: str, body: dict[str, object], session: str | None) -> httpx2.Response:
    headers = HEADERS | ({"Mcp-Session-Id": session} if session else {})
    return httpx2.post(url, json=body, headers=headers, timeout=30)


def result_of(response: httpx2.Response) -> dict[str, object]:
    """The JSON-RPC message of a response sent as JSON or as one server-sent event."""
    text = response.text
    data = next((line[5:] for line in text.splitlines() if line.startswith("data:")), text)
    message: dict[str, object] = json.loads(data)
    return message


def call_across(first: str, second: str) -> httpx2.Response:
    """Initialize on `first` (the old protocol), then call a tool on `second`."""
    params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "old", "version": "1"}}
    opened = post(first, {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}, None)
    assert opened.status_code == 200, opened.text
    session = opened.headers.get("mcp-session-id")
    post(first, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    return post(second, {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                         "params": {"name": "faultapi_get", "arguments": {"mode": "ok", "id": "x"}}}, session)


def test_an_old_protocol_session_is_tied_to_its_replica_unless_stateless(faultserver: FaultServerProcess,
                                                                         tmp_path: Path) -> None:
    environ = {"FAULTAPI_BASE_URL": faultserver.url}
    with replicas(2, tmp_path / "stateful", environ) as running:
        elsewhere = call_across(running[0].url, running[1].url)
    assert elsewhere.status_code == 404  # the other replica does not know the session
    with replicas(2, tmp_path / "stateless", {**environ, "SPECBRIDGE_HTTP_STATELESS": "1"}) as running:
        answered = call_across(running[0].url, running[1].url)
    assert answered.status_code == 200, answered.text
    message = result_of(answered)
    assert "result" in message and message["result"]["structuredContent"]["id"] == "x"  # type: ignore[index]
