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
