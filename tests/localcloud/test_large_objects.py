"""Large objects in the built-in Object Storage over real HTTP: the size limit, /info,
static large objects (manifests, reads across segments, deletes, copies) and DLOs."""

from __future__ import annotations

import hashlib
import json

import pytest
import requests

pytestmark = pytest.mark.usefixtures("fast_hashing")

SEGMENTS = {"a": b"0123456789", "b": b"abcdefghij", "c": b"KLMNO"}
WHOLE = b"".join(SEGMENTS.values())


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def slo_etag(*parts: bytes) -> str:
    return md5("".join(md5(part) for part in parts).encode())


def manifest_of(container: str = "segs", names=SEGMENTS) -> list[dict]:
    return [
        {"path": f"/{container}/{name}", "etag": md5(data), "size_bytes": len(data)}
        for name, data in names.items()
    ]


@pytest.fixture
def segments(cloud, base):
    """Containers ``docs`` and ``segs``, with the three SEGMENTS in ``segs``."""
    for container in ("docs", "segs"):
        assert cloud.put(f"{base}/{container}").status_code in {201, 202}
    for name, data in SEGMENTS.items():
        assert cloud.put(f"{base}/segs/{name}", data=data).status_code == 201
    return SEGMENTS


@pytest.fixture
def large(cloud, base, segments):
    """``docs/large``: a static large object of the three segments."""
    response = cloud.put(
        f"{base}/docs/large",
        params={"multipart-manifest": "put"},
        data=json.dumps(manifest_of()),
        headers={"Content-Type": "application/x-test"},
    )
    assert response.status_code == 201, response.text
    return f"{base}/docs/large"


def put_manifest(cloud, base, body, *, accept="text/plain", name="docs/large"):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return cloud.put(
        f"{base}/{name}",
        params={"multipart-manifest": "put"},
        data=data,
        headers={"Accept": accept},
    )


# --- The size limit and /info ---------------------------------------------------------------


