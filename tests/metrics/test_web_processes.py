"""/metrics served by gunicorn as the Procfile serves it: two web processes, one scrape at a
time reaching either, and every scrape counting the requests both of them answered."""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.metrics.test_metrics import request_count, samples

pytestmark = pytest.mark.django_db(transaction=True)


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's web processes of its master)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def web_processes(master: int, count: int = 2) -> list[int]:
    """Once the master has started them all (the port listens before they fork)."""
    deadline = time.monotonic() + 30
    while len(found := children(master)) < count:
        assert time.monotonic() < deadline, f"gunicorn started {found}, not {count} processes"
        time.sleep(0.1)
    return found


@contextmanager
def stopped(pid: int):
    """The process is stopped inside the block: the other web process takes every request."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def get(port: int, path: str) -> requests.Response:
    """On a connection of its own, so that either web process may take it."""
    with requests.Session() as session:
        response = session.get(f"http://127.0.0.1:{port}{path}", timeout=30)
    assert response.status_code in (200, 503), (path, response.status_code)
    return response


def test_every_scrape_counts_the_requests_that_both_web_processes_answered(gunicorn_process):
    port = gunicorn_process.port
    first, second = web_processes(gunicorn_process.pid)
    answered = {first: 3, second: 4}
    for process, requests_sent in answered.items():
        other = second if process == first else first
        with stopped(other):
            for _ in range(requests_sent):
                get(port, "/healthz")

    totals = [request_count(samples(get(port, "/metrics").text), "healthz") for _ in range(8)]

    assert totals == [7] * 8, (
        "a scrape answered by one web process counted only that process's requests"
    )
