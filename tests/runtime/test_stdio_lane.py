"""The stdio lane (`_mechanisms/lane.py`, `stdio_lane.py`) answers exactly what the SDK's server answers.

Each conversation is sent, as the same bytes, to a generated package served over stdio twice: with the lane
(`SPECBRIDGE_FAST_IO=1`, the default) and with the SDK's server alone (`=0`); every answer must be the same
JSON, and no request may go unanswered on one side only. The conversations cover every handshake protocol
version, what the lane answers itself (initialize, ping, tools/list, tools/call: results, tool errors,
unknown tools) and what it hands to the SDK (other methods, odd parameters, lines that are not JSON-RPC,
requests before initialize, the 2026-07-28 envelope, cancellation).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import mcp_types
import pytest
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS, MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError
from specbridge_runtime._core.errors import OperationNotFound
from specbridge_runtime._mechanisms import lane
from specbridge_runtime._mechanisms.tool_calls import UnknownTool, wire_call_result

from tests.runtime.conftest import SBFIXTURE_SRC
from tests.support import generated_package, http_server

# A package of direct tools, and one generated with `--tools dynamic` (search, describe and call operations).
SBSEARCH_SRC = generated_package(Path(__file__).parent / "specs" / "sbsearch.json", on_path=False)
SLOW_S = 20.0  # the upstream's answer to /status/299: later than any test waits


class _Upstream(BaseHTTPRequestHandler):
    """Fixed answers that do not echo the request, so both servers' results can be compared as they are."""

    def do_GET(self) -> None:
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2].split("?")[0])
            if code == 299:
                time.sleep(SLOW_S)
            self._send(code, {"status": code})
        elif self.path == "/items":
            self._send(200, [{"id": 1}, {"id": 2}])
        elif self.path.startswith("/anything/"):
            self._send(200, {"item": self.path.split("/")[2].split("?")[0], "tags": ["a", "b"], "price": 9.5})
        else:
            self._send(404, {"error": "not here"})

    def do_DELETE(self) -> None:
        self._send(204, None)

    def _send(self, code: int, body: Any) -> None:
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(code)
        if body is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with http_server(_Upstream) as url:
        yield url


