"""One tools/call of a provider as every server path answers it: the provider's result, a tool error as an
error result, a provider bug as an error result that names no internals. Only an unknown tool is raised
(`UnknownTool`): the MCP specification lists it as the protocol error -32602, not as a result.

`call_result` gives the protocol's model (the SDK's server); `wire_call_result` the dict the protocol
carries (the stdio lane), from a provider's own `call_wire`, without the models."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from .._core.errors import OperationNotFound, ToolError, error_result, error_wire

if TYPE_CHECKING:
    import mcp_types as types

    from .._core.seams import ToolProvider

logger = logging.getLogger(__name__)
_R = TypeVar("_R")


class UnknownTool(Exception):
    """The provider has no tool of that name; `message` is the protocol error's text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@runtime_checkable
class WireCalls(Protocol):
    """A provider that answers a call as the protocol carries it (a REST package)."""

    @property
    def name(self) -> str: ...

    async def call_wire(self, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]: ...


async def call_result(provider: ToolProvider, name: str, arguments: Mapping[str, Any]) -> types.CallToolResult:
    return await _answered(provider.name, name, provider.call_tool(name, arguments), ToolError.to_result,
                           error_result)


async def wire_call_result(provider: WireCalls, name: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
    return await _answered(provider.name, name, provider.call_wire(name, arguments), ToolError.to_wire, error_wire)


async def _answered(server: str, name: str, call: Awaitable[_R], tool_error: Callable[[ToolError], _R],
                    bug: Callable[[str], _R]) -> _R:
    try:
        return await call
    except OperationNotFound as error:
        raise UnknownTool(f"unknown tool: {error.message}") from None
    except ToolError as error:
        return tool_error(error)
    except Exception:  # a provider bug must not take the server down
        logger.exception("%s: calling %s failed unexpectedly", server, name)
        return bug(f"internal error in the {server} server while calling {name} (see its log)")
