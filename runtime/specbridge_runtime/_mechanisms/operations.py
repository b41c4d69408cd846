"""What operators and load balancers ask an HTTP or SSE server, besides MCP: `GET /healthz` (the process
answers), `GET /readyz` (its stores are reachable and its connectors loaded; 503 with the problems
otherwise), both without a token, and `GET /metrics` (Prometheus text) behind the server's inbound auth.
Every response carries an `X-Request-Id` (the client's, else a new one), which JSON log lines repeat
(`SPECBRIDGE_LOG_FORMAT=json`).
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .metrics import Metrics

Readiness = Callable[[], Awaitable[list[str]]]
"""The reasons the server cannot take calls now (stores unreachable, connectors not loaded); [] when ready."""

request_id: ContextVar[str | None] = ContextVar("specbridge_request_id", default=None)
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # a client's id is echoed only when harmless


def operations_routes(ready: Readiness, metrics: Metrics | None,
                      protect: Callable[[ASGIApp], ASGIApp]) -> list[BaseRoute]:
    """The routes; `protect` wraps /metrics in the server's inbound auth."""

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "alive"})

    async def readyz(_request: Request) -> Response:
        problems = await ready()
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
    if metrics is not None:
        routes.append(Route("/metrics", protect(_Exposition(metrics)), methods=["GET"]))
    return routes


class _Exposition:
    """GET /metrics as an ASGI app: an instance, since Starlette would call a plain function (what `protect`
    returns without inbound auth) as a request handler."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await Response(self._metrics.text(), media_type=CONTENT_TYPE_LATEST)(scope, receive, send)


class RequestIdMiddleware:
    """Gives each HTTP request an id: the client's `X-Request-Id` when it is a short plain token, else a new
    one; set for the request's logs and returned in the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        current = given if _CLIENT_ID.match(given) else uuid.uuid4().hex
        token = request_id.set(current)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", current.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id (when serving one), error."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current is not None:
            line["request_id"] = current
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
