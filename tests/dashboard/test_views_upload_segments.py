"""Uploading a file larger than one segment: plan, segments, manifest and cancel.

The requests go over HTTP to the live server, whose dashboard stores the segments in the
live built-in cloud; that cloud keeps at most 8 MiB in one object and the dashboard's
cloud cuts uploads every 3 MiB (``segmenting_cloud``).
"""

from __future__ import annotations

import hashlib
import json
import random
import socket
from urllib.parse import urlsplit

import pytest
import requests
from django.test import Client

from imagetasks.dashboard.access import OPERATORS, VIEWERS
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.openstack import NotFound
from tests.support.factories import make_user

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024
MTIME = "1712345678901"
CSRF = "c" * 32
SEGMENT = 3 * MiB  # segmenting_cloud's segment size


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def file_of(size: int) -> bytes:
    return random.Random(size).randbytes(size)


class Dashboard(requests.Session):
    """Requests to the live server as the page's script sends them: session and CSRF token."""

    def __init__(self, base: str, session_id: str):
        super().__init__()
        self.base = base
        self.cookies.set("sessionid", session_id)
        self.cookies.set("csrftoken", CSRF)
        self.headers["X-CSRFToken"] = CSRF


def over_http(live_server, django_user_model, cloud, name: str = "owen", group: str = OPERATORS):
    """The dashboard over HTTP for ``name``, a new person in ``group`` granted ``cloud``."""
    user = make_user(django_user_model, name, group)
    cloud.users.add(user)
    client = Client()
    client.force_login(user)
    return Dashboard(live_server.url, client.cookies["sessionid"].value)


class Upload:
    """One file's way through the four steps, as the page's script takes it."""

    def __init__(self, http, data: bytes, path: str = "uploads/team/big.vhd", mtime: str = MTIME):
        self.http, self.data, self.path, self.mtime = http, data, path, mtime
        self.query = {"size": str(len(data)), "mtime": mtime}

    def url(self, step: str) -> str:
        return f"{self.http.base}/clouds/local/upload-{step}/{self.path}"

    def plan(self, **query):
        return self.http.get(self.url("plan"), params={**self.query, **query})

    def segment(self, number: int, *, data: bytes | None = None, **query):
        """PUT segment ``number``, with its MD5 (as a resumed upload sends it) unless md5=None."""
        piece = self.data[number * SEGMENT : (number + 1) * SEGMENT]
        params = {**self.query, "index": str(number), "md5": md5(piece), **query}
        sent = piece if data is None else data
        return self.http.put(self.url("segment"), params=params, data=sent)

    def remove_segment(self, number: int):
        params = {**self.query, "index": str(number)}
        return self.http.delete(self.url("segment"), params=params)

    def manifest(self, md5s: list[str] | None = None):
        pieces = [self.data[at : at + SEGMENT] for at in range(0, len(self.data), SEGMENT)]
        body = {"md5": md5(self.data), "segments": md5s or [md5(p) for p in pieces]}
        return self.http.post(self.url("manifest"), params=self.query, json=body)

    def cancel(self):
        return self.http.post(self.url("cancel"), params=self.query)


@pytest.fixture
def http(live_server, django_user_model, segmenting_cloud):
    return over_http(live_server, django_user_model, segmenting_cloud)


def stored_segment_names(cloud) -> list[str]:
    try:
        return [o.name for o in client_for(cloud).objects.list_objects("uploads_segments")]
    except NotFound:
        return []


def test_a_file_above_the_segment_size_is_stored_as_one_large_object_of_its_segments(
    http, segmenting_cloud
):
    data = file_of(10 * MiB)  # 3 + 3 + 3 + 1 MiB
    upload = Upload(http, data)

    plan = upload.plan().json()
    assert plan["single"] is False and plan["segment_size"] == 3 * MiB
    assert [(s["index"], s["length"], s["etag"]) for s in plan["segments"]] == [
        (0, 3 * MiB, None), (1, 3 * MiB, None), (2, 3 * MiB, None), (3, 1 * MiB, None),
    ]  # fmt: skip
    assert plan["prefix"] == f"team/big.vhd/slo/{MTIME}/{10 * MiB}/{3 * MiB}/"
    for index in range(4):
        sent = upload.segment(index)
        assert sent.status_code == 201, sent.text
        assert sent.json()["etag"] == md5(data[index * 3 * MiB : (index + 1) * 3 * MiB])
        assert sent.json()["verified"] is True  # the store matched the MD5 sent with it
    answer = upload.manifest()

    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert stored["container"] == "uploads" and stored["object"] == "team/big.vhd"
    assert stored["bytes"] == len(data) and stored["md5"] == md5(data)
    assert stored["verified"] is True and stored["segments"] == 4
    assert stored["import_url"].startswith("/tasks/new/import/?cloud=local&container=uploads")
    objects = client_for(segmenting_cloud).objects
    assert objects.head_object("uploads", "team/big.vhd").static_large_object
    with objects.get_object("uploads", "team/big.vhd") as whole:
        assert b"".join(whole.iter_content()) == data
    assert stored_segment_names(segmenting_cloud) == [f"{plan['prefix']}{i:08d}" for i in range(4)]


