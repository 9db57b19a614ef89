"""Set-up for the whole suite; shared fixtures live in ``tests/fixtures/``, loaded below."""

from __future__ import annotations

import gc

import pytest
from django.core.management import call_command
from kombu import Connection

pytest_plugins = [
    "tests.fixtures.api",
    "tests.fixtures.browser",
    "tests.fixtures.clouds",
    "tests.fixtures.gunicorn",
    "tests.fixtures.live_server",
    "tests.fixtures.oidc",
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
def static_files(collected_static):
    """Every test of the suite may render a page: the static files are collected first
    (``tests.fixtures.live_server``)."""


@pytest.fixture
def garbage_collected():
    """Garbage left by earlier tests is collected first, for a test that makes JSON be
    parsed to the interpreter's recursion limit: a finalizer that a collection runs at that
    depth, and fails, cannot have its error formatted there, and pytest then fails the
    test that happens to be running."""
    gc.collect()
