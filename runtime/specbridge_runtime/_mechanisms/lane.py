"""The fast lane: one connection's MCP session for a fixed tool set (a generated REST package), in the
handshake protocol era (2024-11-05 to 2025-11-25), answered without the MCP SDK.

It answers only what it answers exactly as the SDK server (`server.build_server`) would, which a test
checks message by message against the SDK on every protocol version: `initialize`, `ping`, `tools/list`
(the package's `tools.json` bytes as they are: nothing is parsed or validated to list the tools) and
`tools/call`, plus the `initialized` and `cancelled` notifications. Everything else — another method,
unusual parameters, a request in the 2026-07-28 envelope, a line that is not plain JSON-RPC — is
`DELEGATE`d: the transport hands it to the SDK's own server (see `stdio_lane`), so behaviour there is
the SDK's by construction. Nothing here imports the SDK: a server answers initialize and its first
tools/list without loading it.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from .._core.seams import ToolProvider
from .tool_calls import UnknownTool, call_result

# The SDK's protocol versions reachable with `initialize` (`mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS`,
# which a test compares): another requested version is answered with the newest.
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
# The `_meta` key only 2026-07-28 requests carry (`mcp_types.PROTOCOL_VERSION_META_KEY`).
MODERN_ENVELOPE_KEY = "io.modelcontextprotocol/protocolVersion"
INVALID_PARAMS = -32602


class Delegate(enum.Enum):
    """What the lane does not answer itself: the transport hands the message to the SDK's server."""

    DELEGATE = "delegate"


DELEGATE = Delegate.DELEGATE


@dataclass(frozen=True, slots=True)
class Call:
    """A tools/call to run as its own task; `answer` gives its response line."""

    request_id: int | str
    answer: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Cancel:
    """`notifications/cancelled` for a call the lane runs: it is stopped and never answered."""

    request_id: int | str


Outcome = bytes | Call | Cancel | Delegate | None
"""A response line to write now, a call to run, a cancellation, a message for the SDK, or nothing."""


@dataclass(frozen=True, slots=True)
class ServerCard:
    """What `initialize` says of the server (the SDK's `InitializeResult` without the version)."""

    name: str
    version: str
    title: str | None = None
    instructions: str | None = None

    def initialize_result(self, protocol_version: str) -> dict[str, Any]:
        info = {"name": self.name, "version": self.version}
        if self.title is not None:
            info["title"] = self.title
        result: dict[str, Any] = {"capabilities": {"tools": {"listChanged": True}},
                                  "protocolVersion": protocol_version, "serverInfo": info}
        if self.instructions is not None:
            result["instructions"] = self.instructions
        return result


def _response(request_id: int | str, result: Mapping[str, Any]) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}) + b"\n"


def _error(request_id: int | str, code: int, message: str, data: Any = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "error": error}) + b"\n"


def _request_id(message: Mapping[str, Any]) -> int | str | None:
    value = message.get("id")
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _only(params: Mapping[str, Any], allowed: frozenset[str]) -> bool:
    """Parameters the lane reads exactly as the SDK validates them: known keys, an object `_meta`."""
    return params.keys() <= allowed and isinstance(params.get("_meta", {}), dict)


_LIST_KEYS = frozenset({"_meta"})
_CALL_KEYS = frozenset({"_meta", "name", "arguments"})
_INITIALIZE_KEYS = frozenset({"_meta", "protocolVersion", "capabilities", "clientInfo"})


def _simple_initialize(params: Mapping[str, Any]) -> bool:
    info, capabilities = params.get("clientInfo"), params.get("capabilities")
    return (_only(params, _INITIALIZE_KEYS) and isinstance(params.get("protocolVersion"), str)
            and isinstance(capabilities, dict) and all(isinstance(value, dict) for value in capabilities.values())
            and isinstance(info, dict) and isinstance(info.get("name"), str) and isinstance(info.get("version"), str)
            and all(isinstance(value, str) for value in info.values()))


