"""The runtime's error vocabulary: exception classes, their messages' shape, and what to check.

A `ToolError` is a call that failed in a way the model is told about: it becomes an MCP error result
(`isError=True`) whose text is the message and a hint in the words of the connector docs'
troubleshooting table. Anything else deriving from `SpecbridgeError` is a problem of configuration
that a CLI prints as one line. The call path, the limits (`CallGate`, `RetryPolicy`) and auth raise
these; nothing else in the runtime invents error texts for these situations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .failures import advice, classify_status

if TYPE_CHECKING:
    import mcp_types as types


class SpecbridgeError(Exception):
    """Base of every error the runtime raises on purpose. The message says what is wrong and what to do."""


class RuntimeVersionError(SpecbridgeError):
    """The installed specbridge-runtime cannot run a generated package (another major, or too old)."""


class ConfigurationError(SpecbridgeError):
    """The server cannot be set up as asked (no base URL, a public host without inbound auth, ...)."""


class StoreError(SpecbridgeError):
    """A shared store of the replicated mode (PostgreSQL, Redis) cannot be used; the message names it."""


class ToolError(SpecbridgeError):
    """A call failed; the caller (the model) gets `to_result()`. `status` names the class of failure in
    audit records; `hint` says what to check."""

    status: ClassVar[str] = "error"
    hint: ClassVar[str] = ""

    def __init__(self, message: str, *, hint: str | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_s = retry_after_s
        if hint is not None:
            self.hint = hint  # type: ignore[misc]  # an instance may be more precise than its class

    @property
    def text(self) -> str:
        return f"{self.message}\nHint: {self.hint}" if self.hint else self.message

    def to_result(self) -> types.CallToolResult:
        return error_result(self.text)

    def to_wire(self) -> dict[str, Any]:
        return error_wire(self.text)


def error_wire(text: str) -> dict[str, Any]:
    """An error result as the protocol carries it (a `CallToolResult` dumped by alias, without its unset fields)."""
    return {"content": [{"type": "text", "text": text}], "isError": True}


def error_result(text: str) -> types.CallToolResult:
    import mcp_types as types  # here: the protocol models are loaded by the first failed call, not at start

    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


class InvalidArguments(ToolError):
    status = "invalid_arguments"
    hint = "Check the arguments against the tool's input schema; no request was sent."


class OperationNotFound(ToolError):
    status = "operation_not_found"
    hint = ("Verify the operation name matches the definition (list the tools again), and that the right "
            "connector is attached.")


class NotAuthenticated(ToolError):
    status = "not_authenticated"
    hint = ("Check the API key/token format and that it has not expired; store credentials with the "
            "server's `creds set` command or re-authorize OAuth with `login`.")


class LimitExceeded(ToolError):
    """The call could not start within the queue wait (raised by a `CallGate`)."""

    status = "limit_exceeded"
    hint = "Reduce the call frequency, or retry later."


class QueueFull(LimitExceeded):
    status = "queue_full"
    hint = "Too many calls are in flight; wait for some to finish, then retry."


class RateLimited(LimitExceeded):
    status = "rate_limited"
    hint = "Reduce the call frequency; retry after the time given. Request higher limits from the service."


class StoreUnavailable(LimitExceeded):
    """A shared store of the replicated mode (Redis, PostgreSQL) cannot be reached; the message names it."""

    status = "store_unavailable"
    hint = ("The call was not sent. Check that the store named in the message is running and reachable; the "
            "server recovers by itself when it is back.")


class UpstreamError(ToolError):
    """The upstream API could not be used for this call."""

    status = "upstream_error"


class UpstreamTimeout(UpstreamError):
    status = "timeout"
    hint = "The operation takes too long. Try splitting it into smaller requests (filters, paging)."


class ConnectionFailed(UpstreamError):
    status = "connection_failed"
    hint = ("Verify the endpoint URL is correct (the base URL can be set with the environment variable "
            "named in the message) and ensure the service is online.")


class ResponseTooLarge(UpstreamError):
    status = "response_too_large"
    hint = "Narrow the request (filters, fields, smaller pages) so the answer fits the size limit."


class InvalidResponse(UpstreamError):
    status = "invalid_response"
    hint = "The service API may have changed: update the operation definitions and regenerate the package."


def http_hint(status: int, *, retry_after_s: float | None = None) -> str:
    """What to check after an HTTP error status, in the words of the connector docs."""
    hint = advice(classify_status(status))
    if retry_after_s is not None and status in (429, 503):
        hint += f" Retry after {retry_after_s:.0f} s."
    return hint
