"""Set-up for the whole suite; shared fixtures live in ``tests/fixtures/``, loaded below."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from kombu import Connection

pytest_plugins = [
    "tests.fixtures.api",
    "tests.fixtures.clouds",
    "tests.fixtures.gunicorn",
    "tests.fixtures.parallel",
    "tests.fixtures.people",
    "tests.fixtures.workers",
]


def pytest_configure(config):
    """The test data folder gets what `make run` prepares: folders and a kept secret key."""
    call_command("prepare", verbosity=0)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: rendered rows, login failure counts."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def workers_stop_quickly():
    """Workers started in this process look whether to stop every 0.2 s, not every 2 s.

    Celery's worker loop reads the broker with a 2 s timeout before it checks that it
    should stop, so each test with a worker spent up to 4 s in teardown. Only the
    wait is shorter; a job still running is waited for as before.
    """
    original = Connection.drain_events

    def drain_events(self, **kwargs):
        if kwargs.get("timeout") is not None:
            kwargs["timeout"] = min(kwargs["timeout"], 0.2)
        return original(self, **kwargs)

    Connection.drain_events = drain_events
    yield
    Connection.drain_events = original


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Static files collected with hashed names, as `make run` and production have them.

    Pages name their CSS and JS through the manifest this writes, so no page renders
    without it.
    """
    call_command("collectstatic", "--no-input", verbosity=0)


@pytest.fixture(scope="session")
def live_server(collected_static):
    """pytest-django's live server, serving static files as production does.

    Its own handler looks static files up by their source names, which hashed names are
    not; without it, whitenoise (in the middleware) serves them, long cache and all.
    """
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("localhost", start=False)
    server.thread.static_handler = lambda application: application
    server.start()
    yield server
    server.stop()