def test_info_reports_the_limits_without_a_token(anonymous_cloud, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * 1024**2

    response = anonymous_cloud.get("object/info")

    assert response.status_code == 200
    info = response.json()
    assert info["swift"]["max_file_size"] == 8 * 1024**2
    assert info["swift"]["max_object_name_length"] == 1024
    assert info["swift"]["container_listing_limit"] == 10_000
    assert info["slo"] == {
        "max_manifest_segments": 1000,
        "max_manifest_size": 8 * 1024**2,
        "min_segment_size": 1,
    }


def test_an_upload_larger_than_the_limit_is_a_413_and_stores_nothing(cloud, base, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 1024
    cloud.put(f"{base}/docs")

    refused = cloud.put(f"{base}/docs/big", data=b"x" * 1025)
    accepted = cloud.put(f"{base}/docs/fits", data=b"x" * 1024)

    assert refused.status_code == 413
    assert refused.json()["message"] == "Your request is too large."
    assert cloud.head(f"{base}/docs/big").status_code == 404
    assert accepted.status_code == 201


@pytest.fixture(scope="module")
def gunicorn_environment():
    return {"LOCALCLOUD_MAX_OBJECT_SIZE": str(1024 * 1024)}


def test_under_gunicorn_a_chunked_body_growing_past_the_limit_is_a_413(gunicorn, base):
    gunicorn.request("PUT", f"{base}/docs")
    chunks = iter([b"x" * 600_000, b"y" * 600_000])

    status, body = gunicorn.request("PUT", f"{base}/docs/grown", chunks)

    assert status == 413
    assert b"Your request is too large." in body
    assert gunicorn.request("GET", f"{base}/docs/grown")[0] == 404
    assert not [path for path in (gunicorn.store_dir / "blobs").rglob("*") if path.is_file()]


# --- Static large objects: writing and reading -----------------------------------------------


def test_a_manifest_reads_back_as_its_segments_one_after_the_other(cloud, base, large):
    response = cloud.get(large)
    head = cloud.head(large)

    assert response.content == WHOLE
    for answer in (response, head):
        assert answer.headers["Content-Length"] == str(len(WHOLE))
        assert answer.headers["ETag"] == f'"{slo_etag(*SEGMENTS.values())}"'
        assert answer.headers["X-Static-Large-Object"] == "True"
        assert answer.headers["Content-Type"] == "application/x-test"


def test_the_manifest_put_answers_the_quoted_md5_of_the_segment_etags(cloud, base, segments):
    response = put_manifest(cloud, base, manifest_of())

    assert response.status_code == 201
    assert response.headers["ETag"] == f'"{slo_etag(*SEGMENTS.values())}"'


def test_etag_and_size_may_be_left_out_of_the_manifest(cloud, base, segments):
    manifest = [{"path": "/segs/a", "etag": None, "size_bytes": None}, {"path": "segs/b"}]

    response = put_manifest(cloud, base, manifest)

    assert response.status_code == 201, response.text
    assert cloud.get(f"{base}/docs/large").content == SEGMENTS["a"] + SEGMENTS["b"]


def test_the_listing_shows_the_whole_size_and_bytes_used_count_segments_once(cloud, base, large):
    entries = cloud.get(f"{base}/docs", params={"format": "json"}).json()
    docs = cloud.head(f"{base}/docs")
    account = cloud.head(base)

    assert entries == [
        {
            "name": "large",
            "bytes": len(WHOLE),
            "hash": slo_etag(*SEGMENTS.values()),
            "slo_etag": f'"{slo_etag(*SEGMENTS.values())}"',
            "content_type": "application/x-test",
            "last_modified": entries[0]["last_modified"],
        }
    ]
    assert docs.headers["X-Container-Object-Count"] == "1"
    assert docs.headers["X-Container-Bytes-Used"] == "0"
    assert account.headers["X-Account-Bytes-Used"] == str(len(WHOLE))


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=3-11", 3, 11), ("bytes=9-10", 9, 10), ("bytes=-7", 18, 24), ("bytes=20-", 20, 24)],
)
def test_a_range_is_served_across_segment_boundaries(cloud, large, header, first, last):
    response = cloud.get(large, headers={"Range": header})

    assert response.status_code == 206
    assert response.content == WHOLE[first : last + 1]
    assert response.headers["Content-Range"] == f"bytes {first}-{last}/{len(WHOLE)}"
    assert response.headers["Content-Length"] == str(last - first + 1)


def test_a_range_past_the_end_is_a_416(cloud, large):
    response = cloud.get(large, headers={"Range": "bytes=25-30"})

    assert response.status_code == 416
    assert response.headers["Content-Range"] == f"bytes */{len(WHOLE)}"


def test_multipart_manifest_get_returns_the_stored_manifest(cloud, large):
    response = cloud.get(large, params={"multipart-manifest": "get"})

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["X-Static-Large-Object"] == "True"
    stored = response.json()
    assert [(s["name"], s["hash"], s["bytes"]) for s in stored] == [
        (f"/segs/{name}", md5(data), len(data)) for name, data in SEGMENTS.items()
    ]
    assert all(s["content_type"] for s in stored)
    assert all(s["last_modified"] for s in stored)


def test_a_deleted_segment_makes_the_download_a_409(cloud, base, large):
    cloud.delete(f"{base}/segs/b")

    assert cloud.get(large).status_code == 409
    assert cloud.get(large, headers={"Range": "bytes=0-9"}).status_code == 206  # only a
    assert cloud.head(large).status_code == 200


def test_a_replaced_segment_makes_the_download_a_409(cloud, base, large):
    cloud.put(f"{base}/segs/c", data=b"other")  # same size, other bytes

    assert cloud.get(large).status_code == 409


def test_a_segment_replaced_while_it_streams_cuts_the_download_short(cloud, base):
    """Swift drops the connection; the client must not take what it got for the object."""
    first, second = b"f" * (8 * 1024 * 1024), b"s" * 1024
    cloud.put(f"{base}/segs")
    cloud.put(f"{base}/docs")
    cloud.put(f"{base}/segs/1", data=first)
    cloud.put(f"{base}/segs/2", data=second)
    put_manifest(cloud, base, [{"path": "/segs/1"}, {"path": "/segs/2"}])

    with cloud.get(f"{base}/docs/large", stream=True) as response:
        assert response.status_code == 200
        received = response.raw.read(64 * 1024)
        cloud.put(f"{base}/segs/2", data=b"S" * 1024)
        with pytest.raises(requests.exceptions.RequestException):
            for chunk in response.iter_content(1024 * 1024):
                received += chunk
    assert len(received) < len(first) + len(second)


def test_a_manifest_of_the_most_segments_allowed_reads_back_whole(cloud, base, account, put_object):
    pieces = [f"{index:04d}".encode() for index in range(1000)]
    for index, piece in enumerate(pieces):
        put_object(account, f"many/{index:04d}", piece)
    put_object(account, "docs", b"")

    created = put_manifest(cloud, base, [{"path": f"/many/{i:04d}"} for i in range(1000)])
    response = cloud.get(f"{base}/docs/large")

    assert created.status_code == 201, created.text
    assert response.content == b"".join(pieces)
    assert response.headers["ETag"] == f'"{slo_etag(*pieces)}"'


def test_one_segment_may_appear_twice(cloud, base, segments):
    put_manifest(cloud, base, [{"path": "/segs/c"}, {"path": "/segs/a"}, {"path": "/segs/c"}])

    response = cloud.get(f"{base}/docs/large")

    assert response.content == SEGMENTS["c"] + SEGMENTS["a"] + SEGMENTS["c"]


def test_a_plain_object_can_replace_a_manifest(cloud, base, large):
    cloud.put(large, data=b"plain")

    response = cloud.get(large)

    assert response.content == b"plain"
    assert "X-Static-Large-Object" not in response.headers
    assert response.headers["ETag"] == md5(b"plain")


def test_new_metadata_keeps_a_manifest_large(cloud, large):
    assert cloud.post(large, headers={"X-Object-Meta-Color": "blue"}).status_code == 202

    head = cloud.head(large)

    assert head.headers["X-Object-Meta-Color"] == "blue"
    assert head.headers["X-Static-Large-Object"] == "True"


# --- Static large objects: manifests refused -----------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Manifest must be valid JSON."),
        (b"[" * 100_000 + b"]" * 100_000, "Manifest must be valid JSON."),
        (b"\xff\xfe", "Manifest must be valid JSON."),
        ({"path": "/segs/a"}, "Manifest must be a list."),
        ([], "Manifest must list at least one segment."),
        (["/segs/a"], "Index 0: not a JSON object"),
        ([{"etag": None}], "Index 0: expected keys to include one of 'path'"),
        ([{"path": "/segs/a", "range": "0-1"}], 'Index 0: extraneous keys "range"'),
        ([{"path": 7}], 'Index 0: "path" must be a string'),
        ([{"path": "/segs/a", "etag": 5}], 'Index 0: "etag" must be a string or null'),
        ([{"path": "/segs"}], "Index 0: path does not refer to an object."),
        ([{"path": "/segs/a", "size_bytes": "ten"}], "Index 0: invalid size_bytes"),
        ([{"path": "/segs/a", "size_bytes": True}], "Index 0: invalid size_bytes"),
        (
            [{"path": "/segs/a", "size_bytes": 0}, {"path": "/segs/b"}],
            "Index 0: too small; each segment must be at least 1 byte.",
        ),
        ([{"path": "/docs/large"}], "Index 0: manifest must not include itself as a segment"),
        ([{"path": "/segs/a\u0000"}], "Index 0: Object name contains a NUL character."),
        (
            [{"path": "/segs/a"}, {"path": "/segs/" + "n" * 1025}],
            "Index 1: Object name length of 1025 longer than 1024",
        ),
    ],
)
@pytest.mark.usefixtures("garbage_collected")
def test_a_malformed_manifest_is_a_400_that_says_why(cloud, base, segments, body, message):
    response = put_manifest(cloud, base, body)

    assert response.status_code == 400
    assert message in response.json()["message"]
    assert cloud.head(f"{base}/docs/large").status_code == 404