def test_a_file_up_to_the_segment_size_is_planned_as_one_put(http, segmenting_cloud):
    plan = Upload(http, file_of(3 * MiB)).plan()

    assert plan.status_code == 200
    assert plan.json() == {
        "single": True,
        "segment_size": 3 * MiB,
        "upload_url": "/clouds/local/upload/uploads/team/big.vhd",
    }


def test_choosing_the_same_file_again_finds_the_segments_already_stored(http, segmenting_cloud):
    data = file_of(10 * MiB)
    first = Upload(http, data)
    assert first.segment(0).status_code == 201
    assert first.segment(2).status_code == 201

    again = Upload(http, data).plan().json()
    touched_since = Upload(http, data, mtime="1712345999000").plan().json()

    assert [s["etag"] for s in again["segments"]] == [
        md5(data[: 3 * MiB]),
        None,
        md5(data[6 * MiB : 9 * MiB]),
        None,
    ]
    assert again["complete"] is False
    assert [s["etag"] for s in touched_since["segments"]] == [None] * 4  # another version
    early = first.manifest()
    assert early.status_code == 409
    assert early.json()["error"] == (
        "Segments 1, 3 of 4 are not stored: choose the same file and press Upload again to "
        "send them."
    )
    with pytest.raises(NotFound):
        client_for(segmenting_cloud).objects.head_object("uploads", "team/big.vhd")


def test_a_manifest_is_refused_when_a_stored_segment_is_not_the_files(http, segmenting_cloud):
    data = file_of(7 * MiB)
    upload = Upload(http, data)
    for index in range(3):
        assert upload.segment(index).status_code == 201
    other = md5(b"another file's first segment")

    answer = upload.manifest([other, md5(data[3 * MiB : 6 * MiB]), md5(data[6 * MiB :])])

    assert answer.status_code == 409
    assert answer.json()["error"] == (
        "Segment 0 as stored differs from the file: choose the same file and press Upload "
        "again to send it anew."
    )


def test_cancel_removes_every_segment_sent_and_the_manifest(http, segmenting_cloud):
    data = file_of(10 * MiB)
    done, halfway = Upload(http, data), Upload(http, file_of(9 * MiB), path="uploads/half.vhd")
    for index in range(4):
        done.segment(index)
    assert done.manifest().status_code == 201
    halfway.segment(1)
    halfway.segment(2)
    keep = Upload(http, file_of(4 * MiB), path="uploads/keep.vhd")
    keep.segment(0)

    assert done.plan().json()["complete"] is True
    first, second = done.cancel(), halfway.cancel()

    assert first.status_code == 200 and first.json() == {"removed": 4}
    assert second.status_code == 200 and second.json() == {"removed": 2}
    objects = client_for(segmenting_cloud).objects
    with pytest.raises(NotFound):
        objects.head_object("uploads", "team/big.vhd")
    # Another file's segments are not this upload's to remove.
    assert stored_segment_names(segmenting_cloud) == [
        f"keep.vhd/slo/{MTIME}/{4 * MiB}/{3 * MiB}/00000000"
    ]


def test_cancel_keeps_an_object_of_the_same_name_that_is_not_this_files(http, segmenting_cloud):
    objects = client_for(segmenting_cloud).objects
    objects.create_container("uploads")
    objects.put_object("uploads", "team/big.vhd", b"an earlier image")
    upload = Upload(http, file_of(7 * MiB))
    upload.segment(0)

    assert upload.cancel().json() == {"removed": 1}

    with objects.get_object("uploads", "team/big.vhd") as kept:
        assert b"".join(kept.iter_content()) == b"an earlier image"


def test_a_segment_whose_bytes_differ_from_its_md5_is_not_stored(http, segmenting_cloud):
    upload = Upload(http, file_of(7 * MiB))

    answer = upload.segment(0, md5=md5(b"what the page hashed"))

    assert answer.status_code == 400
    assert answer.json()["error"] == (
        "Segment 0 arrived different from the file (its MD5 is not the one the page "
        "computed); it was not stored."
    )
    assert stored_segment_names(segmenting_cloud) == []


