"""A small SMTP server on loopback for tests whose worker runs in another process.

Such a worker cannot append to the test's in-memory outbox, so it talks SMTP
to this server, exactly as it would to a real relay. It can also hold every
new connection without a word (``answering.clear()``), as a hung relay does.
"""

from __future__ import annotations

import email
import socketserver
import threading
from email.message import Message


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        mail: MailServer = self.server.mail
        with mail.lock:
            mail.connections += 1
        if not mail.answering.wait(timeout=120):
            return
        try:
            self._session(mail)
        except OSError:
            return  # the client went away (a killed worker): nothing was sent

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def _session(self, mail: MailServer) -> None:
        self._say("220 localhost test SMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            verb = line[:4].decode(errors="replace").upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 localhost")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                data = self._data()
                if data is None:
                    return
                with mail.lock:
                    mail.messages.append(email.message_from_bytes(data))
                self._say("250 OK queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Not implemented")

    def _data(self) -> bytes | None:
        lines = []
        while True:
            line = self.rfile.readline()
            if not line:
                return None
            if line in (b".\r\n", b".\n"):
                return b"".join(lines)
            lines.append(line[1:] if line.startswith(b"..") else line)


class MailServer:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[Message] = []
        self.connections = 0
        self.answering = threading.Event()
        self.answering.set()
        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.mail = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="test-smtp", daemon=True
        )

    def __enter__(self) -> MailServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.answering.set()
        self._server.shutdown()
        self._server.server_close()
