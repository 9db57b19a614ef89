"""Fixtures shared by the whole suite: people, a real Celery worker, a browser."""

from __future__ import annotations

import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from imagetasks.celery import app as celery_app


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user("olivia", password="s3cret-pass-olivia")


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def celery_worker_queue():
    """A queue of this test's own.

    A worker of `make run` on the same broker then cannot steal the test's jobs.
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    yield queue
    celery_app.conf.task_default_queue = previous


@pytest.fixture
def real_worker(transactional_db, celery_worker_queue):
    """A real Celery worker consuming from the configured broker (filesystem or Redis).

    It runs in a thread of the test process, so it shares the test database.
    """
    with start_worker(
        celery_app,
        pool="solo",
        concurrency=1,
        perform_ping_check=False,
        loglevel="WARNING",
        shutdown_timeout=10,
        queues=[celery_worker_queue],
    ) as worker:
        yield worker
