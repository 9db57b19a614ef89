"""Fixtures for running the dashboard's tracker against a real Glance.

``test_tracker.py`` loads this module through ``pytest_plugins``, so its fixtures are
requested by name without being imported into the test module.

The tracker is driven in the test's own thread: ``run_tracker`` does what beat and the
worker do (``jobs.poll_due_here``: the dispatcher's claim, then each cloud's poll job)
in a loop until a condition holds. Every request still goes over real HTTP to Glance;
what is left out is the broker between the dispatcher and the poll job, which the
tracker's tests against the built-in cloud run with a real worker and beat. In one
thread the test decides exactly what happens between two rounds (Glance stopped or
started, a download released, a list by the project), so each test is deterministic.
It also keeps Glance's start on the test's thread, as the harness needs: Linux stops a
child whose forking *thread* ends (``PR_SET_PDEATHSIG`` in ``harness/server.py``), so a
``restart()`` from a helper thread gets the new Glance killed as that thread returns.

A browser test's own thread drives the browser and waits on what the page shows, so
``tracker_running`` runs the same rounds on a thread of their own for the whole test.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, TypeVar

import pytest
from django.db import connection
from django.utils import timezone

from imagetasks.dashboard import jobs
from imagetasks.dashboard.clouds.clients import forget_clients
from imagetasks.dashboard.models import Cloud
from tests_glance.harness.server import GlanceServer

T = TypeVar("T")

ROUND_PAUSE = 0.05
# How long a gated source holds its remaining bytes unless released (or aborted) first.
GATE_TIMEOUT = 60.0


def tracker_round() -> None:
    """One round of the tracker: what beat's dispatch and the worker's poll jobs do, the
    jobs run here in turn. Each is the worker's own job, which polls under the claim it was
    sent with and gives the cloud back at its end: without that, the cloud would stay
    claimed until its lease ran out, and the next rounds would poll nothing for a minute."""
    jobs.poll_due_here(timezone.now())


def drive_tracker(
    until: Callable[[], T | None], *, timeout: float = 90.0, what: str = "the condition"
) -> T:
    """Dispatch and poll due tasks, round after round, until ``until()`` returns something.

    Returns that value; fails the test with ``what`` if it does not come within ``timeout``.
    """
    deadline = time.monotonic() + timeout
    while True:
        tracker_round()
        result = until()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(ROUND_PAUSE)


@pytest.fixture
def run_tracker() -> Callable[..., Any]:
    """``run_tracker(until, timeout=90, what=...)``: the tracker's rounds until ``until()``
    returns something, which is returned (see ``drive_tracker``)."""
    return drive_tracker


@pytest.fixture
def tracker_running(transactional_db) -> Iterator[None]:
    """The tracker's rounds on a thread of their own for the whole test, ``ROUND_PAUSE``
    apart, for a test whose own thread is busy elsewhere (driving a browser).

    The same rounds as ``run_tracker``; only the thread differs. A round that raises
    stops the thread and fails the test at teardown with the error. Glance is never
    started or restarted from this thread (see the module's doc).
    """
    stop = threading.Event()
    errors: list[BaseException] = []

    def rounds() -> None:
        try:
            while not stop.is_set():
                tracker_round()
                stop.wait(ROUND_PAUSE)
        except BaseException as error:  # reported by the test's thread below
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=rounds, name="tracker", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the tracker's round did not end within 30 s"
    if errors:
        raise errors[0]


@pytest.fixture
def glance_cloud() -> Iterator[Callable[..., Cloud]]:
    """``glance_cloud(server, project, **fields)``: a dashboard ``Cloud`` for ``project``.

    A fixed token (``auth_type="token"``) that the harness's identity filter reads as the
    project with member roles, and the image endpoint overridden to the instance: no
    identity service, no catalog. Polling is fast (0.3 s rising to 2 s) so tests end soon.
    Cached clients are dropped before and after, so no client outlives its instance.
    """
    forget_clients()

    def make(server: GlanceServer, project: str, *, roles: str | None = None, **fields) -> Cloud:
        options: dict[str, Any] = {
            "poll_min_interval": 0.3,
            "poll_max_interval": 2.0,
            "timeout": 10.0,
            **fields,
        }
        cloud = Cloud(
            name=f"glance-{project}-{uuid.uuid4().hex[:6]}",
            auth_type=Cloud.AuthType.TOKEN,
            project_id=project,
            image_endpoint=server.url,
            **options,
        )
        cloud.set_secret(server.token(project, roles))
        cloud.save()
        return cloud

    yield make
    forget_clients()


class GatedSource:
    """An image the shared file server sends in two parts: the head at once, the rest later.

    Glance's legacy import downloads its ``import_from`` while the task is ``processing``,
    so holding the download keeps the task there for as long as a test needs: ``started``
    is set once Glance has begun reading; ``release()`` sends the rest (the import then
    succeeds), ``abort()`` ends the body short (for teardown, once Glance no longer waits).
    """

    def __init__(self, data: bytes, head: int):
        self.data = data
        self.head = head
        self.started = threading.Event()
        self._go = threading.Event()
        self._aborted = False

    # What the file server's handler calls on a registered path.
    def stat(self) -> SimpleNamespace:
        return SimpleNamespace(st_size=len(self.data))

    def open(self, mode: str = "rb") -> _GatedReader:
        return _GatedReader(self)

    @property
    def released(self) -> bool:
        return self._go.is_set() and not self._aborted

    def release(self) -> None:
        self._go.set()

    def abort(self) -> None:
        self._aborted = True
        self._go.set()

    def _wait(self) -> bool:
        """Block until released; whether to send the rest."""
        return self._go.wait(GATE_TIMEOUT) and not self._aborted


class _GatedReader:
    def __init__(self, source: GatedSource):
        self._source = source
        self._offset = 0

    def read(self, size: int = -1) -> bytes:
        source = self._source
        if self._offset == 0:
            chunk = source.data[: source.head]
            source.started.set()
        else:
            if self._offset >= len(source.data) or not source._wait():
                return b""
            end = len(source.data) if size < 0 else self._offset + size
            chunk = source.data[self._offset : end]
        self._offset += len(chunk)
        return chunk

    def __enter__(self) -> _GatedReader:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.fixture
def gated_source() -> Iterator[Callable[..., tuple[GatedSource, str]]]:
    """``gated_source(server, data, name)``: a ``GatedSource`` and the URL Glance imports it by.

    The harness's file server only serves whole files, so the source is registered in its
    table of served names directly (``FileServer._server.files``): its handler asks a
    registered path only for ``stat().st_size`` and ``open("rb")``. At teardown every gate
    still closed is aborted, so no handler thread stays blocked.
    """
    sources: list[GatedSource] = []

    def make(
        server: GlanceServer, data: bytes, name: str, head: int = 64 * 1024
    ) -> tuple[GatedSource, str]:
        source = GatedSource(data, head)
        name = f"{uuid.uuid4().hex[:8]}-{name}"
        server.file_server._server.files[name] = source  # type: ignore[assignment]
        sources.append(source)
        return source, server.file_server.url_for(name)

    yield make
    for source in sources:
        source.abort()


@pytest.fixture(scope="module")
def restartable_glance(glance_factory) -> GlanceServer:
    """A Glance of this module's own (tasks API open, 48 h), which its tests may restart."""
    return glance_factory(private=True)
