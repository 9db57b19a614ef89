"""Where tests send jobs, and real worker processes for tests that must kill one (SIGKILL)
and start another."""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings as django_settings

from imagetasks.celery import app as celery_app


def route_jobs(routes: dict) -> None:
    """Change where jobs are sent. The settings' namespaced key wins over ``task_routes``
    and Celery caches its router, so both are replaced."""
    celery_app.conf.CELERY_TASK_ROUTES = routes
    celery_app.amqp.flush_routes()
    celery_app.amqp.router = celery_app.amqp.Router()


@contextlib.contextmanager
def jobs_routed(routes: dict) -> Iterator[None]:
    """Jobs go where ``routes`` say inside the block, and where they went before after it."""
    previous = celery_app.conf.task_routes
    route_jobs(routes)
    try:
        yield
    finally:
        route_jobs(previous)


@contextlib.contextmanager
def worker_thread(
    queues: list[str], *, pool: str = "solo", concurrency: int = 1, shutdown_timeout: float = 30
) -> Iterator[object]:
    """A real Celery worker in a thread of this process, consuming only ``queues``.

    It shares the test's database; it logs warnings only and skips the ping check,
    which would wait for a reply through the broker. A worker keeps its database
    connections from job to job (CONN_MAX_AGE), in its threads' own storage. Stopped this
    way, a worker leaves the threads of a ``threads`` pool waiting for work, so they are
    ended here, and their connections then closed by collecting them: PostgreSQL's test
    database cannot be dropped at the end of the run while a connection to it is open.
    """
    worker = None
    try:
        with start_worker(
            celery_app,
            pool=pool,
            concurrency=concurrency,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=shutdown_timeout,
            queues=queues,
        ) as worker:
            yield worker
    finally:
        executor = getattr(getattr(worker, "pool", None), "executor", None)
        if executor is not None:
            executor.shutdown(wait=True)
        gc.collect()


def database_url(database: dict) -> str:
    """The DATABASE_URL of the database this test runs on, for a process of its own."""
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = quote(database["HOST"] or "localhost", safe="")  # a socket directory is a path
    if database["PORT"]:
        host += f":{database['PORT']}"
    options = f"?{urlencode(database['OPTIONS'])}" if database.get("OPTIONS") else ""
    return f"postgres://{credentials}@{host}/{quote(database['NAME'])}{options}"


def environment(**extra: str) -> dict[str, str]:
    """The environment of a process of this project on the test's database and broker."""
    return (
        os.environ
        | {
            "DJANGO_SETTINGS_MODULE": "imagetasks.settings",
            "DATABASE_URL": database_url(django_settings.DATABASES["default"]),
            "IMAGETASKS_VAR_DIR": str(django_settings.VAR_DIR),
            "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
            "LOCALCLOUD_STORE_DIR": str(django_settings.LOCALCLOUD_STORE_DIR),
        }
        | extra
    )


def manage(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a process of its own, as a person at a shell runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=django_settings.BASE_DIR,
        env=environment(**extra_env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class WorkerProcess:
    """A ``celery worker`` subprocess on the test's database and broker, logging to a file.

    It consumes only the given queues, so jobs of other tests cannot reach it.
    """

    def __init__(self, queues: str | list[str], log: Path, **extra_env: str):
        queues = [queues] if isinstance(queues, str) else queues
        env = environment(**extra_env)
        self.log = log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "imagetasks",
                    "worker",
                    "--queues",
                    ",".join(queues),
                    "--pool",
                    "solo",
                    "--hostname",
                    f"{log.stem}-{uuid.uuid4().hex[:8]}@%h",
                    "--without-mingle",
                    "--without-gossip",
                    "--without-heartbeat",
                    "--loglevel",
                    "INFO",
                ],
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def wait_until(predicate, timeout: float, what: str, workers=()) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {w.log.name}\n{w.output()}" for w in workers)
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.1)
