"""Stalled clients cannot starve the site: with sixty sockets that sent one byte of a
request body and went quiet, /healthz still answers everyone else within a second, as
gunicorn serves it in make run and docker compose (the Procfile's worker class)."""

from __future__ import annotations

import socket
import time

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

STALLED = 60


def test_sixty_stalled_request_bodies_leave_healthz_answering_within_a_second(gunicorn_process):
    port, _ = gunicorn_process
    stalled = []
    try:
        for _ in range(STALLED):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 1000\r\n\r\nu"
            )
            stalled.append(sock)
        time.sleep(1)  # every stalled request has reached a worker by now
        for _ in range(5):
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                probe.sendall(
                    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                assert probe.recv(64).startswith(b"HTTP/1.1 "), "no answer"
            assert time.monotonic() - started < 1.0
    finally:
        for sock in stalled:
            sock.close()
