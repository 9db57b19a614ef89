"""Fixtures for the built-in cloud: projects with users, tokens, a live HTTP server, a worker.

Everything is real: the API is served by a live server over HTTP on
127.0.0.1, and import/export jobs run in a real Celery worker thread.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support.clouds import Account
from tests.support.workers import jobs_routed, worker_thread


class CloudSession(requests.Session):
    """requests against the live server, with paths relative to /localcloud/."""

    def __init__(self, base_url: str, token: str | None):
        super().__init__()
        self.base_url = base_url.rstrip("/") + "/localcloud/"
        if token:
            self.headers["X-Auth-Token"] = token
        self.headers["Accept"] = "application/json"

    def request(self, method, url, *args, **kwargs):
        if not url.startswith("http"):
            url = self.base_url + url.lstrip("/")
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def cloud(live_server, account) -> CloudSession:
    """An authenticated HTTP session of ``account`` against the live built-in cloud."""
    with CloudSession(live_server.url, account.token()) as session:
        yield session


@pytest.fixture
def base(account) -> str:
    """The account's object-store path, relative to /localcloud/."""
    return f"object/v1/AUTH_{account.project.id}"


@pytest.fixture
def other_cloud(live_server, other_account) -> CloudSession:
    with CloudSession(live_server.url, other_account.token()) as session:
        yield session


@pytest.fixture
def anonymous_cloud(live_server) -> CloudSession:
    with CloudSession(live_server.url, None) as session:
        yield session


@pytest.fixture
def localcloud_worker(transactional_db, store_dir):
    """A real Celery worker for the built-in cloud's jobs, on a queue of this test's own."""
    queue = f"localcloud-test-{uuid.uuid4().hex[:12]}"
    with (
        jobs_routed({"imagetasks.localcloud.*": {"queue": queue}}),
        worker_thread([queue]) as worker,
    ):
        yield worker


# --- Images v2 tasks: objects to import from, and waiting for a task to end ---


@pytest.fixture
def put_object(store_dir):
    """Store ``data`` as ``<container>/<object>`` of an account (the container is created)."""
    from imagetasks.localcloud.objectstore import service

    def put(account: Account, location: str, data: bytes):
        container_name, _, name = location.partition("/")
        container, _ = service.create_container(account.project, container_name)
        return service.put_object(container, name, [data]) if name else container

    return put


@pytest.fixture
def wait_for_task():
    """``wait(session, task_id)``: poll GET /v2/tasks/<id> until the task ends; its last body."""
    import time

    # Generous: the session's one worker thread may still be busy with an earlier test's
    # job on a loaded machine; the wait ends as soon as the task does.
    def wait(session, task_id: str, *, timeout: float = 180.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = session.get(f"image/v2/tasks/{task_id}").json()
            if body.get("status") in ("success", "failure"):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} still {body.get('status')} after {timeout} s")
            time.sleep(0.05)

    return wait


@pytest.fixture(scope="module")
def _shared_localcloud_worker_queue(django_db_setup, django_db_blocker):
    """One real worker thread for each test module: stopping one takes about 4 s, which
    would dominate tests that each run one import or export. Per module rather than per
    session, so a job an earlier module left running cannot hold up this module's."""
    queue = f"localcloud-shared-{uuid.uuid4().hex[:12]}"
    with worker_thread([queue]):
        yield queue


@pytest.fixture
def task_worker(transactional_db, store_dir, _shared_localcloud_worker_queue):
    """Like ``localcloud_worker``, with a worker shared by the session: this test's jobs
    go to it, and the database and store it works on are this test's."""
    with jobs_routed({"imagetasks.localcloud.*": {"queue": _shared_localcloud_worker_queue}}):
        yield _shared_localcloud_worker_queue
