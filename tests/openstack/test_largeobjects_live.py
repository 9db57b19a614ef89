"""Large objects against the built-in cloud over real HTTP, with its single-object limit
set to 8 MiB and segments of 3 MiB: what a store with Swift's SLO middleware does with
what the client sends."""

from __future__ import annotations

import hashlib
import random

import pytest

from imagetasks.openstack import CloudClient, CloudConfig, NotFound
from imagetasks.openstack.largeobjects import segment_prefix
from tests.support.received import requests_received

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024
SIZE = 20 * MiB
SEGMENT = 3 * MiB
DATA = random.Random(20).randbytes(SIZE)


def chunks(data: bytes, fail_after: int | None = None):
    """The data in chunks of uneven sizes, as a network would give them."""
    sizes = random.Random(7)
    offset = 0
    while offset < len(data):
        if fail_after is not None and offset >= fail_after:
            raise OSError("the source went away")
        step = sizes.randint(1, 700_000)
        yield data[offset : offset + step]
        offset += step


@pytest.fixture
def objects(live_server, account, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    config = CloudConfig(
        auth_url=f"{live_server.url}/localcloud/identity/v3",
        auth_type="v3password",
        username=account.user.name,
        secret=account.password,
        project_name=account.project.name,
        region=settings.LOCALCLOUD_REGION,
        timeout=(5.0, 60.0),
    )
    with CloudClient(config) as client:
        client.objects.create_container("images")
        yield client.objects


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def downloaded(objects, name: str) -> bytes:
    with objects.get_object("images", name) as download:
        return b"".join(download.iter_content())


def segment_puts(seen: list[tuple[str, str]]) -> list[str]:
    return [path.rsplit("/", 1)[1] for method, path in seen if method == "PUT" and "/slo/" in path]


def test_the_stores_limits_come_from_its_info(objects):
    limits = objects.limits()

    assert limits.max_file_size == 8 * MiB
    assert limits.slo


def test_a_20_mib_stream_becomes_a_large_object_that_downloads_identical(objects):
    seen = []

    etag = objects.upload(
        "images", "big.vhd", chunks(DATA), SIZE, segment_size=SEGMENT, mtime="v1",
        on_progress=seen.append,
    )  # fmt: skip

    head = objects.head_object("images", "big.vhd")
    assert head.static_large_object
    assert head.content_length == SIZE
    assert head.etag == etag
    assert md5(downloaded(objects, "big.vhd")) == md5(DATA)
    stored = objects.stored_segments("images", segment_prefix("big.vhd", "v1", SIZE, SEGMENT))
    assert sorted(stored) == list(range(7))
    assert stored[6].bytes == SIZE - 6 * SEGMENT
    assert seen[-1] == SIZE


def test_an_object_above_the_stores_limit_is_cut_even_with_a_larger_segment_size(objects):
    objects.upload("images", "big.vhd", DATA, SIZE, segment_size=1024 * MiB, mtime="v1")

    head = objects.head_object("images", "big.vhd")
    assert head.static_large_object
    assert md5(downloaded(objects, "big.vhd")) == md5(DATA)


def test_an_object_within_the_segment_size_is_one_plain_object(objects):
    objects.upload("images", "small.vhd", DATA[:MiB], MiB, segment_size=SEGMENT)

    head = objects.head_object("images", "small.vhd")
    assert not head.static_large_object
    assert head.etag == md5(DATA[:MiB])


def test_an_upload_whose_stream_fails_mid_way_leaves_no_segment_and_no_object(objects):
    with pytest.raises(Exception, match=r"went away|Connection|aborted"):
        objects.upload(
            "images", "big.vhd", chunks(DATA, fail_after=10 * MiB), SIZE,
            segment_size=SEGMENT, mtime="v1",
        )  # fmt: skip

    assert list(objects.list_objects("images_segments")) == []
    with pytest.raises(NotFound):
        objects.head_object("images", "big.vhd")


def test_uploading_the_same_version_again_sends_only_the_segments_not_stored(objects):
    prefix = segment_prefix("big.vhd", "v1", SIZE, SEGMENT)
    # A run killed after three segments left them behind.
    objects.create_container("images_segments")
    for index in range(3):
        start = index * SEGMENT
        objects.put_segment("images", prefix, index, DATA[start : start + SEGMENT], SEGMENT)

    with requests_received() as seen:
        objects.upload("images", "big.vhd", chunks(DATA), SIZE, segment_size=SEGMENT, mtime="v1")
    assert segment_puts(seen) == ["00000003", "00000004", "00000005", "00000006"]

    with requests_received() as again:
        objects.upload("images", "big.vhd", chunks(DATA), SIZE, segment_size=SEGMENT, mtime="v1")
    assert segment_puts(again) == []
    assert md5(downloaded(objects, "big.vhd")) == md5(DATA)


def test_a_stored_segment_with_other_bytes_is_sent_again(objects):
    prefix = segment_prefix("big.vhd", "v1", SIZE, SEGMENT)
    objects.create_container("images_segments")
    objects.put_segment("images", prefix, 0, b"x" * SEGMENT, SEGMENT)

    with requests_received() as seen:
        objects.upload("images", "big.vhd", DATA, SIZE, segment_size=SEGMENT, mtime="v1")

    assert segment_puts(seen)[0] == "00000000"
    assert md5(downloaded(objects, "big.vhd")) == md5(DATA)


def test_deleting_a_large_object_removes_its_segments(objects):
    objects.upload("images", "big.vhd", DATA, SIZE, segment_size=SEGMENT, mtime="v1")

    objects.delete_object("images", "big.vhd")

    with pytest.raises(NotFound):
        objects.head_object("images", "big.vhd")
    assert list(objects.list_objects("images_segments")) == []


def segment_names(objects) -> list[str]:
    return [entry.name for entry in objects.list_objects("images_segments")]


def test_another_version_uploaded_over_a_large_object_takes_the_place_of_its_segments(objects):
    objects.upload("images", "big.vhd", DATA, SIZE, segment_size=SEGMENT, mtime="v1")
    newer = DATA[: 14 * MiB]

    objects.upload("images", "big.vhd", newer, len(newer), segment_size=SEGMENT, mtime="v2")

    prefix = segment_prefix("big.vhd", "v2", len(newer), SEGMENT)
    assert segment_names(objects) == [f"{prefix}{index:08d}" for index in range(5)]
    assert md5(downloaded(objects, "big.vhd")) == md5(newer)


def test_a_small_file_uploaded_over_a_large_object_leaves_none_of_its_segments(objects):
    objects.upload("images", "big.vhd", DATA, SIZE, segment_size=SEGMENT, mtime="v1")

    objects.upload("images", "big.vhd", DATA[:MiB], MiB, segment_size=SEGMENT, mtime="v2")

    assert segment_names(objects) == []
    assert downloaded(objects, "big.vhd") == DATA[:MiB]


def test_the_same_version_with_other_bytes_keeps_the_segments_its_manifest_names(objects):
    objects.upload("images", "big.vhd", DATA, SIZE, segment_size=SEGMENT, mtime="v1")
    before = segment_names(objects)
    other = random.Random(21).randbytes(SIZE)

    objects.upload("images", "big.vhd", other, SIZE, segment_size=SEGMENT, mtime="v1")

    assert segment_names(objects) == before
    assert md5(downloaded(objects, "big.vhd")) == md5(other)
