"""The listener on 127.0.0.1 that receives the authorization server's redirect after a sign-in: a
starlette app served by uvicorn (the HTTP stack the runtime serves MCP with), for one answer."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from ..._core.clock import Clock
from .errors import OAuthError

_PAGE = "<!doctype html><title>specbridge</title><p>{}</p>"


class LoopbackRedirect:
    """`uri` is where the authorization server sends the browser back; `wait` gives that request's query."""

    def __init__(self, clock: Clock, port: int = 0) -> None:
        self._clock = clock
        self._port = port
        self._answer: asyncio.Future[dict[str, str]] | None = None
        self._server: uvicorn.Server | None = None
        self._serving: asyncio.Future[None] | None = None
        self._socket: socket.socket | None = None
        self.uri = ""

    async def _callback(self, request: Request) -> HTMLResponse:
        if self._answer is None or self._answer.done():  # one answer per sign-in; a late one changes nothing
            return HTMLResponse(_PAGE.format("This sign-in is already over."), status_code=404)
        # The first value of each parameter, as a browser sends it once.
        self._answer.set_result({name: request.query_params[name] for name in request.query_params})
        return HTMLResponse(_PAGE.format("Signed in. You can close this window and return to the terminal."))

    async def __aenter__(self) -> LoopbackRedirect:
        self._answer = asyncio.get_running_loop().create_future()
        app = Starlette(routes=[Route("/callback", self._callback)])
        config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind(("127.0.0.1", self._port))
        except OSError as error:
            self._socket.close()
            raise OAuthError(f"cannot listen for the sign-in redirect on 127.0.0.1:{self._port}: {error.strerror}; "
                             "choose another --port") from None
        self.uri = f"http://127.0.0.1:{self._socket.getsockname()[1]}/callback"
        self._server = uvicorn.Server(config)
        self._serving = asyncio.ensure_future(self._server.serve(sockets=[self._socket]))
        while not self._server.started:  # uvicorn says when it listens only through this flag
            if self._serving.done():
                self._serving.result()
                raise OAuthError("the listener for the sign-in redirect did not start")
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._serving, 5)

    async def wait(self, timeout_s: float) -> dict[str, str]:
        """The redirect's query parameters, or an `OAuthError` after `timeout_s` on the clock."""
        assert self._answer is not None
        answer: asyncio.Future[Any] = self._answer
        timer: asyncio.Future[Any] = asyncio.ensure_future(self._clock.sleep(timeout_s))
        try:
            await asyncio.wait({answer, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
        if not self._answer.done():
            raise OAuthError(f"no sign-in answer within {int(timeout_s)} s; run login again")
        return self._answer.result()
