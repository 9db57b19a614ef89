"""Static large objects against a scripted Swift on 127.0.0.1: limits read from whatever
``/info`` answers, segment naming and planning, uploads cut into segments and joined by a
manifest, and manifest deletes whose bulk report lists errors."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote

import pytest

from imagetasks.openstack import BadRequest, CloudError, MalformedResponse, NotFound
from imagetasks.openstack.errors import Unprocessable
from imagetasks.openstack.largeobjects import (
    DEFAULT_LIMITS,
    LARGEST,
    Segment,
    SegmentRef,
    StoreLimits,
    choose_segment_size,
    info_url,
    plan_segments,
    segment_name,
    segment_prefix,
    segments_container,
)
from tests.openstack.samples import SWIFT_PATH
from tests.openstack.scripted import Received, Reply, ScriptedCloud

INFO_PATH = "/swift/info"
SEGMENTS_PATH = f"{SWIFT_PATH}/exports_segments"
MANIFEST_PATH = f"{SWIFT_PATH}/exports/big.vhd"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()  # noqa: S324


def info(max_file_size: int = 8, min_segment_size: int = 1, **slo: object) -> Reply:
    return Reply(
        json={
            "swift": {"max_file_size": max_file_size, "version": "2.34.0"},
            "slo": {"max_manifest_segments": 1000, "min_segment_size": min_segment_size, **slo},
        }
    )


class Segments:
    """The segments container of ``exports`` as a scripted Swift keeps it: PUTs stored
    (answered with their MD5, or with ``wrong_etag``), listed, deleted."""

    def __init__(self, cloud: ScriptedCloud, prefix: str, count: int):
        self.stored: dict[str, bytes] = {}
        self.wrong_etag: str | None = None
        self.prefix = prefix
        cloud.on("PUT", SEGMENTS_PATH, Reply(201))
        cloud.on("GET", SEGMENTS_PATH, handler=self.listing)
        for index in range(count):
            name = segment_name(prefix, index)
            path = f"{SEGMENTS_PATH}/{quote(name)}"
            cloud.on("PUT", path, handler=lambda r, name=name: self.put(name, r))
            cloud.on("DELETE", path, handler=lambda r, name=name: self.delete(name))

    def put(self, name: str, request: Received) -> Reply:
        self.stored[name] = request.body
        return Reply(201, headers={"ETag": self.wrong_etag or md5(request.body)})

    def delete(self, name: str) -> Reply:
        return Reply(204) if self.stored.pop(name, None) is not None else Reply(404)

    def listing(self, request: Received) -> Reply:
        names = sorted(n for n in self.stored if n.startswith(request.param("prefix") or ""))
        return Reply(
            json=[
                {"name": n, "bytes": len(self.stored[n]), "hash": md5(self.stored[n])}
                for n in names
            ]
        )


def manifest_stored(request: Received) -> Reply:
    etags = "".join(entry["etag"] for entry in request.json())
    return Reply(201, headers={"ETag": f'"{md5(etags.encode())}"'})


# Limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("http://h:8080/v1/AUTH_x", "http://h:8080/info"),
        ("https://h/localcloud/object/v1/AUTH_x", "https://h/localcloud/object/info"),
        ("https://h/swift/v1", "https://h/swift/info"),
        (
            "https://storage101.dfw1.clouddrive.com/v1/MossoCloudFS_1",
            "https://storage101.dfw1.clouddrive.com/info",
        ),
        ("https://h/objects/AUTH_x", "https://h/info"),
    ],
)
def test_the_info_url_replaces_the_v1_part_of_the_account_url(account, expected):
    assert info_url(account) == expected


def test_limits_are_read_from_info_once(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=8_388_608, min_segment_size=1_048_576))

    first = client.objects.limits()
    again = client.objects.limits()

    assert first == again == StoreLimits(8_388_608, 1000, 8_388_608, 1_048_576, slo=True)
    assert len(cloud.requests("GET", INFO_PATH)) == 1


HOSTILE_INFO = {
    "refused": Reply(403, body="Forbidden"),
    "server error": Reply(500, body="oops"),
    "not json": Reply(body="<html>Swift</html>"),
    "a json array": Reply(json=[1, 2, 3]),
    "sections of the wrong type": Reply(json={"swift": [], "slo": "yes"}),
    "numbers as strings": Reply(json={"swift": {"max_file_size": "5368709122"}, "slo": {}}),
    "booleans and floats": Reply(
        json={"swift": {"max_file_size": True}, "slo": {"max_manifest_segments": 2.5}}
    ),
    "zero and negatives": Reply(
        json={"swift": {"max_file_size": 0}, "slo": {"min_segment_size": -1}}
    ),
    "a number of 5000 digits": Reply(body='{"swift": {"max_file_size": ' + "9" * 5000 + "}}"),
    "nested too deep": Reply(body="[" * 100_000),
    "a body of many megabytes": Reply(body=b'{"swift": {"x": "' + b"a" * 3_000_000 + b'"}}'),
}


@pytest.mark.parametrize("reply", HOSTILE_INFO.values(), ids=HOSTILE_INFO.keys())
@pytest.mark.usefixtures("garbage_collected")
def test_an_info_that_says_nothing_usable_means_swifts_defaults(cloud, client, reply):
    cloud.on("GET", INFO_PATH, reply)

    limits = client.objects.limits()

    assert limits.max_file_size == DEFAULT_LIMITS.max_file_size
    assert limits.max_manifest_segments == DEFAULT_LIMITS.max_manifest_segments
    assert limits.min_segment_size == DEFAULT_LIMITS.min_segment_size


def test_huge_numbers_in_info_are_capped_and_a_minimum_above_the_maximum_is_the_maximum(
    cloud, client
):
    huge = 10**40
    body = {"swift": {"max_file_size": huge}, "slo": {"min_segment_size": huge * 10}}
    cloud.on("GET", INFO_PATH, Reply(json=body))

    limits = client.objects.limits()

    assert limits.max_file_size == LARGEST
    assert limits.min_segment_size == LARGEST
    assert choose_segment_size(20 * 2**30, 2**30, limits) == LARGEST


def test_an_info_without_an_slo_section_means_no_large_objects(cloud, client):
    cloud.on("GET", INFO_PATH, Reply(json={"swift": {"max_file_size": 10}}))

    assert client.objects.limits().slo is False


def test_an_unreachable_info_means_defaults_and_is_asked_again(cloud, client, unused_port):
    client.objects.root  # noqa: B018 - the account URL as signed in, before it is pointed away
    client.objects.__dict__["root"] = f"http://127.0.0.1:{unused_port}/v1/AUTH_x"

    assert client.objects.limits() == DEFAULT_LIMITS
    assert client.objects._limits is None


# Naming and planning --------------------------------------------------------------------


def test_segments_are_named_as_swiftclient_names_them():
    prefix = segment_prefix("images/disk 1.vhd", "1700000000.000000", 20, 8)

    assert segments_container("exports") == "exports_segments"
    assert prefix == "images/disk 1.vhd/slo/1700000000.000000/20/8/"
    assert segment_name(prefix, 2) == "images/disk 1.vhd/slo/1700000000.000000/20/8/00000002"


def test_a_plan_cuts_every_segment_size_with_a_shorter_last_segment():
    assert plan_segments(20, 8) == [Segment(0, 0, 8), Segment(1, 8, 8), Segment(2, 16, 4)]
    assert plan_segments(16, 8) == [Segment(0, 0, 8), Segment(1, 8, 8)]
    assert plan_segments(0, 8) == []
    with pytest.raises(ValueError, match="positive"):
        plan_segments(10, 0)


def test_the_segment_size_chosen_obeys_the_stores_limits():
    limits = StoreLimits(100, 4, 8_388_608, 10, slo=True)

    assert choose_segment_size(50, 20, limits) == 20
    assert choose_segment_size(40, 5, limits) == 10  # raised to the minimum
    assert choose_segment_size(350, 500, limits) == 100  # lowered to the largest object
    assert choose_segment_size(390, 20, limits) == 98  # raised to stay within 4 segments
    with pytest.raises(ValueError, match="do not fit"):
        choose_segment_size(401, 20, limits)


# Uploads ------------------------------------------------------------------------------


def test_an_upload_within_the_segment_size_is_one_put(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    cloud.on("PUT", MANIFEST_PATH, handler=lambda r: Reply(201, headers={"ETag": md5(r.body)}))
    seen = []

    etag = client.objects.upload(
        "exports", "big.vhd", iter([b"abc", b"def"]), 6, segment_size=8, on_progress=seen.append
    )

    [put] = cloud.requests("PUT")
    assert (put.body, put.param("multipart-manifest")) == (b"abcdef", None)
    assert put.headers["Content-Length"] == "6"
    assert etag == md5(b"abcdef")
    assert seen[-1] == 6


def test_an_upload_above_the_segment_size_is_segments_and_a_manifest(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    cloud.on("PUT", MANIFEST_PATH, handler=manifest_stored)
    data = bytes(range(20))
    seen = []

    etag = client.objects.upload(
        "exports",
        "big.vhd",
        iter([data[:3], data[3:13], data[13:]]),  # chunks across the segment boundaries
        20,
        segment_size=8,
        mtime="v1",
        on_progress=seen.append,
        content_type="application/x-vhd",
    )

    assert segments.stored == {
        segment_name(prefix, 0): data[:8],
        segment_name(prefix, 1): data[8:16],
        segment_name(prefix, 2): data[16:],
    }
    [manifest] = cloud.requests("PUT", MANIFEST_PATH)
    assert manifest.param("multipart-manifest") == "put"
    assert manifest.headers["Content-Type"] == "application/x-vhd"
    assert manifest.json() == [
        {
            "path": f"/exports_segments/{segment_name(prefix, i)}",
            "etag": md5(part),
            "size_bytes": len(part),
        }
        for i, part in enumerate([data[:8], data[8:16], data[16:]])
    ]
    etags = "".join(md5(part) for part in [data[:8], data[8:16], data[16:]])
    assert etag == md5(etags.encode())
    assert seen[-1] == 20
    assert len(cloud.requests("PUT", SEGMENTS_PATH)) == 1  # the segments container


def replaced_manifest(cloud: ScriptedCloud, manifest: Reply) -> None:
    """``exports/big.vhd`` is a static large object whose manifest reads as ``manifest``."""
    cloud.on("HEAD", MANIFEST_PATH, Reply(headers={"X-Static-Large-Object": "True"}))
    cloud.on(
        "GET",
        MANIFEST_PATH,
        handler=lambda r: manifest if r.param("multipart-manifest") == "get" else Reply(400),
    )
    cloud.on("PUT", MANIFEST_PATH, handler=lambda r: Reply(201, headers={"ETag": md5(r.body)}))


def test_an_upload_over_a_large_object_deletes_its_segments_wherever_they_are(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    old = [{"name": "/exports_segments/big.vhd/slo/v0/20/8/00000000", "hash": "a" * 32,
            "bytes": 8}, {"name": "/elsewhere/part 1", "hash": "b" * 32, "bytes": 12}]  # fmt: skip
    replaced_manifest(cloud, Reply(json=old))
    cloud.on("DELETE", f"{SEGMENTS_PATH}/big.vhd/slo/v0/20/8/00000000", Reply(204))
    cloud.on("DELETE", f"{SWIFT_PATH}/elsewhere/part%201", Reply(404))

    etag = client.objects.upload("exports", "big.vhd", b"abcdef", 6, segment_size=8)

    assert etag == md5(b"abcdef")
    assert [(r.method, r.path) for r in cloud.requests("DELETE")] == [
        ("DELETE", f"{SWIFT_PATH}/elsewhere/part%201"),
        ("DELETE", f"{SEGMENTS_PATH}/big.vhd/slo/v0/20/8/00000000"),
    ]


@pytest.mark.parametrize(
    "manifest",
    [Reply(body="not json"), Reply(json={"name": "x"}), Reply(json=[{"hash": "a"}]), Reply(500)],
)
def test_an_unreadable_manifest_of_the_replaced_object_deletes_nothing(cloud, client, manifest):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    replaced_manifest(cloud, manifest)

    etag = client.objects.upload("exports", "big.vhd", b"abcdef", 6, segment_size=8)

    assert etag == md5(b"abcdef")
    assert cloud.requests("DELETE") == []


def test_a_segment_of_the_replaced_object_the_store_will_not_delete_is_left(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    replaced_manifest(cloud, Reply(json=[{"name": "/exports_segments/old/0", "bytes": 8}]))
    cloud.on("DELETE", f"{SEGMENTS_PATH}/old/0", Reply(409, body="Conflict"))

    etag = client.objects.upload("exports", "big.vhd", b"abcdef", 6, segment_size=8)

    assert etag == md5(b"abcdef")
    assert len(cloud.requests("DELETE")) == 1


def test_an_upload_above_the_largest_object_is_cut_even_with_a_bigger_segment_size(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=8))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    cloud.on("PUT", MANIFEST_PATH, handler=manifest_stored)

    client.objects.upload("exports", "big.vhd", b"x" * 20, 20, segment_size=1000, mtime="v1")

    assert len(segments.stored) == 3


def test_an_upload_again_sends_only_the_segments_not_stored_with_the_same_md5(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    cloud.on("PUT", MANIFEST_PATH, handler=manifest_stored)
    data = bytes(range(20))
    segments.stored[segment_name(prefix, 0)] = data[:8]  # the same bytes
    segments.stored[segment_name(prefix, 1)] = b"X" * 8  # same size, other bytes

    client.objects.upload("exports", "big.vhd", data, 20, segment_size=8, mtime="v1")

    sent = [r.path.rsplit("/", 1)[1] for r in cloud.requests("PUT") if "/slo/" in r.path]
    assert sent == ["00000001", "00000002"]
    assert segments.stored[segment_name(prefix, 1)] == data[8:16]


def test_a_body_that_fails_mid_way_leaves_none_of_the_segments_it_wrote(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    earlier = b"e" * 8
    segments.stored[segment_name(prefix, 0)] = earlier  # from an earlier attempt: kept

    def body():
        yield earlier + b"a" * 8
        yield b"b" * 2
        raise OSError("the disk went away")

    with pytest.raises(Exception, match=r"disk went away|aborted|Connection"):
        client.objects.upload("exports", "big.vhd", body(), 20, segment_size=8, mtime="v1")

    assert segments.stored == {segment_name(prefix, 0): earlier}
    assert cloud.requests("PUT", MANIFEST_PATH) == []


def test_a_body_shorter_than_announced_fails_and_leaves_no_segment(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)

    with pytest.raises(ValueError, match="short"):
        client.objects.upload("exports", "big.vhd", b"x" * 12, 20, segment_size=8, mtime="v1")

    assert segments.stored == {}


def test_a_segment_stored_with_another_md5_is_deleted_and_the_upload_fails(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    segments.wrong_etag = "0" * 32

    with pytest.raises(Unprocessable, match="MD5"):
        client.objects.upload("exports", "big.vhd", b"x" * 20, 20, segment_size=8, mtime="v1")

    assert segments.stored == {}
    assert cloud.requests("PUT", MANIFEST_PATH) == []


def test_a_refused_manifest_raises_the_stores_list_and_removes_the_segments(cloud, client):
    cloud.on("GET", INFO_PATH, info(max_file_size=100))
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    segments = Segments(cloud, prefix, 3)
    problem = f"Errors:\n/exports_segments/{segment_name(prefix, 1)}, Etag Mismatch"
    cloud.on("PUT", MANIFEST_PATH, Reply(400, body=problem))

    with pytest.raises(BadRequest, match="Etag Mismatch"):
        client.objects.upload("exports", "big.vhd", b"x" * 20, 20, segment_size=8, mtime="v1")

    assert segments.stored == {}


def test_a_store_without_large_objects_takes_one_put_up_to_its_limit_and_refuses_more(
    cloud, client
):
    cloud.on("GET", INFO_PATH, Reply(json={"swift": {"max_file_size": 10}}))
    cloud.on("PUT", MANIFEST_PATH, handler=lambda r: Reply(201, headers={"ETag": md5(r.body)}))

    client.objects.upload("exports", "big.vhd", b"x" * 10, 10, segment_size=4)
    with pytest.raises(CloudError, match="no large objects"):
        client.objects.upload("exports", "big.vhd", b"x" * 11, 11, segment_size=4)

    assert [len(r.body) for r in cloud.requests("PUT")] == [10]


def test_put_segment_checks_the_md5_and_put_manifest_sends_the_refs(cloud, client):
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    Segments(cloud, prefix, 3)
    cloud.on("PUT", MANIFEST_PATH, handler=manifest_stored)

    etag = client.objects.put_segment("exports", prefix, 2, iter([b"abcd", b"efgh"]), 4)
    manifest_etag = client.objects.put_manifest(
        "exports", "big.vhd", [SegmentRef(f"/exports_segments/{prefix}00000002", etag, 4)]
    )

    assert etag == md5(b"abcd")
    assert manifest_etag == md5(etag.encode())
    assert client.objects.stored_segments("exports", prefix)[2].hash == etag


def test_stored_segments_ignores_other_names_and_a_missing_container(cloud, client):
    prefix = segment_prefix("big.vhd", "v1", 20, 8)
    entries = [
        {"name": f"{prefix}00000001", "bytes": 8, "hash": "a" * 32},
        {"name": f"{prefix}manifest", "bytes": 1, "hash": "b" * 32},
        {"name": f"{prefix}0001", "bytes": 1, "hash": "b" * 32},
    ]
    cloud.on("GET", SEGMENTS_PATH, Reply(json=entries))

    assert list(client.objects.stored_segments("exports", prefix)) == [1]
    assert client.objects.stored_segments("other", prefix) == {}


# Deletes ------------------------------------------------------------------------------


def report(**fields: object) -> dict:
    return {
        "Number Deleted": 4,
        "Number Not Found": 0,
        "Response Status": "200 OK",
        "Response Body": "",
        "Errors": [],
        **fields,
    }


def test_a_delete_asks_for_the_segments_to_go_too(cloud, client):
    cloud.on("DELETE", MANIFEST_PATH, Reply(json=report()))

    client.objects.delete_object("exports", "big.vhd")

    [delete] = cloud.requests("DELETE")
    assert delete.param("multipart-manifest") == "delete"
    assert delete.headers["Accept"] == "application/json"


def test_a_delete_whose_report_lists_errors_raises_them(cloud, client):
    errors = [["/exports_segments/big.vhd/slo/v1/20/8/00000001", "409 Conflict"]]
    body = report(**{"Response Status": "400 Bad Request", "Errors": errors})
    cloud.on("DELETE", MANIFEST_PATH, Reply(json=body))

    with pytest.raises(BadRequest, match="00000001: 409 Conflict") as raised:
        client.objects.delete_object("exports", "big.vhd")
    assert raised.value.status == 400


def test_a_delete_report_with_errors_but_a_200_status_still_raises(cloud, client):
    cloud.on("DELETE", MANIFEST_PATH, Reply(json=report(Errors=[["/x/y", "503 Unavailable"]])))

    with pytest.raises(CloudError, match="/x/y: 503"):
        client.objects.delete_object("exports", "big.vhd")


def test_a_delete_report_saying_not_found_is_not_found(cloud, client):
    body = report(**{"Response Status": "404 Not Found", "Number Deleted": 0})
    cloud.on("DELETE", MANIFEST_PATH, Reply(json=body))

    with pytest.raises(NotFound):
        client.objects.delete_object("exports", "big.vhd")


HOSTILE_REPORTS = {
    "not json": Reply(body="Number Deleted: 1"),
    "an array": Reply(json=[1]),
    "errors not a list": Reply(json=report(Errors="many")),
}


@pytest.mark.parametrize("reply", HOSTILE_REPORTS.values(), ids=HOSTILE_REPORTS.keys())
def test_an_unreadable_delete_report_is_a_malformed_response(cloud, client, reply):
    cloud.on("DELETE", MANIFEST_PATH, reply)

    with pytest.raises(MalformedResponse):
        client.objects.delete_object("exports", "big.vhd")


def test_a_delete_report_of_odd_entries_and_status_still_reads(cloud, client):
    body = report(**{"Response Status": 7, "Errors": ["just text", ["a", "b", "c"]] * 4})
    cloud.on("DELETE", MANIFEST_PATH, Reply(json=body))

    with pytest.raises(CloudError, match=r"just text.*and 3 more"):
        client.objects.delete_object("exports", "big.vhd")


# What HEAD and listings tell ----------------------------------------------------------


def test_head_tells_a_static_and_a_dynamic_large_object_apart(cloud, client):
    cloud.on("HEAD", MANIFEST_PATH, Reply(headers={"X-Static-Large-Object": "True"}))
    cloud.on("HEAD", f"{SWIFT_PATH}/exports/dlo", Reply(headers={"X-Object-Manifest": "c/p/"}))
    cloud.on("HEAD", f"{SWIFT_PATH}/exports/plain", Reply())

    slo = client.objects.head_object("exports", "big.vhd")
    dlo = client.objects.head_object("exports", "dlo")
    plain = client.objects.head_object("exports", "plain")

    assert (slo.static_large_object, slo.object_manifest) == (True, None)
    assert (dlo.static_large_object, dlo.object_manifest) == (False, "c/p/")
    assert (plain.static_large_object, plain.object_manifest) == (False, None)


def test_a_listing_entry_of_a_large_object_reads_with_its_slo_etag(cloud, client):
    entry = {"name": "big.vhd", "bytes": 20, "hash": "c" * 32, "slo_etag": '"d"', "x": [1]}
    cloud.on("GET", f"{SWIFT_PATH}/exports", Reply(json=[entry]))

    [listed] = client.objects.list_objects("exports")

    assert (listed.name, listed.bytes, listed.hash) == ("big.vhd", 20, "c" * 32)


def test_a_manifest_body_is_json_of_the_refs():
    ref = SegmentRef("/c_segments/a/slo/m/1/1/00000000", None, None)

    assert json.loads(json.dumps(ref.as_json())) == {
        "path": "/c_segments/a/slo/m/1/1/00000000",
        "etag": None,
        "size_bytes": None,
    }
