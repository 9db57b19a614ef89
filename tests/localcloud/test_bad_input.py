"""Whatever a client sends the built-in cloud, it answers 4xx with a message, never 500:
numbers too long for Python to read, JSON nested deeper than a stack, broken chunked
encoding, a full disk."""

from __future__ import annotations

import errno
import socket

import pytest

from imagetasks.localcloud import blobstore

pytestmark = pytest.mark.usefixtures("fast_hashing")

HUGE = "9" * 4400  # Python's int() refuses more than 4,300 digits
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def stored(cloud, base) -> str:
    assert cloud.put(f"{base}/docs").status_code in (201, 202)
    assert cloud.put(f"{base}/docs/readme", data=b"0123456789").status_code == 201
    return f"{base}/docs/readme"


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Delete-After", "9" * 400), ("X-Delete-After", HUGE), ("X-Delete-At", HUGE)],
)
def test_an_expiry_of_any_length_is_read_as_the_latest_one_swift_keeps(
    cloud, base, stored, header, value
):
    response = cloud.put(f"{base}/docs/later", data=b"x", headers={header: value})
    assert response.status_code == 201, response.text
    assert cloud.head(f"{base}/docs/later").headers["X-Delete-At"].startswith("9999999999")


@pytest.mark.parametrize(
    ("byte_range", "status", "body"),
    [
        (f"bytes={HUGE}-", 416, b""),
        (f"bytes=0-{HUGE}", 206, b"0123456789"),
        (f"bytes=-{HUGE}", 206, b"0123456789"),
        (f"bytes={HUGE}-{HUGE}", 416, b""),
    ],
)
def test_a_range_of_any_length_is_answered_as_http_says(cloud, stored, byte_range, status, body):
    response = cloud.get(stored, headers={"Range": byte_range})
    assert response.status_code == status
    if body:
        assert response.content == body


def test_a_listing_limit_of_any_length_is_refused_like_swift(cloud, base, stored):
    response = cloud.get(f"{base}/docs", params={"limit": HUGE})
    assert response.status_code == 412


@pytest.mark.parametrize("path", ["identity/v3/auth/tokens", "identity/v2.0/tokens"])
@pytest.mark.usefixtures("garbage_collected")
def test_json_nested_deeper_than_a_stack_is_a_400_from_identity(anonymous_cloud, path):
    response = anonymous_cloud.post(path, data=NESTED, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


@pytest.mark.usefixtures("garbage_collected")
def test_json_nested_deeper_than_a_stack_is_a_400_from_the_tasks_api(cloud):
    response = cloud.post(
        "image/v2/tasks", data=NESTED, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_a_content_length_of_thirty_digits_is_a_400_not_a_crash(live_server, account, base):
    host, port = live_server.thread.host, live_server.thread.port
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT /localcloud/{base}/docs/huge HTTP/1.1\r\nHost: {host}\r\n"
                f"X-Auth-Token: {account.token()}\r\nContent-Length: {'9' * 30}\r\n\r\nabc"
            ).encode()
        )
        sock.shutdown(socket.SHUT_WR)
        answer = sock.recv(65536).decode(errors="replace")
    status = int(answer.split(" ", 2)[1])
    assert 400 <= status < 500, answer[:200]


def test_under_gunicorn_a_malformed_chunked_body_is_a_400(gunicorn, base):
    gunicorn.request("PUT", f"{base}/docs")
    with socket.create_connection(("127.0.0.1", gunicorn.port), timeout=10) as sock:
        sock.sendall(
            (
                f"PUT /localcloud/{base}/docs/chunks HTTP/1.1\r\nHost: x\r\n"
                f"X-Auth-Token: {gunicorn.token}\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\nZZ\r\nnot a chunk size\r\n0\r\n\r\n"
            ).encode()
        )
        answer = sock.recv(65536).decode(errors="replace")
    status = int(answer.split(" ", 2)[1])
    assert 400 <= status < 500, answer[:300]
    assert gunicorn.request("GET", f"{base}/docs/chunks")[0] == 404  # nothing was stored


def test_a_full_disk_is_a_507_and_leaves_no_half_written_blob(cloud, base, stored, monkeypatch):
    # A full disk cannot be made here without mounting a file system of our own, so the
    # write that the disk would refuse is made to raise what it would (ENOSPC).
    real_open = open

    def full_disk_open(path, mode="r", *args, **kwargs):
        handle = real_open(path, mode, *args, **kwargs)
        if "w" in mode:

            def refuse(data):
                raise OSError(errno.ENOSPC, "No space left on device")

            handle.write = refuse
        return handle

    monkeypatch.setattr(blobstore, "open", full_disk_open, raising=False)
    before = {path for path in blobstore.root().rglob("*") if path.is_file()}
    response = cloud.put(f"{base}/docs/big", data=b"x" * 100)
    assert response.status_code == 507
    assert "no room" in response.text
    assert {path for path in blobstore.root().rglob("*") if path.is_file()} == before
