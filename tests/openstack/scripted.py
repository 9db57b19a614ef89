"""A scripted cloud: a real HTTP server on 127.0.0.1 that answers what each test tells it to
and records every request it got (method, raw path, query, headers, decoded body).

It is real HTTP over real sockets, so the client's timeouts, retries, chunked uploads and
URL quoting are exercised exactly as against a cloud, without mocking ``requests``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0

    def payload(self) -> bytes:
        if self.json is not None:
            return json.dumps(self.json).encode()
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass
class Received:
    method: str
    path: str  # as sent, still percent-encoded
    query: dict[str, list[str]]
    headers: CaseInsensitiveDict[str]
    body: bytes
    chunked: bool

    def json(self) -> Any:
        return json.loads(self.body)

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None


Handler = Callable[[Received], Reply]


class ScriptedCloud:
    """Routes are exact (method, raw path) pairs; a route is a handler or a list of replies
    given in turn, the last one repeating."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self._routes: dict[tuple[str, str], Handler] = {}
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.handle_error = lambda request, address: None  # clients that hung up
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ScriptedCloud:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def on(self, method: str, path: str, *replies: Reply, handler: Handler | None = None) -> None:
        if handler is None:
            queue = list(replies)

            def handler(request: Received) -> Reply:
                return queue.pop(0) if len(queue) > 1 else queue[0]

        self._routes[(method, path)] = handler

    def requests(self, method: str | None = None, path: str | None = None) -> list[Received]:
        return [
            r
            for r in self.received
            if (method is None or r.method == method) and (path is None or r.path == path)
        ]

    def _answer(self, request: Received) -> Reply:
        self.received.append(request)
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            return Reply(404, body=f"no route for {request.method} {request.path}")
        reply = handler(request)
        if reply.delay:
            self._stopping.wait(reply.delay)
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests read ``received`` instead."""

            def _read_body(self) -> tuple[bytes, bool]:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks), True
                return self.rfile.read(int(self.headers.get("Content-Length") or 0)), False

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                body, chunked = self._read_body()
                request = Received(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers=CaseInsensitiveDict(self.headers.items()),
                    body=body,
                    chunked=chunked,
                )
                reply = cloud._answer(request)
                payload = reply.payload()
                self.send_response(reply.status)
                headers = {"Content-Length": str(len(payload))}
                if reply.json is not None:
                    headers["Content-Type"] = "application/json"
                headers.update(reply.headers)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _serve

        return Handler