def test_a_segment_sent_without_its_md5_is_answered_with_the_md5_the_store_computed(
    http, segmenting_cloud
):
    """As the page sends a segment it hashes while sending: the view hashes nothing."""
    data = file_of(7 * MiB)
    upload = Upload(http, data)

    answers = [upload.segment(index, md5=None) for index in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 201]
    assert [a.json()["etag"] for a in answers] == [
        md5(data[:SEGMENT]), md5(data[SEGMENT : 2 * SEGMENT]), md5(data[2 * SEGMENT :])
    ]  # fmt: skip
    assert [a.json()["verified"] for a in answers] == [False] * 3  # the page compares
    stored = upload.manifest()
    assert stored.status_code == 201, stored.text
    assert stored.json()["verified"] is True


def test_a_segment_that_arrived_different_is_removed_and_then_sent_with_its_md5(
    http, segmenting_cloud
):
    data = file_of(7 * MiB)
    upload = Upload(http, data)
    changed = bytearray(data[:SEGMENT])
    changed[12345] ^= 0xFF  # one bit flipped on the way

    arrived = upload.segment(0, md5=None, data=bytes(changed))
    assert arrived.status_code == 201
    assert arrived.json()["etag"] == md5(bytes(changed)) != md5(data[:SEGMENT])
    removed = upload.remove_segment(0)

    assert removed.status_code == 200 and removed.json() == {"removed": 1}
    assert stored_segment_names(segmenting_cloud) == []
    assert upload.remove_segment(0).json() == {"removed": 0}  # nothing stored there now
    again = upload.segment(0, data=bytes(changed))  # with the page's MD5: the store refuses
    assert again.status_code == 400
    assert "Segment 0 arrived different from the file" in again.json()["error"]
    assert stored_segment_names(segmenting_cloud) == []


def test_a_segment_the_store_answers_without_an_etag_is_stored_but_not_verified(
    client, django_user_model
):
    from tests.openstack.scripted import Reply, ScriptedCloud
    from tests.support.factories import make_cloud

    store = ScriptedCloud().start()
    prefix = f"big.vhd/slo/{MTIME}/{2 * MiB}/{MiB}"
    try:
        cloud = make_cloud(
            "quiet", object_store_endpoint=f"{store.url}/v1/AUTH_q", segment_size=MiB
        )
        store.on("HEAD", "/v1/AUTH_q/uploads_segments", Reply(204))
        store.on("PUT", f"/v1/AUTH_q/uploads_segments/{prefix}/00000001", Reply(201))  # no ETag
        user = make_user(django_user_model, "quinn", OPERATORS)
        cloud.users.add(user)
        client.force_login(user)
        response = client.put(
            f"/clouds/quiet/upload-segment/uploads/big.vhd?size={2 * MiB}&mtime={MTIME}&index=1",
            data=b"x" * MiB,
            content_type="application/octet-stream",
        )
    finally:
        store.stop()
    assert response.status_code == 201, response.content
    assert response.json() == {"index": 1, "bytes": MiB, "etag": None, "verified": False}


NO_SIZE = "Say the file's size in bytes (size=…)."
NO_MTIME = "Say when the file was last modified, as a number (mtime=…)."
TOO_LARGE = "The file is too large for local: it takes at most 1000 segments of 8388608 bytes."
NO_SEGMENT = "There is no segment “{}”: the file is cut into 4 segments, numbered from 0."


@pytest.mark.parametrize(
    ("step", "query", "message"),
    [
        ("plan", {"size": "0"}, "The file is empty: there is nothing to import."),
        ("plan", {"size": "12abc"}, NO_SIZE),
        ("plan", {"size": "9" * 30}, NO_SIZE),
        ("plan", {"mtime": "yesterday"}, NO_MTIME),
        ("plan", {"mtime": "1/2"}, NO_MTIME),
        ("plan", {"size": str(1001 * 8 * MiB)}, TOO_LARGE),
        ("segment", {"index": "4"}, NO_SEGMENT.format(4)),
        ("segment", {"index": "-1"}, NO_SEGMENT.format(-1)),
        ("segment", {"md5": "XYZ"}, "Say the segment's MD5 as 32 lowercase hex digits (md5=…)."),
        ("segment", {"size": str(2 * MiB)}, "A file this small goes up whole, not in segments."),
    ],
)
def test_bad_input_is_a_400_that_says_what_is_wrong(http, segmenting_cloud, step, query, message):
    upload = Upload(http, file_of(10 * MiB))

    answer = upload.plan(**query) if step == "plan" else upload.segment(0, **query)

    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": message}


