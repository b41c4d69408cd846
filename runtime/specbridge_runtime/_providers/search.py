"""`SearchProvider`: a dynamic package's API as three tools (`--tools dynamic`), around its `RestProvider`.

    <name>_search_operations(query, limit=10)  ranked operations: {"operations": [{name, method, path, summary}]}
    <name>_describe_operation(name)            an operation's description and input schema
    <name>_call_operation(name, arguments)     the call, through the RestProvider

A call goes through `RestProvider.call_tool` under the operation's own name, so it gets everything a direct
tool gets: validation by the operation's input model (nothing is sent when the arguments are wrong), the
connector's and the operation's limits, auth, retries, and an audit record naming the operation. The
operations the package also serves as direct tools (`--include`) are listed and called as usual; any other
operation is reached only through `<name>_call_operation`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import mcp_types as types
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._core.errors import InvalidArguments, OperationNotFound, ToolError
from .._mechanisms.search import SearchIndex
from .package import describe_problems
from .rest import RestProvider

MAX_LIMIT = 50
_M = TypeVar("_M", bound=BaseModel)
_SHOWN_NAME_CHARS = 80


class _Search(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=500)
    limit: int = Field(default=10, ge=1, le=MAX_LIMIT)


class _Describe(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class _Call(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    arguments: dict[str, Any] = Field(default_factory=dict)


_OPERATION_NAME = {"type": "string", "description": "An operation's name, as search_operations returns it"}
_FOUND_SCHEMA = {
    "type": "object",
    "properties": {"operations": {"type": "array", "items": {"type": "object", "properties": {
        "name": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
        "summary": {"type": "string"}}, "required": ["name", "method", "path", "summary"]}}},
    "required": ["operations"],
}
_DESCRIBED_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "method": {"type": "string"}, "path": {"type": "string"},
                   "summary": {"type": "string"}, "description": {"type": "string"}, "inputSchema": {"type": "object"}},
    "required": ["name", "method", "path", "inputSchema"],
}


class SearchProvider:
    """Serves `rest`'s package (a dynamic one) as search, describe and call tools plus its direct tools."""

    def __init__(self, rest: RestProvider) -> None:
        self.rest = rest
        self.package = rest.package
        name = rest.name
        self.search_tool = f"{name}_search_operations"
        self.describe_tool = f"{name}_describe_operation"
        self.call_tool_name = f"{name}_call_operation"
        self._index: SearchIndex | None = None
        self._entries: dict[str, Mapping[str, Any]] | None = None
        self._direct = frozenset(entry["name"] for entry in self.package.definitions())

    @property
    def name(self) -> str:
        return self.rest.name

    async def start(self) -> None:
        await self.rest.start()

    async def stop(self) -> None:
        await self.rest.stop()

    def on_tools_changed(self, callback: Callable[[], Awaitable[None]]) -> None:
        """The tools are fixed: the callback is never called."""

    def tool_entries(self) -> Sequence[Mapping[str, Any]]:
        return [*self._meta_entries(), *self.package.definitions()]

    def tools_json(self) -> bytes:
        return json.dumps(self.tool_entries(), ensure_ascii=False, separators=(",", ":")).encode()

    async def list_tools(self) -> Sequence[types.Tool]:
        return [*(types.Tool.model_validate(entry) for entry in self._meta_entries()), *self.package.tools()]

    async def call_tool(self, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
        try:
            if name == self.search_tool:
                return self._search(_parse(_Search, name, arguments))
            if name == self.describe_tool:
                return self._describe(_parse(_Describe, name, arguments).name)
            if name == self.call_tool_name:
                call = _parse(_Call, name, arguments)
                self._entry(call.name)  # an unknown name is answered here, before any limit or audit
                return await self.rest.call_tool(call.name, call.arguments)
        except ToolError as error:
            return error.to_result()
        if name in self._direct:
            return await self.rest.call_tool(name, arguments)
        return OperationNotFound(f"{_shown(name)} is not a tool of {self.name}; operations not listed as tools are "
                                 f"called through {self.call_tool_name}").to_result()

    # --- the three tools ---------------------------------------------------------------------------------

    def _search(self, search: _Search) -> types.CallToolResult:
        entries = self._operations()
        found = [
            {"name": hit.name, "method": entry["method"], "path": entry["path"], "summary": entry.get("summary", "")}
            for hit in self._search_index().search(search.query, search.limit)
            for entry in [entries[hit.name]]
        ]
        lines = [f"{item['name']}  {item['method']} {item['path']}  {item['summary']}".rstrip() for item in found]
        lines.append(f"Describe one with {self.describe_tool}, call it with {self.call_tool_name}." if found else
                     "No operation matches; try other words (what you want to do, or the resource's name).")
        return types.CallToolResult(content=[types.TextContent(type="text", text="\n".join(lines))],
                                    structured_content={"operations": found})

    def _describe(self, name: str) -> types.CallToolResult:
        entry = self._entry(name)
        described = {"name": entry["name"], "method": entry["method"], "path": entry["path"],
                     "summary": entry.get("summary", ""), "description": entry.get("description", ""),
                     "inputSchema": entry["inputSchema"]}
        about = described["description"] or described["summary"]
        text = (f"{entry['name']}: {entry['method']} {entry['path']}\n{about}\nCall it with {self.call_tool_name}"
                "(name, arguments); arguments follow this input schema.")
        return types.CallToolResult(content=[types.TextContent(type="text", text=text.strip())],
                                    structured_content=described)

    # --- data ----------------------------------------------------------------------------------------------

    def _operations(self) -> dict[str, Mapping[str, Any]]:
        if self._entries is None:
            self._entries = {entry["name"]: entry for entry in self.package.catalog()["operations"]}
        return self._entries

    def _search_index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.package.catalog()["index"])
        return self._index

    def _entry(self, name: str) -> Mapping[str, Any]:
        entry = self._operations().get(name)
        if entry is None:
            raise OperationNotFound(f"{self.name} has no operation {_shown(name)}; find one with {self.search_tool}")
        return entry

    def _meta_entries(self) -> list[dict[str, Any]]:
        title = self.package.connector.title or self.name
        count = len(self.package.operations)
        read_only = {"readOnlyHint": True, "destructiveHint": False, "idempotentHint": True, "openWorldHint": False}
        return [
            {"name": self.search_tool, "title": f"Search the operations of {title}",
             "description": f"Find which of the {count} operations of {title} does what you want: describe the task "
                            f"in words (\"refund a charge\", \"list open pull requests\"). Returns the best matches, "
                            f"best first; read one with {self.describe_tool} and run it with {self.call_tool_name}.",
             "inputSchema": {"type": "object", "properties": {
                 "query": {"type": "string", "minLength": 1, "maxLength": 500,
                           "description": "What you want to do, in words"},
                 "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 10,
                           "description": "How many operations to return"}},
                 "required": ["query"], "additionalProperties": False},
             "outputSchema": _FOUND_SCHEMA, "annotations": read_only},
            {"name": self.describe_tool, "title": f"Describe an operation of {title}",
             "description": f"An operation's description and the input schema its arguments follow in "
                            f"{self.call_tool_name}.",
             "inputSchema": {"type": "object", "properties": {"name": _OPERATION_NAME}, "required": ["name"],
                             "additionalProperties": False},
             "outputSchema": _DESCRIBED_SCHEMA, "annotations": read_only},
            {"name": self.call_tool_name, "title": f"Call an operation of {title}",
             "description": f"Run an operation of {title} by name with its arguments (see {self.describe_tool}); "
                            "they are validated before anything is sent.",
             "inputSchema": {"type": "object", "properties": {
                 "name": _OPERATION_NAME,
                 "arguments": {"type": "object", "default": {},
                               "description": "The operation's arguments, as its input schema says"}},
                 "required": ["name"], "additionalProperties": False},
             "annotations": {"readOnlyHint": False, "destructiveHint": True, "idempotentHint": False,
                             "openWorldHint": True}},
        ]


def _parse(model: type[_M], tool: str, arguments: Mapping[str, Any]) -> _M:
    try:
        return model.model_validate(arguments)
    except ValidationError as error:
        raise InvalidArguments(f"invalid arguments for {tool}: {describe_problems(error)}") from None


def _shown(name: str) -> str:
    return repr(name if len(name) <= _SHOWN_NAME_CHARS else name[:_SHOWN_NAME_CHARS] + "…")
