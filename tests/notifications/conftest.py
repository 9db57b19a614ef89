# Fixtures imported from shared modules are used as parameters of the same name.
# ruff: noqa: F811
"""People, tasks, a beat that also sends notifications, and receivers on loopback.

Everything that is delivered goes to 127.0.0.1 only: a webhook receiver
(``http.server``) and, where a worker runs in another process, a small SMTP
server, both in this test process.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.jobs import dispatch_notifications, dispatch_polls
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.notifications import outbox
from imagetasks.openstack.types import Task as RemoteTask
from tests.support.beat import ticking
from tests.tracking.conftest import (  # noqa: F401  (fixtures shared with the tracker's tests)
    account,
    local_cloud,
    register_cloud,
    store_dir,
    workers,
)


@pytest.fixture
def submitter(django_user_model):
    # No password: logins in these tests are forced, and hashing one costs time.
    return django_user_model.objects.create_user("sam", email="sam@example.test")


def remote(task: ImageTask, status: str, *, message: str = "", result=None, second: int = 5):
    """What a cloud answers for ``task`` in ``status`` (a full view)."""
    now = timezone.now().replace(microsecond=0)
    body = {
        "id": task.remote_id,
        "type": task.type,
        "status": status,
        "owner": "acme",
        "input": task.input,
        "result": result,
        "message": message,
        "created_at": now.isoformat(),
        "updated_at": now.replace(second=second % 60).isoformat(),
        "expires_at": (now + timedelta(hours=48)).isoformat()
        if status in ("success", "failure")
        else None,
        "self": f"/v2/tasks/{task.remote_id}",
        "schema": "/v2/schemas/task",
    }
    return RemoteTask.from_json(body)


def send_due() -> int:
    """What beat and a worker do, in this process: claim what is due and attempt each."""
    sent = 0
    for notification_id, claim in outbox.claim_due(timezone.now()):
        sent += outbox.deliver(notification_id, claim)
    return sent


def finished(task: ImageTask):
    task.refresh_from_db()
    return task if task.status in statuses.TERMINAL else None


@pytest.fixture
def beat(workers):
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


def wait_for(predicate, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"