def test_a_segment_of_the_wrong_length_is_refused_before_anything_is_stored(http, segmenting_cloud):
    upload = Upload(http, file_of(10 * MiB))
    params = {**upload.query, "index": "3", "md5": md5(b"x" * 10)}

    answer = http.put(upload.url("segment"), params=params, data=b"x" * 10)

    assert answer.status_code == 400
    assert answer.json()["error"] == (
        f"Segment 3 is {MiB} bytes of the file; this request announces 10."
    )
    assert stored_segment_names(segmenting_cloud) == []


NO_MD5S = "Send the file's MD5 and a list of its segments' MD5s, in hex."
ONE_MD5 = json.dumps({"md5": "a" * 32, "segments": ["b" * 32]}).encode()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "Send the checksums as JSON."),
        (b'{"md5": "abc", "segments": []}', NO_MD5S),
        (b'["a"]', NO_MD5S),
        (ONE_MD5, "The file has 4 segments; 1 checksum was sent."),
        (b" " * (65 * 1024), "Send the checksums as a JSON body of at most 64 KiB."),
    ],
)
def test_a_manifest_request_without_the_checksums_is_a_400(http, segmenting_cloud, body, message):
    upload = Upload(http, file_of(10 * MiB))

    answer = http.post(upload.url("manifest"), params=upload.query, data=body)

    assert answer.status_code == 400
    assert answer.json() == {"error": message}


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("%2E%2E/big.vhd", "A container cannot be named “..”."),
        (f"uploads/{'n' * 1000}", "With its segments' names: An object name is at most 1024 bytes"),
        (f"{'c' * 250}/big.vhd", "With its segments' names: A container name is at most 256 bytes"),
    ],
)
def test_names_the_store_would_refuse_are_a_400(http, segmenting_cloud, path, message):
    answer = Upload(http, file_of(10 * MiB), path=path).plan()

    assert answer.status_code == 400
    assert answer.json()["error"].startswith(message)


STEPS = [
    ("get", "plan"),
    ("put", "segment"),
    ("delete", "segment"),
    ("post", "manifest"),
    ("post", "cancel"),
]


@pytest.mark.parametrize(("method", "step"), STEPS)
def test_viewers_are_refused_and_other_peoples_clouds_are_not_found(
    live_server, django_user_model, segmenting_cloud, method, step
):
    url = f"{live_server.url}/clouds/local/upload-{step}/uploads/big.vhd?size={10 * MiB}&mtime=1"
    viewer = over_http(live_server, django_user_model, segmenting_cloud, "vera", VIEWERS)
    outsider = over_http(live_server, django_user_model, segmenting_cloud, "otto")
    segmenting_cloud.users.remove(django_user_model.objects.get(username="otto"))

    assert getattr(viewer, method)(url).status_code == 403
    assert getattr(outsider, method)(url).status_code == 404


@pytest.mark.parametrize(("method", "step"), STEPS)
def test_a_switched_off_cloud_takes_no_part_of_an_upload(http, segmenting_cloud, method, step):
    segmenting_cloud.enabled = False
    segmenting_cloud.save(update_fields=["enabled"])
    url = f"{http.base}/clouds/local/upload-{step}/uploads/big.vhd?size={10 * MiB}&mtime=1"

    answer = getattr(http, method)(url)

    assert answer.status_code == 409
    assert "switched off" in answer.json()["error"]


def test_each_step_says_its_method(http, segmenting_cloud):
    base = f"{http.base}/clouds/local/upload-"
    assert http.post(f"{base}plan/uploads/big.vhd").status_code == 405
    assert http.get(f"{base}segment/uploads/big.vhd").status_code == 405
    assert http.get(f"{base}manifest/uploads/big.vhd").status_code == 405
    assert http.get(f"{base}cancel/uploads/big.vhd").status_code == 405


def test_a_segment_cut_short_is_not_stored(http, segmenting_cloud):
    """A real socket that announces a 3 MiB segment, sends 1 MiB and stops, like a lost network."""
    upload = Upload(http, file_of(10 * MiB))
    host = urlsplit(http.base)
    query = f"size={10 * MiB}&mtime={MTIME}&index=0&md5={'a' * 32}"
    with socket.create_connection((host.hostname, host.port), timeout=10) as connection:
        connection.sendall(
            (
                f"PUT /clouds/local/upload-segment/uploads/team/big.vhd?{query} HTTP/1.1\r\n"
                f"Host: {host.netloc}\r\n"
                f"Content-Length: {3 * MiB}\r\n"
                f"Cookie: sessionid={http.cookies['sessionid']}; csrftoken={CSRF}\r\n"
                f"X-CSRFToken: {CSRF}\r\n\r\n"
            ).encode()
        )
        connection.sendall(b"\0" * MiB)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert b"Segment 0 was interrupted" in answer and b"it was not stored" in answer
    assert [s["etag"] for s in upload.plan().json()["segments"]] == [None] * 4
