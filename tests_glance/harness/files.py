"""A small HTTP server on 127.0.0.1 that serves image files for Glance's ``import_from``.

It runs on a thread of the test process. Only files registered with ``serve_file`` or
``serve_bytes`` are served; any other path is a 404, which is how a test gets a URL
that passes Glance's import filter but names nothing.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit


class _Handler(BaseHTTPRequestHandler):
    server: _FileHTTPServer

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, *, send_body: bool) -> None:
        name = unquote(urlsplit(self.path).path.lstrip("/"))
        path = self.server.files.get(name)
        self.server.requests.append(name)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(path.stat().st_size))
        self.end_headers()
        if send_body:
            with path.open("rb") as body:
                shutil.copyfileobj(body, self.wfile)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the requests are kept in ``server.requests`` instead."""


class _FileHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, Path] = {}
        self.requests: list[str] = []


class FileServer:
    """Serves registered files at ``http://127.0.0.1:<port>/<name>`` until ``stop``."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self._server = _FileHTTPServer()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="glance-file-server", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def requests(self) -> list[str]:
        """The names asked for so far, in order (Glance fetches each import at least once)."""
        return list(self._server.requests)

    def url_for(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{quote(name)}"

    def serve_file(self, path: Path, name: str | None = None) -> str:
        """The URL of ``path``, served as it is on disk."""
        name = name or f"{uuid.uuid4().hex[:8]}-{path.name}"
        self._server.files[name] = Path(path)
        return self.url_for(name)

    def serve_bytes(self, data: bytes, name: str) -> str:
        """The URL of ``data``, written to a file in the server's folder first."""
        path = self.folder / f"{uuid.uuid4().hex[:8]}-{name}"
        path.write_bytes(data)
        return self.serve_file(path, name=path.name)

    def missing_url(self, name: str = "no-such-image.raw") -> str:
        """A URL on this server that answers 404."""
        self._server.files.pop(name, None)
        return self.url_for(name)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