def test_every_bad_item_is_reported_with_its_index(cloud, base, segments):
    response = put_manifest(cloud, base, [{"path": "/segs/a"}, 5, {"path": "x"}])

    assert response.json()["message"].splitlines() == [
        "Index 1: not a JSON object",
        "Index 2: path does not refer to an object. Path must be of the form /container/object.",
    ]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"etag": md5(b"other")}, "Etag Mismatch"),
        ({"size_bytes": 11}, "Size Mismatch"),
        ({"path": "/elsewhere/b"}, "404 Not Found"),
        ({"path": "/segs/missing"}, "404 Not Found"),
    ],
)
def test_a_segment_that_does_not_match_is_a_400_listing_it(cloud, base, segments, change, problem):
    manifest = manifest_of()
    manifest[1].update(change)
    path = manifest[1]["path"]

    text = put_manifest(cloud, base, manifest)
    as_json = put_manifest(cloud, base, manifest, accept="application/json")

    assert text.status_code == 400
    assert text.headers["Content-Type"].startswith("text/plain")
    assert text.text == f"Errors:\n{path}, {problem}\n"
    assert as_json.status_code == 400
    assert as_json.json() == {"Errors": [[path, problem]]}
    assert cloud.head(f"{base}/docs/large").status_code == 404


def test_all_problems_are_listed_together(cloud, base, segments):
    manifest = manifest_of()
    manifest[0]["etag"] = "0" * 32
    manifest[2]["size_bytes"] = 1

    response = put_manifest(cloud, base, manifest)

    assert response.text == "Errors:\n/segs/a, Etag Mismatch\n/segs/c, Size Mismatch\n"


