"""Fixtures for the built-in cloud: projects with users, tokens, a live HTTP server, a worker.

Everything is real: the API is served by a live server over HTTP on
127.0.0.1, and import/export jobs run in a real Celery worker thread.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import requests
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from imagetasks.celery import app as celery_app
from imagetasks.localcloud.models import CloudUser, Project, Token


@dataclass
class Account:
    """A project of the built-in cloud with one user, and the clear secrets the test knows."""

    project: Project
    user: CloudUser
    password: str
    api_key: str

    def token(self, ttl: timedelta = timedelta(hours=1)) -> str:
        value, _ = Token.objects.issue(self.user, timezone.now() + ttl)
        return value


def make_account(name: str) -> Account:
    project = Project.objects.create(name=name)
    user = CloudUser(project=project, name=f"{name}-user")
    password, api_key = f"pw-{name}-{uuid.uuid4().hex[:8]}", f"key-{uuid.uuid4().hex}"
    user.set_password(password)
    user.set_api_key(api_key)
    user.save()
    return Account(project=project, user=user, password=password, api_key=api_key)


@pytest.fixture
def store_dir(settings, tmp_path):
    """Each test gets an empty blob store of its own."""
    settings.LOCALCLOUD_STORE_DIR = tmp_path / "localcloud"
    return settings.LOCALCLOUD_STORE_DIR


@pytest.fixture
def account(db, store_dir) -> Account:
    return make_account("acme")


@pytest.fixture
def other_account(db, store_dir) -> Account:
    return make_account("globex")


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
    previous = celery_app.conf.task_routes
    route_jobs({"imagetasks.localcloud.*": {"queue": queue}})
    try:
        with start_worker(
            celery_app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
            queues=[queue],
        ) as worker:
            yield worker
    finally:
        route_jobs(previous)


def route_jobs(routes: dict) -> None:
    """Change where jobs are sent. The settings' namespaced key wins over ``task_routes``
    and Celery caches its router, so both are replaced."""
    celery_app.conf.CELERY_TASK_ROUTES = routes
    celery_app.amqp.flush_routes()
    celery_app.amqp.router = celery_app.amqp.Router()


# --- Images v2 tasks: objects to import from, task helpers, a queue nobody consumes ---


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
def parked_jobs(transactional_db):
    """Jobs go to a queue of this test's own that no worker consumes, emptied afterwards.

    For tests of the API alone: tasks stay ``pending`` and no job leaks to a
    worker of `make run` on the same broker.
    """
    queue = f"localcloud-parked-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_routes
    route_jobs({"imagetasks.localcloud.*": {"queue": queue}})
    try:
        yield queue
    finally:
        route_jobs(previous)
        with celery_app.connection_for_write() as connection:
            from kombu import Queue

            Queue(queue, channel=connection.default_channel).purge()


@pytest.fixture
def wait_for_task():
    """``wait(session, task_id)``: poll GET /v2/tasks/<id> until the task ends; its last body."""
    import time

    def wait(session, task_id: str, *, timeout: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            body = session.get(f"image/v2/tasks/{task_id}").json()
            if body.get("status") in ("success", "failure") or time.monotonic() > deadline:
                return body
            time.sleep(0.05)

    return wait


@pytest.fixture
def fast_password_hashing(settings):
    """Accounts are made in almost every test; PBKDF2 would cost most of their time.

    Use with ``pytest.mark.usefixtures`` so it applies before ``account`` is made.
    """
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def _shared_localcloud_worker_queue(django_db_setup, django_db_blocker):
    """One real worker thread for the whole session: stopping one takes about 4 s,
    which would dominate tests that each run one import or export."""
    queue = f"localcloud-shared-{uuid.uuid4().hex[:12]}"
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=30,
        queues=[queue],
    ):
        yield queue


@pytest.fixture
def task_worker(transactional_db, store_dir, _shared_localcloud_worker_queue):
    """Like ``localcloud_worker``, with a worker shared by the session: this test's jobs
    go to it, and the database and store it works on are this test's."""
    previous = celery_app.conf.task_routes
    route_jobs({"imagetasks.localcloud.*": {"queue": _shared_localcloud_worker_queue}})
    try:
        yield _shared_localcloud_worker_queue
    finally:
        route_jobs(previous)
