"""Object storage: quoting of names, streamed uploads and downloads, listings paged by
marker. Real HTTP against a scripted server on 127.0.0.1 that decodes what it receives
(chunked bodies included) the way a Swift proxy would."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagetasks.openstack import AuthError, Conflict, NotFound, ObjectInfo, Subdir
from tests.openstack.samples import IDENTITY_PATH, SWIFT_PATH
from tests.openstack.scripted import Received, Reply

OBJECT_PATH = f"{SWIFT_PATH}/exports/my%20images/caf%C3%A9%20%E2%98%95/disk%201.vhd"


def stored(request: Received) -> Reply:
    """Answer a PUT like Swift: 201 with the MD5 of what arrived."""
    return Reply(201, headers={"ETag": hashlib.md5(request.body).hexdigest()})  # noqa: S324


def test_object_names_with_spaces_unicode_and_slashes_are_quoted_keeping_slashes(cloud, client):
    cloud.on("PUT", OBJECT_PATH, handler=stored)

    client.objects.put_object("exports", "my images/café ☕/disk 1.vhd", b"vhd")

    [put] = cloud.requests("PUT")
    assert put.path == OBJECT_PATH


@pytest.mark.parametrize("name", ["a/../b", "./x", "a/./..", "../../etc/passwd"])
def test_dot_segments_in_object_names_are_not_normalised_away(cloud, client, name):
    with pytest.raises(NotFound):
        client.objects.head_object("c", name)

    assert cloud.requests("HEAD")[0].path == f"{SWIFT_PATH}/c/{name}"


def test_a_container_name_is_quoted_whole(cloud, client):
    with pytest.raises(NotFound):
        client.objects.head_container("a/b c")

    assert cloud.requests("HEAD")[0].path == f"{SWIFT_PATH}/a%2Fb%20c"


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(["a", "é", "☕", " ", "/", ".", "..", "%", "?", "#", "+", "&", "~", ";"])
        | st.characters(blacklist_categories=["Cs", "Cc"]),
        min_size=1,
        max_size=12,
    ).map("".join)
)
def test_any_object_name_arrives_intact(cloud, client, name):
    cloud.received.clear()
    with pytest.raises(NotFound):
        client.objects.head_object("c", name)

    assert unquote(cloud.requests("HEAD")[0].path) == f"{SWIFT_PATH}/c/{name}"


def test_put_object_streams_a_generator_with_chunked_encoding(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/big.vhd", handler=stored)
    produced = []

    def chunks():
        for number in range(5):
            chunk = bytes([number]) * 100_000
            produced.append(number)
            yield chunk

    etag = client.objects.put_object(
        "exports", "big.vhd", chunks(), content_type="application/x-vhd"
    )

    [put] = cloud.requests("PUT")
    assert put.chunked
    assert "Content-Length" not in put.headers
    assert put.headers["Content-Type"] == "application/x-vhd"
    assert put.body == b"".join(bytes([n]) * 100_000 for n in range(5))
    assert etag == hashlib.md5(put.body).hexdigest()  # noqa: S324
    assert produced == [0, 1, 2, 3, 4]


def test_put_object_with_a_known_length_streams_without_chunking(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/known.vhd", handler=stored)

    client.objects.put_object("exports", "known.vhd", iter([b"abc", b"def"]), content_length=6)

    [put] = cloud.requests("PUT")
    assert not put.chunked
    assert put.headers["Content-Length"] == "6"
    assert put.body == b"abcdef"


def test_put_object_streams_a_file_with_its_length_and_checked_etag(cloud, client, tmp_path):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/file.vhd", handler=stored)
    path = tmp_path / "file.vhd"
    path.write_bytes(b"v" * 300_000)
    md5 = hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324

    with path.open("rb") as file:
        extra = {"X-Delete-After": "86400"}
        client.objects.put_object("exports", "file.vhd", file, etag=md5, headers=extra)

    [put] = cloud.requests("PUT")
    assert put.headers["Content-Length"] == "300000"
    assert put.headers["ETag"] == md5
    assert put.headers["X-Delete-After"] == "86400"
    assert put.headers["Content-Type"] == "application/octet-stream"
    assert put.body == path.read_bytes()


def test_an_object_put_is_never_retried(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/a.vhd", Reply(503, headers={"Retry-After": "0"}))

    with pytest.raises(Exception, match="503"):
        client.objects.put_object("exports", "a.vhd", b"data")

    assert len(cloud.requests("PUT")) == 1


def test_a_container_put_is_idempotent_and_retried(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports", Reply(503, headers={"Retry-After": "0"}), Reply(201))

    assert client.objects.create_container("exports") is True
    assert len(cloud.requests("PUT")) == 2


def test_creating_an_existing_container_reports_it_existed(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports", Reply(202))

    assert client.objects.create_container("exports") is False


def test_a_streamed_upload_refused_with_401_is_not_replayed_and_the_next_call_signs_in(
    cloud, client
):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/a.vhd", Reply(401, body="Unauthorized"))

    with pytest.raises(AuthError):
        client.objects.put_object("exports", "a.vhd", iter([b"data"]))
    assert len(cloud.requests("PUT")) == 1
    assert len(cloud.requests("POST", IDENTITY_PATH)) == 1

    with pytest.raises(AuthError):
        client.objects.put_object("exports", "a.vhd", b"data")
    assert len(cloud.requests("POST", IDENTITY_PATH)) == 3


def listing(names: list[str]) -> list[dict]:
    return [
        {
            "hash": "451e372e48e0f6b1114fa0724aa79fa1",
            "last_modified": "2014-01-15T16:41:49.390270",
            "bytes": 14,
            "name": name,
            "content_type": "application/octet-stream",
        }
        for name in names
    ]


def test_list_objects_pages_by_marker_until_a_short_page(cloud, client, monkeypatch):
    monkeypatch.setattr("imagetasks.openstack.objects.LISTING_PAGE", 2)
    names = ["a", "b", "c", "d", "e"]

    def handler(request: Received) -> Reply:
        after = [n for n in names if n > (request.param("marker") or "")]
        return Reply(json=listing(after[: int(request.param("limit"))]))

    cloud.on("GET", f"{SWIFT_PATH}/exports", handler=handler)

    objects = list(client.objects.list_objects("exports", prefix=""))

    assert [o.name for o in objects] == names
    assert isinstance(objects[0], ObjectInfo)
    assert objects[0].bytes == 14
    assert objects[0].last_modified.tzinfo is not None
    requests = cloud.requests("GET")
    assert [r.param("marker") for r in requests] == [None, "b", "d"]
    assert all(r.param("format") == "json" for r in requests)


def test_list_objects_stops_at_its_limit(cloud, client):
    cloud.on("GET", f"{SWIFT_PATH}/exports", Reply(json=listing(["a", "b"])))

    objects = list(client.objects.list_objects("exports", limit=2, marker="0"))

    assert len(objects) == 2
    [request] = cloud.requests("GET")
    assert (request.param("limit"), request.param("marker")) == ("2", "0")


def test_a_delimited_listing_yields_subdirs(cloud, client):
    entries = [{"subdir": "photos/"}, *listing(["readme.txt"])]
    cloud.on("GET", f"{SWIFT_PATH}/exports", Reply(json=entries))

    objects = list(client.objects.list_objects("exports", delimiter="/"))

    assert objects[0] == Subdir("photos/")
    assert objects[1].name == "readme.txt"
    assert cloud.requests("GET")[0].param("delimiter") == "/"


def test_list_containers_reads_the_account_listing(cloud, client):
    body = [
        {"count": 0, "bytes": 0, "name": "janeausten"},
        {"count": 1, "bytes": 14, "name": "marktwain"},
    ]
    cloud.on("GET", SWIFT_PATH, Reply(json=body))

    containers = list(client.objects.list_containers(prefix="j"))

    assert [(c.name, c.count, c.bytes) for c in containers] == [
        ("janeausten", 0, 0),
        ("marktwain", 1, 14),
    ]
    assert cloud.requests("GET")[0].param("prefix") == "j"


def test_an_empty_listing_answered_with_204_is_empty(cloud, client):
    cloud.on("GET", SWIFT_PATH, Reply(204))

    assert list(client.objects.list_containers()) == []


def test_get_object_streams_its_body_in_chunks(cloud, client):
    body = bytes(range(256)) * 1000
    headers = {"ETag": "abc", "Content-Type": "application/x-vhd", "X-Object-Meta-Origin": "dfw"}
    cloud.on("GET", f"{SWIFT_PATH}/exports/a.vhd", Reply(body=body, headers=headers))

    with client.objects.get_object("exports", "a.vhd") as download:
        chunks = list(download.iter_content(10_000))

    assert b"".join(chunks) == body
    assert max(len(c) for c in chunks) <= 10_000
    assert download.metadata.content_length == len(body)
    assert download.metadata.etag == "abc"
    assert download.metadata.metadata == {"origin": "dfw"}


def test_head_object_reads_its_headers(cloud, client):
    headers = {
        "Content-Length": "14",
        "ETag": '"451e372e48e0f6b1114fa0724aa79fa1"',
        "Content-Type": "text/plain",
        "Last-Modified": "Wed, 15 Jan 2014 16:41:49 GMT",
        "X-Object-Meta-Sdk-Md5": "451e",
    }
    cloud.on("HEAD", f"{SWIFT_PATH}/exports/goodbye", Reply(headers=headers))

    meta = client.objects.head_object("exports", "goodbye")

    assert (meta.content_length, meta.etag, meta.content_type) == (
        14,
        "451e372e48e0f6b1114fa0724aa79fa1",
        "text/plain",
    )
    assert meta.last_modified.year == 2014
    assert meta.metadata == {"sdk-md5": "451e"}


def test_head_container_reads_counts(cloud, client):
    headers = {"X-Container-Object-Count": "3", "X-Container-Bytes-Used": "42"}
    cloud.on("HEAD", f"{SWIFT_PATH}/exports", Reply(204, headers=headers))

    info = client.objects.head_container("exports")

    assert (info.object_count, info.bytes_used) == (3, 42)


def test_deleting_a_container_that_holds_objects_is_a_conflict(cloud, client):
    refusal = "There was a conflict when trying to complete your request."
    cloud.on("DELETE", f"{SWIFT_PATH}/exports", Reply(409, body=refusal))

    with pytest.raises(Conflict, match="conflict"):
        client.objects.delete_container("exports")


def test_delete_object_sends_delete(cloud, client):
    cloud.on("DELETE", f"{SWIFT_PATH}/exports/a%20b.vhd", Reply(204))

    client.objects.delete_object("exports", "a b.vhd")

    [delete] = cloud.requests("DELETE")
    assert delete.param("multipart-manifest") == "delete"


def test_empty_names_are_refused_before_any_request(client):
    with pytest.raises(ValueError, match="object name"):
        client.objects.head_object("c", "")


def test_a_file_like_body_is_read_in_chunks_not_at_once(cloud, client):
    cloud.on("PUT", f"{SWIFT_PATH}/exports/f.vhd", handler=stored)
    reads = []

    class Recording(io.BytesIO):
        def read(self, size=-1):
            reads.append(size)
            return super().read(size)

    client.objects.put_object("exports", "f.vhd", Recording(b"x" * 200_000), content_length=200_000)

    assert cloud.requests("PUT")[0].body == b"x" * 200_000
    assert -1 not in reads
    assert len(reads) > 1


@pytest.mark.parametrize("container", [".", ".."])
def test_a_dot_container_is_refused_before_any_request_names_the_wrong_place(
    cloud, client, container
):
    with pytest.raises(ValueError, match="cannot be named"):
        client.objects.put_object(container, "web.vhd", b"abc")
    assert [r for r in cloud.received if r.method == "PUT"] == []
