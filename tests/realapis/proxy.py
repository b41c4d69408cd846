"""A small logging reverse proxy on 127.0.0.1: forwards every request to one upstream as it came (Host
kept, so the upstream's links name the proxy) and records what was actually sent, so tests assert on the
wire rather than on what the generated server meant to send."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx2

# Headers of one hop, not of the message: never forwarded.
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
                  "content-length", "content-encoding"})


@dataclass(frozen=True)
class Sent:
    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    status: int

    def param(self, name: str) -> str | None:
        return next((value for key, value in self.query if key == name), None)


class LoggingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.sent: list[Sent] = []
        self._lock = threading.Lock()
        # No cookie jar: a session cookie the upstream sets must not authenticate later requests for the client.
        self._client = httpx2.Client(timeout=60, follow_redirects=False,
                                     cookies=CookieJar(DefaultCookiePolicy(allowed_domains=[])))
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = [(name, value) for name, value in self.headers.items() if name.lower() not in _HOP]
                answer = proxy._client.request(self.command, proxy.upstream + self.path, headers=headers, content=body)
                url = urlsplit(self.path)
                with proxy._lock:
                    proxy.sent.append(Sent(
                        self.command, url.path, tuple(parse_qsl(url.query, keep_blank_values=True)),
                        {name.lower(): value for name, value in self.headers.items()}, body, answer.status_code))
                content = answer.content
                self.send_response(answer.status_code)
                for name, value in answer.headers.multi_items():
                    if name.lower() not in _HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def since(self, mark: int) -> list[Sent]:
        with self._lock:
            return list(self.sent[mark:])

    def mark(self) -> int:
        with self._lock:
            return len(self.sent)

    @contextmanager
    def running(self) -> Iterator[LoggingProxy]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()
            self._client.close()
            thread.join(timeout=10)