class Lane:
    """One connection: `route` each message the client sends, in order.

    `shadowed` is set by the transport once the SDK's server also serves the connection (it was handed a
    message): notifications then reach it too, so its session stays the lane's."""

    def __init__(self, provider: ToolProvider, tools_json: bytes, card: ServerCard) -> None:
        self._provider = provider
        # One line on the wire: JSON has no line ends outside strings, and none are left raw inside them.
        self._tools_json = tools_json.replace(b"\r", b"").replace(b"\n", b"")
        self._card = card
        self.protocol_version: str | None = None
        self.initialize_params: Mapping[str, Any] | None = None
        self.initialized = False
        self.shadowed = False
        self.running: set[int | str] = set()  # ids of the calls in flight (the transport's tasks)

    @property
    def accepted(self) -> bool:
        """The SDK's gate: requests other than ping are served once initialize (or `initialized`) was seen."""
        return self.initialize_params is not None or self.initialized

    def route(self, message: Any) -> Outcome:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return DELEGATE
        method = message.get("method")
        params = message.get("params", {})
        if not isinstance(method, str) or not isinstance(params, dict):
            return DELEGATE
        if "id" not in message:
            return self._notification(method, params)
        request_id = _request_id(message)
        meta = params.get("_meta")
        if request_id is None or (isinstance(meta, dict) and MODERN_ENVELOPE_KEY in meta):
            return DELEGATE
        if method == "initialize":
            return self._initialize(request_id, params)
        if method == "ping" and _only(params, _LIST_KEYS):
            return _response(request_id, {})
        if method not in ("tools/list", "tools/call") or self.shadowed:
            return DELEGATE
        if not self.accepted:
            return _error(request_id, INVALID_PARAMS, "Invalid request parameters", "")
        if self.protocol_version is None:  # initialized without initialize: the SDK's default version applies
            return DELEGATE
        if method == "tools/list":
            return self._list(request_id) if _only(params, _LIST_KEYS) else DELEGATE
        arguments = params.get("arguments")
        arguments = {} if arguments is None else arguments
        name = params.get("name")
        if not (_only(params, _CALL_KEYS) and isinstance(name, str) and isinstance(arguments, dict)):
            return DELEGATE
        return Call(request_id, lambda: self._call(request_id, name, arguments))

    def _notification(self, method: str, params: Mapping[str, Any]) -> Outcome:
        if method == "notifications/initialized":
            self.initialized = True
        elif method == "notifications/cancelled":
            request_id = _request_id({"id": params.get("requestId")})
            if request_id is not None and request_id in self.running:
                return Cancel(request_id)
        return DELEGATE if self.shadowed else None

    def _initialize(self, request_id: int | str, params: Mapping[str, Any]) -> Outcome:
        if not _simple_initialize(params):
            return DELEGATE
        requested = params["protocolVersion"]
        self.protocol_version = requested if requested in HANDSHAKE_VERSIONS else HANDSHAKE_VERSIONS[-1]
        self.initialize_params = params
        if self.shadowed:  # the SDK's session answers, and negotiates the same version
            return DELEGATE
        return _response(request_id, self._card.initialize_result(self.protocol_version))

    def _list(self, request_id: int | str) -> bytes:
        head = orjson.dumps({"jsonrpc": "2.0", "id": request_id})
        return b"%s,\"result\":{\"tools\":%s}}\n" % (head[:-1], self._tools_json)

    async def _call(self, request_id: int | str, name: str, arguments: Mapping[str, Any]) -> bytes:
        try:
            result = await call_result(self._provider, name, arguments)
        except UnknownTool as error:
            return _error(request_id, INVALID_PARAMS, error.message)
        # The SDK's own shaping of a tools/call result for the connection's version (fields it does not
        # define are dropped), so the answer is the SDK's to the byte's meaning.
        from mcp_types.methods import serialize_server_result

        assert self.protocol_version is not None  # `route` runs no call before initialize
        dumped = result.model_dump(by_alias=True, mode="json", exclude_none=True)
        shaped = serialize_server_result("tools/call", self.protocol_version, dumped)
        return _response(request_id, shaped)
