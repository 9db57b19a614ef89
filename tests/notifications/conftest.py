"""A submitter, a beat that also sends notifications, and receivers on loopback.

Everything that is delivered goes to 127.0.0.1 only: a webhook receiver
(``http.server``) and, where a worker runs in another process, a small SMTP
server, both in this test process.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from imagetasks.dashboard.jobs import dispatch_notifications, dispatch_polls
from tests.support.beat import ticking


@pytest.fixture
def submitter(django_user_model):
    # No password: logins in these tests are forced, and hashing one costs time.
    return django_user_model.objects.create_user("sam", email="sam@example.test")


@pytest.fixture
def notifying_beat(workers):
    """Sends the poll and notification dispatchers every half second, as beat does."""
    with ticking(dispatch_polls.delay, dispatch_notifications.delay):
        yield


@dataclass
class Receiver:
    """A webhook receiver on loopback that answers with the statuses it is given, then 204."""

    answers: list[int] = field(default_factory=list)
    received: list[dict] = field(default_factory=list)
    url: str = ""

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.received]


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                status = state.answers.pop(0) if state.answers else 204
                state.received.append(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "status": status,
                    }
                )
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver", daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/imagetasks?token=t0k3n"
    yield state
    server.shutdown()
    server.server_close()