def test_segments_smaller_than_the_minimum_are_refused_but_the_last(
    cloud, base, segments, settings
):
    settings.LOCALCLOUD_SLO_MIN_SEGMENT_SIZE = 10

    refused = put_manifest(cloud, base, [{"path": "/segs/c"}, {"path": "/segs/a"}])
    accepted = put_manifest(cloud, base, [{"path": "/segs/a"}, {"path": "/segs/c"}])

    assert refused.text == "Errors:\n/segs/c, Too small; each segment must be at least 10 bytes.\n"
    assert accepted.status_code == 201


def test_a_large_object_cannot_be_a_segment(cloud, base, large):
    response = put_manifest(cloud, base, [{"path": "/docs/large"}], name="docs/outer")

    assert response.status_code == 400
    assert "/docs/large, Segments may not be large objects themselves." in response.text


def test_too_many_segments_is_a_413(cloud, base, segments, settings):
    settings.LOCALCLOUD_SLO_MAX_MANIFEST_SEGMENTS = 2

    response = put_manifest(cloud, base, manifest_of())

    assert response.status_code == 413
    assert response.json()["message"] == "Number of object-backed segments must be <= 2"


def test_a_manifest_body_over_the_limit_is_a_413(cloud, base, segments, settings):
    settings.LOCALCLOUD_SLO_MAX_MANIFEST_SIZE = 100

    response = put_manifest(cloud, base, manifest_of())

    assert response.status_code == 413
    assert response.json()["message"] == "Manifest File > 100 bytes"


def test_an_etag_sent_with_the_manifest_must_be_that_of_the_segments(cloud, base, segments):
    wrong = cloud.put(
        f"{base}/docs/large",
        params={"multipart-manifest": "put"},
        data=json.dumps(manifest_of()),
        headers={"ETag": md5(b"nope")},
    )
    right = cloud.put(
        f"{base}/docs/large",
        params={"multipart-manifest": "put"},
        data=json.dumps(manifest_of()),
        headers={"ETag": slo_etag(*SEGMENTS.values())},
    )

    assert wrong.status_code == 422
    assert right.status_code == 201


# --- Static large objects: deleting and copying ----------------------------------------------


def test_multipart_manifest_delete_removes_the_manifest_and_its_segments(cloud, base, large):
    response = cloud.delete(large, params={"multipart-manifest": "delete"})

    assert response.status_code == 200
    assert response.json() == {
        "Number Deleted": 4,
        "Number Not Found": 0,
        "Response Status": "200 OK",
        "Response Body": "",
        "Errors": [],
    }
    assert cloud.head(large).status_code == 404
    assert cloud.get(f"{base}/segs", params={"format": "json"}).json() == []


def test_the_delete_report_is_text_unless_json_is_asked_for(cloud, base, large):
    cloud.delete(f"{base}/segs/a")

    response = cloud.delete(
        large, params={"multipart-manifest": "delete"}, headers={"Accept": "*/*"}
    )

    assert response.status_code == 200
    assert response.text == (
        "Number Deleted: 3\nNumber Not Found: 1\nResponse Body: \n"
        "Response Status: 200 OK\nErrors:\n"
    )