def request(request_id: Any, method: str, params: Any = None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


def initialize(version: str, request_id: Any = 1) -> dict[str, Any]:
    return request(request_id, "initialize", {"protocolVersion": version, "capabilities": {"roots": {}},
                                              "clientInfo": {"name": "test", "version": "1"}})


def call(request_id: Any, name: str, arguments: Any = None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name}
    if arguments is not None:
        params["arguments"] = arguments
    return request(request_id, "tools/call", params)


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def conversation(version: str) -> list[Any]:
    """A session after initialize: the lane's own requests, then what it hands over, in one stream."""
    return [
        initialize(version), INITIALIZED,
        request(2, "tools/list"),
        request(3, "ping"),
        call(4, "sbfixture_get_anything", {"item_id": "7", "q": "x", "tags": ["a", "b"]}),
        call("five", "sbfixture_get_anything", {"item_id": 5}),
        call(6, "sbfixture_status", {"code": 503}),
        call(7, "sbfixture_status", {"code": 404}),
        call(8, "no_such_tool", {}),
        call(9, "sbfixture_delete_item", {"item_id": "3"}),
        call(10, "sbfixture_list_items"),
        request(11, "tools/call", {"arguments": {}}),
        request(12, "tools/call", {"name": "sbfixture_list_items", "arguments": [1]}),
        request(13, "tools/list", {"cursor": "abc"}),
        request(14, "resources/list"),
        request(15, "prompts/get", {"name": "x"}),
        request(16, "logging/setLevel", {"level": "debug"}),
        request(17, "no/such/method"),
        request(18, "tools/list", {"_meta": {"progressToken": 1}}),
        call(19, "sbfixture_get_anything", {"item_id": "1", "extra": True}),
        request(20, "ping", [1, 2]),
        {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        {"jsonrpc": "2.0", "id": 99, "result": {}},
        request(21, "tools/call", {"name": "sbfixture_list_items", "task": {"ttl": 1000}}),
        initialize(version, request_id=22),
        request(23, "tools/list"),
        "a line that is not JSON",
        [request(24, "ping")],
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
        {"jsonrpc": "1.0", "id": 25, "method": "ping"},
        request(True, "ping"),
        call(26, "sbfixture_get_anything", {"item_id": "2 /?#", "q": "caf\u00e9 \u2028 \U0001f600"}),
    ]


def envelope(version: str = "2026-07-28", **changes: Any) -> dict[str, Any]:
    meta = {mcp_types.PROTOCOL_VERSION_META_KEY: version, mcp_types.CLIENT_INFO_META_KEY: {"name": "t", "version": "1"},
            mcp_types.CLIENT_CAPABILITIES_META_KEY: {"sampling": {}}}
    return {key: value for key, value in {**meta, **changes}.items() if value is not None}


def modern_conversation() -> list[Any]:
    """Requests in the 2026-07-28 envelope: the first one opens that era for the whole connection."""
    def enveloped(request_id: Any, method: str, params: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
        return request(request_id, method, {**(params or {}), "_meta": envelope(**meta)})

    return [
        enveloped(1, "tools/list"),
        enveloped(2, "tools/call", {"name": "sbfixture_get_anything", "arguments": {"item_id": "7", "q": "x"}}),
        enveloped(3, "tools/call", {"name": "sbfixture_get_anything", "arguments": {"item_id": 5}}),
        enveloped(4, "tools/call", {"name": "no_such_tool"}),
        enveloped(5, "tools/call", {"name": "sbfixture_status", "arguments": {"code": 503}}),
        enveloped(6, "ping"),
        enveloped(7, "server/discover"),
        enveloped(8, "tools/list", version="2027-01-01"),
        enveloped(9, "tools/list", **{mcp_types.CLIENT_CAPABILITIES_META_KEY: None}),
        enveloped(10, "tools/list", **{mcp_types.CLIENT_INFO_META_KEY: None}),
        enveloped(11, "tools/list", progressToken=3),
        enveloped(12, "tools/list", {"cursor": "x"}),
        enveloped(13, "tools/call", {"name": "sbfixture_list_items", "arguments": []}),
        enveloped(14, "resources/list"),
        request(15, "tools/list"),
        initialize("2025-06-18", request_id=16),
        INITIALIZED,
        enveloped(17, "tools/call", {"name": "sbfixture_list_items"}),
        enveloped(18, "tools/list", **{mcp_types.CLIENT_CAPABILITIES_META_KEY: {"roots": 1}}),
    ]


CONVERSATIONS: dict[str, list[Any]] = {
    **{f"handshake {version}": conversation(version) for version in (*HANDSHAKE_PROTOCOL_VERSIONS, "2099-01-01")},
    "before initialize": [
        request(1, "tools/list"), request(2, "ping"), call(3, "sbfixture_list_items"), INITIALIZED,
        request(4, "tools/list"), initialize("2025-06-18", request_id=5), request(6, "tools/list"),
        call(7, "sbfixture_list_items"),
    ],
    "another method first": [
        request(1, "resources/list"), initialize("2025-06-18", request_id=2), INITIALIZED, request(3, "tools/list"),
        call(4, "sbfixture_list_items"),
    ],
    "not JSON first": ["{oops", initialize("2025-11-25"), INITIALIZED, request(2, "tools/list")],
    "odd initialize": [
        request(1, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {"roots": 5},
                                  "clientInfo": {"name": "test", "version": "1"}}),
        request(2, "initialize", {"protocolVersion": 20250618, "capabilities": {}}),
        initialize("2025-06-18", request_id=3), INITIALIZED, request(4, "tools/list"), call(5, "sbfixture_list_items"),
    ],
    "2026-07-28 envelope": modern_conversation(),
    "envelope after initialize": [
        initialize("2025-06-18"), INITIALIZED,
        request(2, "tools/list", {"_meta": {mcp_types.PROTOCOL_VERSION_META_KEY: "2026-07-28"}}),
        request(3, "tools/list"),
    ],
}


def expected_ids(messages: list[Any], never: frozenset[str] = frozenset()) -> Counter[str]:
    """How many answers each id (as JSON) gets, by JSON-RPC as the SDK reads a line: a request is answered
    with its id, a line that is not a message with `id: null`; `never`: the ids of cancelled requests."""
    ids: Counter[str] = Counter()
    for message in messages:
        try:
            parsed = mcp_types.jsonrpc_message_adapter.validate_json(
                message if isinstance(message, str) else json.dumps(message))
        except ValidationError:
            ids["null"] += 1
            continue
        if isinstance(parsed, mcp_types.JSONRPCRequest) and json.dumps(message["id"]) not in never:
            ids[json.dumps(message["id"])] += 1
    return ids


def served(messages: list[Any], upstream: str, tmp_path: Path, fast_io: str,
           never: frozenset[str] = frozenset(), package: str = "sbfixture") -> list[dict[str, Any]]:
    """Every answer the server wrote for `messages` (sent at once); stdin is closed once each expected
    answer came (at its end, calls still in flight would be cancelled), then the rest is read to the end."""
    env = {**os.environ, "PYTHONPATH": str(SBFIXTURE_SRC if package == "sbfixture" else SBSEARCH_SRC),
           "SPECBRIDGE_HOME": str(tmp_path / fast_io), f"{package.upper()}_BASE_URL": upstream,
           "SBFIXTURE_SECRET": "s3cret", "SPECBRIDGE_FAST_IO": fast_io, "SPECBRIDGE_LOG_LEVEL": "CRITICAL"}
    data = b"".join((message if isinstance(message, str) else json.dumps(message)).encode() + b"\n"
                    for message in messages)
    process = subprocess.Popen([sys.executable, "-m", f"{package}_mcp", "serve"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert process.stdin is not None and process.stdout is not None
    waiting = expected_ids(messages, never)
    answers: list[dict[str, Any]] = []
    timer = threading.Timer(60, process.kill)
    timer.start()
    try:
        process.stdin.write(data)
        process.stdin.flush()
        while +waiting:
            line = process.stdout.readline()
            assert line, (f"the server (SPECBRIDGE_FAST_IO={fast_io}) ended without answering {dict(+waiting)}; "
                          f"it answered {answers}")
            assert line.endswith(b"\n") and b"\n" not in line[:-1], "one message per line"
            answers.append(json.loads(line))
            waiting[json.dumps(answers[-1].get("id"))] -= 1
        process.stdin.close()
        answers += [json.loads(line) for line in process.stdout]
        assert process.wait(timeout=30) == 0
    finally:
        timer.cancel()
        process.kill()
        process.wait()
    return answers


def by_id(answers: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for answer in answers:
        grouped.setdefault(json.dumps(answer.get("id")), []).append(answer)
    return grouped


def dynamic_conversation(version: str) -> list[Any]:
    """The search, describe and call tools of a `--tools dynamic` package, and its direct tool."""
    def enveloped(request_id: int, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        params: dict[str, Any] = {"name": name, "arguments": arguments}
        if version == "2026-07-28":
            params["_meta"] = envelope()
        return request(request_id, "tools/call", params)

    opening = [] if version == "2026-07-28" else [initialize(version), INITIALIZED]
    listing = request(2, "tools/list", {"_meta": envelope()} if version == "2026-07-28" else None)
    return [
        *opening, listing,
        enveloped(3, "sbsearch_search_operations", {"query": "status code"}),
        enveloped(4, "sbsearch_search_operations", {"query": ""}),
        enveloped(5, "sbsearch_describe_operation", {"name": "sbsearch_status"}),
        enveloped(6, "sbsearch_call_operation", {"name": "sbsearch_list_items", "arguments": {}}),
        enveloped(7, "sbsearch_call_operation", {"name": "sbsearch_status", "arguments": {"code": "x"}}),
        enveloped(8, "sbsearch_call_operation", {"name": "no_such_operation"}),
        enveloped(9, "sbsearch_get_anything", {"item_id": "3"}),
        enveloped(10, "sbsearch_status", {"code": 200}),
    ]


@pytest.mark.parametrize("version", ["2025-06-18", "2026-07-28"])
def test_the_lane_answers_a_dynamic_package_as_the_sdk_server(version: str, upstream: str, tmp_path: Path) -> None:
    messages = dynamic_conversation(version)
    lane_answers = by_id(served(messages, upstream, tmp_path, "1", package="sbsearch"))
    sdk_answers = by_id(served(messages, upstream, tmp_path, "0", package="sbsearch"))
    assert lane_answers.keys() == sdk_answers.keys()
    for request_id, answers in sdk_answers.items():
        assert canonical(lane_answers[request_id]) == canonical(answers), request_id
    assert "sbsearch_status" in json.dumps(lane_answers["3"])  # the search finds it: the comparison is of results


def canonical(answers: list[dict[str, Any]]) -> list[str]:
    return sorted(json.dumps(answer, sort_keys=True) for answer in answers)


@pytest.mark.parametrize("name", list(CONVERSATIONS))
def test_the_lane_answers_as_the_sdk_server(name: str, upstream: str, tmp_path: Path) -> None:
    messages = CONVERSATIONS[name]
    lane_answers = by_id(served(messages, upstream, tmp_path, "1"))
    sdk_answers = by_id(served(messages, upstream, tmp_path, "0"))
    assert lane_answers.keys() == sdk_answers.keys()
    for request_id, answers in sdk_answers.items():
        assert canonical(lane_answers[request_id]) == canonical(answers), request_id


def test_the_lane_serves_real_results(upstream: str, tmp_path: Path) -> None:
    """What the comparison relies on: the lane's own answers are the tools' results, not errors."""
    answers = by_id(served(conversation("2025-06-18"), upstream, tmp_path, "1"))
    assert len(answers["2"][0]["result"]["tools"]) == 13
    result = answers["4"][0]["result"]
    assert result["structuredContent"]["item"] == "7" and not result.get("isError")
    assert answers['"five"'][0]["result"]["isError"] is True
    assert answers["8"][0]["error"]["code"] == -32602


def test_a_cancelled_call_is_never_answered(upstream: str, tmp_path: Path) -> None:
    cancelled = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 2}}
    messages = [initialize("2025-06-18"), INITIALIZED, call(2, "sbfixture_status", {"code": 299}), cancelled,
                request(3, "ping")]
    for fast_io in ("1", "0"):
        answers = by_id(served(messages, upstream, tmp_path, fast_io, never=frozenset({"2"})))
        assert "2" not in answers and "3" in answers


def test_the_lane_knows_the_sdks_protocol_versions() -> None:
    assert lane.HANDSHAKE_VERSIONS == HANDSHAKE_PROTOCOL_VERSIONS
    assert lane.MODERN_VERSIONS == MODERN_PROTOCOL_VERSIONS
    assert (lane.MODERN_ENVELOPE_KEY, lane.CLIENT_INFO_KEY, lane.CLIENT_CAPABILITIES_KEY, lane.SERVER_INFO_KEY) == (
        mcp_types.PROTOCOL_VERSION_META_KEY, mcp_types.CLIENT_INFO_META_KEY, mcp_types.CLIENT_CAPABILITIES_META_KEY,
        mcp_types.SERVER_INFO_META_KEY)


class _Broken:
    """A provider whose call fails with a bug, or names a tool it does not have."""

    name = "broken"

    async def call_wire(self, name: str, arguments: Any) -> dict[str, Any]:
        if name == "missing":
            raise OperationNotFound(f"operation not found: {name!r} is not a tool of broken")
        raise RuntimeError("secret internals")


async def test_a_provider_bug_is_an_error_result_that_names_no_internals() -> None:
    result = await wire_call_result(_Broken(), "explodes", {})
    assert result["isError"] is True
    assert "internal error in the broken server while calling explodes" in result["content"][0]["text"]
    assert "secret internals" not in json.dumps(result)
    with pytest.raises(UnknownTool, match="unknown tool: operation not found"):
        await wire_call_result(_Broken(), "missing", {})
