"""The fast lane: one connection's MCP session for a fixed tool set (a generated REST package), answered
without the MCP SDK, in either protocol era: the handshake (`initialize`, 2024-11-05 to 2025-11-25) or the
2026-07-28 per-request envelope. As in the SDK, the client's first request decides the era.

It answers only what it answers exactly as the SDK server (`server.build_server`) would, which a test
checks message by message against the SDK on every protocol version: `initialize` and `ping` (handshake),
`tools/list` (the package's `tools.json` bytes as they are: nothing is parsed or validated to list the
tools) and `tools/call`, plus the `initialized` and `cancelled` notifications. Everything else — another
method, unusual parameters or envelopes, a request of the other era, a line that is not plain JSON-RPC —
is `DELEGATE`d: the transport hands it to the SDK's own server (see `stdio_lane`), so behaviour there is
the SDK's by construction. Nothing here imports the SDK: a server answers initialize and its first
tools/list without loading it.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from .._core.seams import ToolProvider
from .tool_calls import UnknownTool, WireCalls, call_result, wire_call_result

# The SDK's protocol versions reachable with `initialize` (`mcp_types.version.HANDSHAKE_PROTOCOL_VERSIONS`,
# which a test compares): another requested version is answered with the newest.
HANDSHAKE_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
# The 2026-07-28 envelope (`mcp_types.version.MODERN_PROTOCOL_VERSIONS` and the `_meta` keys of
# `mcp_types`, which a test compares): the version key is what only such requests carry.
MODERN_VERSIONS = ("2026-07-28",)
MODERN_ENVELOPE_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
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
    """`notifications/cancelled`: a call the lane runs is stopped and never answered; for another request
    the notification goes to the SDK's server, if it serves the connection too."""

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

    def info(self) -> dict[str, str]:
        info = {"name": self.name, "version": self.version}
        if self.title is not None:
            info["title"] = self.title
        return info

    def initialize_result(self, protocol_version: str) -> dict[str, Any]:
        result: dict[str, Any] = {"capabilities": {"tools": {"listChanged": True}},
                                  "protocolVersion": protocol_version, "serverInfo": self.info()}
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


def _request_id(value: Any) -> int | str | None:
    """`value` as a request id (a string or an integer, not a boolean), else None."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return None


def _only(params: Mapping[str, Any], allowed: frozenset[str]) -> bool:
    """Parameters the lane reads exactly as the SDK validates them: known keys, an object `_meta`."""
    return params.keys() <= allowed and isinstance(params.get("_meta", {}), dict)


_LIST_KEYS = frozenset({"_meta"})
_CALL_KEYS = frozenset({"_meta", "name", "arguments"})
_INITIALIZE_KEYS = frozenset({"_meta", "protocolVersion", "capabilities", "clientInfo"})
_ENVELOPE_KEYS = frozenset({MODERN_ENVELOPE_KEY, CLIENT_INFO_KEY, CLIENT_CAPABILITIES_KEY})


def _simple_client(info: Any, capabilities: Any) -> bool:
    """Client info and capabilities the SDK accepts whatever they hold (the lane reads neither)."""
    return (isinstance(capabilities, dict) and all(isinstance(value, dict) for value in capabilities.values())
            and isinstance(info, dict) and isinstance(info.get("name"), str) and isinstance(info.get("version"), str)
            and all(isinstance(value, str) for value in info.values()))


def _simple_initialize(params: Mapping[str, Any]) -> bool:
    return (_only(params, _INITIALIZE_KEYS) and isinstance(params.get("protocolVersion"), str)
            and _simple_client(params.get("clientInfo"), params.get("capabilities")))


def _simple_envelope(meta: Mapping[str, Any]) -> bool:
    return (meta.keys() <= _ENVELOPE_KEYS and meta.get(MODERN_ENVELOPE_KEY) in MODERN_VERSIONS
            and _simple_client(meta.get(CLIENT_INFO_KEY), meta.get(CLIENT_CAPABILITIES_KEY)))


def _stamped(result: dict[str, Any], info: Mapping[str, Any]) -> dict[str, Any]:
    """A 2026-07-28 result as the SDK completes it: `resultType` and the server's identity in `_meta`."""
    result.setdefault("resultType", "complete")
    meta = result.get("_meta")
    if meta is None:
        result["_meta"] = {SERVER_INFO_KEY: info}
    elif isinstance(meta, dict) and meta.get(SERVER_INFO_KEY) is None:
        result["_meta"] = {**meta, SERVER_INFO_KEY: info}
    return result


