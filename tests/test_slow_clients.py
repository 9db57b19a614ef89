"""Stalled clients cannot starve the site: with sixty sockets that sent one byte of a
request body and went quiet, /healthz still answers everyone else at once (within a second
on an idle machine), as gunicorn serves it in make run and docker compose (the Procfile's
worker class)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.support.stalling import stall_request_bodies

pytestmark = pytest.mark.django_db(transaction=True)

STALLED = 60
# Starved, /healthz would wait behind the stalled bodies until gunicorn's 30 s worker
# timeout; a machine busy with other work may take a few seconds to answer even so.
ANSWERS_WITHIN = 5.0


def healthz_answer_time(port: int, timeout: float) -> float:
    """Seconds until /healthz answers on a connection of its own (the status line only)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as probe:
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert probe.recv(64).startswith(b"HTTP/1.1 "), "no answer"
    return time.monotonic() - started


def wait_until_warm(port: int) -> None:
    """Wait until both workers have booted and served a request.

    The port accepts as soon as gunicorn's master listens; each worker then loads the
    app and answers its first request slowly, the more so on a busy machine. That is
    start-up, not what stalled clients do, so it is over before anything is measured:
    ten quick answers in a row have been served by both workers but for a chance of one
    in five hundred.
    """
    deadline, quick = time.monotonic() + 60, 0
    while quick < 10:
        assert time.monotonic() < deadline, "gunicorn did not answer quickly within 60 s"
        quick = quick + 1 if healthz_answer_time(port, timeout=30) < 0.5 else 0


def test_sixty_stalled_request_bodies_leave_healthz_answering_within_seconds(gunicorn_process):
    port = gunicorn_process.port
    wait_until_warm(port)
    stalled = []
    try:
        stalled = stall_request_bodies(port, STALLED)
        time.sleep(1)  # every stalled request has reached a worker by now
        for _ in range(5):
            took = healthz_answer_time(port, timeout=ANSWERS_WITHIN)
            assert took < ANSWERS_WITHIN, f"/healthz took {took:.1f} s"
    finally:
        for sock in stalled:
            sock.close()
