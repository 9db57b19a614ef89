"""Clients that start a request and never finish its body: what a stalled client does."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

MiB = 1024 * 1024


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


def put_cut_short(
    base_url: str, target: str, headers: dict[str, str], *, timeout: float = 20
) -> bytes:
    """A PUT of ``target`` over a real socket that announces 4 MiB, sends 1 MiB and stops
    sending, like a lost network; returns the whole answer (status line, headers, body)."""
    host = urlsplit(base_url)
    lines = [f"PUT {target} HTTP/1.1", f"Host: {host.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/octet-stream", f"Content-Length: {4 * MiB}"]
    with socket.create_connection((host.hostname, host.port), timeout=timeout) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        connection.sendall(b"\0" * MiB)
        connection.shutdown(socket.SHUT_WR)  # the body ends 3 MiB early
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def session_headers(client) -> dict[str, str]:
    """What a browser logged in with the test client's session sends with a PUT."""
    csrf = "a" * 32
    session = client.cookies["sessionid"].value
    return {"Cookie": f"sessionid={session}; csrftoken={csrf}", "X-CSRFToken": csrf}
