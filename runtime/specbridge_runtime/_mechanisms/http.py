"""The HTTP client a REST provider sends its calls with: an `Upstream`, whose one `send` answers an
`httpx2.Request` with its `httpx2.Response` and body, the body read within the size limit.

With `SPECBRIDGE_FAST_IO` on (the default) and no proxy named by the environment, it is `Http11Pool`
(`http11.py`): HTTP/1.1 on asyncio protocols, parsed by httptools. Otherwise (`SPECBRIDGE_FAST_IO=0`, a
proxy, or a transport given by a test such as `specbridge_runtime.testing.MockUpstream`) it is an
`httpx2.AsyncClient`. Both keep connections alive within httpx2's default limits, use httpx2's default TLS
settings, follow no redirect, keep no cookie, and raise httpx2's errors; every test of the client runs on
both.
"""

from __future__ import annotations

import urllib.request
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Protocol

import httpx2

from .http11 import Http11Pool, read_within

# httpx2's default limits (`httpx2.AsyncClient(limits=...)`): at most 100 connections, 20 kept idle for 5 s.
DEFAULT_LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=5.0)


class Upstream(Protocol):
    async def send(self, request: httpx2.Request, *, max_body: int) -> tuple[httpx2.Response, bytes]:
        """The response and its (decoded) body; raises httpx2's transport errors, or `BodyTooLarge` when the
        body is (or says it is) over `max_body` bytes."""
        ...

    async def aclose(self) -> None: ...


class HttpxUpstream:
    """An `Upstream` on an `httpx2.AsyncClient`."""

    def __init__(self, client: httpx2.AsyncClient) -> None:
        self.client = client

    async def send(self, request: httpx2.Request, *, max_body: int) -> tuple[httpx2.Response, bytes]:
        response = await self.client.send(request, stream=True)
        try:
            return response, await read_within(response, max_body)
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()


def upstream_client(*, timeout_s: float, transport: httpx2.AsyncBaseTransport | None = None,
                    limits: httpx2.Limits = DEFAULT_LIMITS, fast: bool = True) -> Upstream:
    """The pooled client of one provider; `transport` replaces the network (tests: a mock upstream);
    `fast=False` keeps httpx2 (`SPECBRIDGE_FAST_IO=0`)."""
    if transport is None and fast and not _proxied():
        return Http11Pool(timeout_s=timeout_s, limits=limits)
    # Requests are built per call (no client cookies are attached); refusing all cookies also keeps the
    # client's jar from collecting every Set-Cookie of a long-running server.
    no_cookies = CookieJar(DefaultCookiePolicy(allowed_domains=[]))
    return HttpxUpstream(httpx2.AsyncClient(transport=transport, limits=limits, timeout=timeout_s,
                                            follow_redirects=False, cookies=no_cookies))


def _proxied() -> bool:
    """Whether the environment names a proxy: httpx2 then routes through it (with its own transports)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))
