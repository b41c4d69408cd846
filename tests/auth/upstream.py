"""The project's own upstream API for the auth tests: one endpoint per auth method, each checking the
credentials it expects, and OAuth endpoints that validate opaque tokens by introspection at the real
authorization server (oidc-provider)."""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field

import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support import free_port


@dataclass
class Expected:
    """The credentials each endpoint accepts (test values, never real secrets)."""

    bearer: str = "bearer-token-0123456789abcdef"
    bearer_without_permission: str = "bearer-token-no-permission-0123456789"
    api_key: str = "api-key-0123456789abcdef"
    username: str = "alice"
    password: str = "pa55-w0rd-0123456789"
    tenant: str = "tenant-42"
    signature: str = "signature-0123456789abcdef"
    introspection_url: str = ""
    introspection_client: tuple[str, str] = ("", "")
    oauth_tokens_seen: list[str] = field(default_factory=list)
    requests_seen: list[dict[str, str]] = field(default_factory=list)


def _ok(method: str) -> JSONResponse:
    return JSONResponse({"authenticated": True, "method": method})


def _refused(status: int = 401) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'} if status == 401 else {}
    error = "unauthorized" if status == 401 else "forbidden"
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def build_app(expected: Expected) -> Starlette:
    def seen(request: Request) -> None:
        expected.requests_seen.append({key.lower(): value for key, value in request.headers.items()})

    async def bearer(request: Request) -> JSONResponse:
        seen(request)
        if request.headers.get("authorization") == f"Bearer {expected.bearer_without_permission}":
            return _refused(403)
        return _ok("bearer") if request.headers.get("authorization") == f"Bearer {expected.bearer}" else _refused()

    async def api_key_header(request: Request) -> JSONResponse:
        seen(request)
        return _ok("api_key header") if request.headers.get("x-api-key") == expected.api_key else _refused()

    async def api_key_authorization(request: Request) -> JSONResponse:
        seen(request)
        ok = request.headers.get("authorization") == f"ApiKey {expected.api_key}"
        return _ok("api_key authorization") if ok else _refused()

    async def api_key_query(request: Request) -> JSONResponse:
        seen(request)
        return _ok("api_key query") if request.query_params.get("api_key") == expected.api_key else _refused()

    async def api_key_cookie(request: Request) -> JSONResponse:
        seen(request)
        return _ok("api_key cookie") if request.cookies.get("session_key") == expected.api_key else _refused()

    async def basic(request: Request) -> JSONResponse:
        seen(request)
        pair = base64.b64encode(f"{expected.username}:{expected.password}".encode()).decode()
        return _ok("basic") if request.headers.get("authorization") == f"Basic {pair}" else _refused()

    async def custom(request: Request) -> JSONResponse:
        seen(request)
        ok = (
            request.headers.get("x-tenant") == expected.tenant
            and request.headers.get("x-signature") == expected.signature
        )
        return _ok("headers") if ok else _refused()

    async def oauth(request: Request) -> JSONResponse:
        seen(request)
        scope_needed = request.path_params["scope"]
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return _refused()
        token = header.removeprefix("Bearer ")
        expected.oauth_tokens_seen.append(token)
        async with httpx2.AsyncClient(timeout=10) as http:
            answer = (
                await http.post(expected.introspection_url, data={"token": token}, auth=expected.introspection_client)
            ).json()
        if not answer.get("active"):
            return _refused()
        if scope_needed not in str(answer.get("scope", "")).split():
            return _refused(403)
        return JSONResponse({"authenticated": True, "client_id": answer.get("client_id"), "sub": answer.get("sub")})

    async def echo(request: Request) -> JSONResponse:
        seen(request)
        return JSONResponse({"headers": {key.lower(): value for key, value in request.headers.items()},
                             "query": dict(request.query_params)})

    return Starlette(
        routes=[
            Route("/bearer", bearer),
            Route("/api-key/header", api_key_header),
            Route("/api-key/authorization", api_key_authorization),
            Route("/api-key/query", api_key_query),
            Route("/api-key/cookie", api_key_cookie),
            Route("/basic", basic),
            Route("/custom", custom),
            Route("/oauth/{scope}", oauth),
            Route("/echo", echo),
        ]
    )


class ThreadedServer:
    """A uvicorn server for an ASGI app on 127.0.0.1, in a thread of the test process."""

    def __init__(self, app: Starlette) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        for _ in range(300):
            if self._server.started:
                return self
            self._thread.join(0.02)
        raise TimeoutError("the upstream test server did not start")

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)