class Lane:
    """One connection: `route` each message the client sends, in order. `prime()` says what brings the
    SDK's server to this session when the transport first hands it a message (`shadowed` is set then)."""

    def __init__(self, provider: ToolProvider, tools_json: bytes, card: ServerCard) -> None:
        self._provider = provider
        # Asked once: a check against a runtime protocol inspects the class each time.
        self._wire = provider if isinstance(provider, WireCalls) else None
        # One line on the wire: JSON has no line ends outside strings, and none are left raw inside them.
        self._tools_json = tools_json.replace(b"\r", b"").replace(b"\n", b"")
        self._card = card
        self.era: Literal["handshake", "modern"] | None = None
        self.protocol_version: str | None = None
        self.initialize_params: Mapping[str, Any] | None = None
        self.initialized = False
        self.shadowed = False
        # What a 2026-07-28 tools/list answer holds besides the tools, as the SDK's server fills it in.
        self._modern_list = b'"cacheScope":"private","resultType":"complete","ttlMs":0,"_meta":%s,' % orjson.dumps(
            {SERVER_INFO_KEY: card.info()})

    @property
    def accepted(self) -> bool:
        """The SDK's gate: requests other than ping are served once initialize (or `initialized`) was seen."""
        return self.initialize_params is not None or self.initialized

    def prime(self, request_id: str) -> list[dict[str, Any]] | None:
        """What the SDK's server must first be sent (answered under `request_id`, which the client never
        sees) to serve this session; None when it cannot be brought to it and must serve the rest of the
        connection as it would have from the start."""
        if self.era == "modern":  # stateless: any enveloped request opens the same era
            meta = {MODERN_ENVELOPE_KEY: MODERN_VERSIONS[-1], CLIENT_CAPABILITIES_KEY: {}}
            return [{"jsonrpc": "2.0", "id": request_id, "method": "ping", "params": {"_meta": meta}}]
        messages: list[dict[str, Any]] = []
        if self.initialize_params is not None:
            messages.append({"jsonrpc": "2.0", "id": request_id, "method": "initialize",
                             "params": self.initialize_params})
        if self.initialized:
            messages.append({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return messages or None

    def route(self, message: Any) -> Outcome:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return DELEGATE
        method = message.get("method")
        params = message.get("params", {})
        if not isinstance(method, str) or not isinstance(params, dict):
            return DELEGATE
        if "id" not in message:
            return self._notification(method, params)
        request_id = _request_id(message["id"])
        if request_id is None:
            return DELEGATE
        meta = params.get("_meta")
        envelope = meta if isinstance(meta, dict) and MODERN_ENVELOPE_KEY in meta else None
        if self.era is None:  # the first request decides, as in the SDK
            self.era = "modern" if envelope is not None and method != "initialize" else "handshake"
        if self.era == "modern":
            return self._modern(request_id, method, params) if envelope and _simple_envelope(envelope) else DELEGATE
        return DELEGATE if envelope is not None else self._handshake(request_id, method, params)

    def _handshake(self, request_id: int | str, method: str, params: Mapping[str, Any]) -> Outcome:
        if method == "initialize":
            return self._initialize(request_id, params)
        if method == "ping" and _only(params, _LIST_KEYS):
            return _response(request_id, {})
        if method not in ("tools/list", "tools/call"):
            return DELEGATE
        if not self.accepted:
            return _error(request_id, INVALID_PARAMS, "Invalid request parameters", "")
        if self.protocol_version is None:  # initialized without initialize: the SDK's default version applies
            return DELEGATE
        if method == "tools/list":
            return self._list(request_id, b"") if _only(params, _LIST_KEYS) else DELEGATE
        return self._tool_call(request_id, params, self.protocol_version)

    def _modern(self, request_id: int | str, method: str, params: Mapping[str, Any]) -> Outcome:
        if method == "tools/list" and _only(params, _LIST_KEYS):
            return self._list(request_id, self._modern_list)
        if method == "tools/call":
            return self._tool_call(request_id, params, MODERN_VERSIONS[-1])
        return DELEGATE

    def _tool_call(self, request_id: int | str, params: Mapping[str, Any], version: str) -> Outcome:
        arguments = params.get("arguments")
        arguments = {} if arguments is None else arguments
        name = params.get("name")
        if not (_only(params, _CALL_KEYS) and isinstance(name, str) and isinstance(arguments, dict)):
            return DELEGATE
        return Call(request_id, lambda: self._call(request_id, name, arguments, version))

    def _notification(self, method: str, params: Mapping[str, Any]) -> Outcome:
        if method == "notifications/initialized":
            self.initialized = True
        elif method == "notifications/cancelled":
            request_id = _request_id(params.get("requestId"))
            if request_id is not None:
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

    def _list(self, request_id: int | str, fields: bytes) -> bytes:
        """The tools/list answer: `fields` (`"name":value,` each), then the tools as `tools.json` has them."""
        head = orjson.dumps({"jsonrpc": "2.0", "id": request_id})
        return b'%s,"result":{%s"tools":%s}}\n' % (head[:-1], fields, self._tools_json)

    async def _call(self, request_id: int | str, name: str, arguments: Mapping[str, Any], version: str) -> bytes:
        try:
            if self._wire is not None:  # built as the protocol carries it (a test compares)
                result = await wire_call_result(self._wire, name, arguments)
            else:  # a model: shaped by the SDK for the version, as its server would
                from mcp_types.methods import serialize_server_result

                model = await call_result(self._provider, name, arguments)
                result = serialize_server_result("tools/call", version,
                                                 model.model_dump(by_alias=True, mode="json", exclude_none=True))
        except UnknownTool as error:
            return _error(request_id, INVALID_PARAMS, error.message)
        return _response(request_id, _stamped(result, self._card.info()) if version in MODERN_VERSIONS else result)