def test_multipart_manifest_delete_of_a_plain_object_deletes_it(cloud, base, segments):
    response = cloud.delete(f"{base}/segs/a", params={"multipart-manifest": "delete"})

    assert response.status_code == 204
    assert cloud.head(f"{base}/segs/a").status_code == 404
    assert (
        cloud.delete(f"{base}/segs/a", params={"multipart-manifest": "delete"}).status_code == 404
    )


def test_a_plain_delete_of_a_manifest_leaves_its_segments(cloud, base, large):
    assert cloud.delete(large).status_code == 204

    assert cloud.head(large).status_code == 404
    assert len(cloud.get(f"{base}/segs", params={"format": "json"}).json()) == 3


def test_a_copy_of_a_manifest_is_a_plain_object_of_its_bytes(cloud, base, large):
    response = cloud.put(f"{base}/docs/copy", headers={"X-Copy-From": "/docs/large"})

    copy = cloud.get(f"{base}/docs/copy")
    assert response.status_code == 201
    assert copy.content == WHOLE
    assert copy.headers["ETag"] == md5(WHOLE)
    assert "X-Static-Large-Object" not in copy.headers


def test_a_copy_of_the_manifest_itself_is_a_second_manifest(cloud, base, large):
    response = cloud.put(
        f"{base}/docs/copy",
        params={"multipart-manifest": "get"},
        headers={"X-Copy-From": "/docs/large"},
    )

    copy = cloud.get(f"{base}/docs/copy")
    assert response.status_code == 201
    assert copy.content == WHOLE
    assert copy.headers["X-Static-Large-Object"] == "True"


def test_a_copy_larger_than_one_object_may_be_is_a_413(cloud, base, large, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = len(WHOLE) - 1

    response = cloud.put(f"{base}/docs/copy", headers={"X-Copy-From": "/docs/large"})

    assert response.status_code == 413
    assert cloud.head(f"{base}/docs/copy").status_code == 404


def test_a_copy_of_a_manifest_with_a_segment_gone_is_a_409(cloud, base, large):
    cloud.delete(f"{base}/segs/c")

    response = cloud.put(f"{base}/docs/copy", headers={"X-Copy-From": "/docs/large"})

    assert response.status_code == 409
    assert cloud.head(f"{base}/docs/copy").status_code == 404


def test_a_manifest_put_cannot_be_a_copy(cloud, base, large):
    response = cloud.put(
        f"{base}/docs/other",
        params={"multipart-manifest": "put"},
        headers={"X-Copy-From": "/docs/large"},
    )

    assert response.status_code == 405


# --- Dynamic large objects ---------------------------------------------------------------------


def test_a_dynamic_large_object_reads_the_objects_under_its_prefix_in_name_order(
    cloud, base, segments
):
    cloud.put(f"{base}/segs/z-not-included", data=b"???")
    created = cloud.put(f"{base}/docs/dynamic", data=b"", headers={"X-Object-Manifest": "segs/"})
    cloud.delete(f"{base}/segs/z-not-included")
    cloud.put(f"{base}/segs/0-first", data=b"<")

    response = cloud.get(f"{base}/docs/dynamic")
    head = cloud.head(f"{base}/docs/dynamic")
    ranged = cloud.get(f"{base}/docs/dynamic", headers={"Range": "bytes=9-12"})

    assert created.status_code == 201
    whole = b"<" + WHOLE
    assert response.content == whole
    assert head.headers["Content-Length"] == str(len(whole))
    assert head.headers["X-Object-Manifest"] == "segs/"
    assert head.headers["ETag"] == f'"{slo_etag(b"<", *SEGMENTS.values())}"'
    assert ranged.content == whole[9:13]


def test_a_dynamic_large_object_with_a_prefix_reads_only_that_prefix(cloud, base, segments):
    cloud.put(f"{base}/docs/dynamic", data=b"", headers={"X-Object-Manifest": "segs/b"})

    assert cloud.get(f"{base}/docs/dynamic").content == SEGMENTS["b"]
    assert cloud.get(f"{base}/docs/dynamic", params={"multipart-manifest": "get"}).content == b""


def test_an_object_manifest_without_a_container_is_a_400(cloud, base, segments):
    response = cloud.put(f"{base}/docs/dynamic", data=b"", headers={"X-Object-Manifest": "segs"})

    assert response.status_code == 400
    assert cloud.head(f"{base}/docs/dynamic").status_code == 404
