"""Clients that start a request and never finish its body: what a stalled client does."""

from __future__ import annotations

import socket


def stall_request_bodies(port: int, count: int) -> list[socket.socket]:
    """``count`` connections to 127.0.0.1:``port``, each having sent the headers of a POST
    announcing a 1,000-byte body and one byte of it, then nothing. The caller closes them."""
    sockets = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 1000\r\n\r\nu"
        )
        sockets.append(sock)
    return sockets
