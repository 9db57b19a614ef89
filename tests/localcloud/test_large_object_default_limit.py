"""A 6 GiB image at the built-in cloud's real limits: Swift's default 5 GiB per object and
the dashboard's default 1 GiB segments, over real HTTP.

The other large-object tests shrink the limit to megabytes; this one checks that
nothing breaks at the sizes people upload (a size or offset in 32 bits, a segment
held in memory, a manifest of the wrong total). The image is a sparse file, so it
takes no disk on this side; the store writes its segments in full (6 GiB), which is
checked for first and removed at the end. Client and server run in this process, so
its peak memory covers both.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from imagetasks.dashboard.models.clouds import SEGMENT_SIZE
from imagetasks.localcloud.vhd_samples import write_sparse_fixed_vhd
from imagetasks.openstack import CloudClient, CloudConfig
from imagetasks.openstack.largeobjects import DEFAULT_MAX_FILE_SIZE

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(1200),
]

GiB = 1024**3
MiB = 1024**2
SIZE = 6 * GiB
# Room for the stored segments, plus some for everyone else on the disk.
DISK_NEEDED = SIZE + 2 * GiB
# Far below one segment: what a stream of 1 MiB chunks may cost on both sides.
MEMORY_GROWTH_LIMIT = 256 * MiB


@pytest.fixture
def room(store_dir, tmp_path):
    """Fails (CI) or skips (elsewhere) when the disk cannot take the stored segments; removes
    the source file and the store's blobs at the end, as pytest keeps ``tmp_path``."""
    store_dir.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(store_dir).free
    if free < DISK_NEEDED:
        message = (
            f"{free / GiB:.1f} GiB free at {store_dir}; this test needs {DISK_NEEDED / GiB:.0f}"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    yield tmp_path
    shutil.rmtree(store_dir, ignore_errors=True)
    (tmp_path / "big.vhd").unlink(missing_ok=True)


@pytest.fixture
def objects(live_server, account, settings):
    config = CloudConfig(
        auth_url=f"{live_server.url}/localcloud/identity/v3",
        auth_type="v3password",
        username=account.user.name,
        secret=account.password,
        project_name=account.project.name,
        region=settings.LOCALCLOUD_REGION,
        timeout=(5.0, 120.0),
    )
    with CloudClient(config) as client:
        client.objects.create_container("images")
        yield client.objects


def put_whole(objects, token: str, container: str, name: str, length: int) -> int:
    """The status of a single PUT announcing ``length`` bytes, read before any byte is sent
    (a store that refuses by the announced size answers at once)."""
    url = urlsplit(objects.object_url(container, name))
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        connection.putrequest("PUT", url.path)
        connection.putheader("X-Auth-Token", token)
        connection.putheader("Content-Length", str(length))
        connection.endheaders()
        return connection.getresponse().status
    finally:
        connection.close()


def peak_memory_since_reset() -> tuple[int, bool]:
    """This process's resident memory now, after resetting its peak (VmHWM) to it; and
    whether the reset worked (it needs /proc/self/clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return status_bytes("VmRSS"), False
    return status_bytes("VmRSS"), True


def status_bytes(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no {key} in /proc/self/status")


def test_a_6_gib_image_goes_up_as_a_large_object_and_downloads_identical(
    objects, account, room, settings
):
    assert settings.LOCALCLOUD_MAX_OBJECT_SIZE == DEFAULT_MAX_FILE_SIZE  # the real default
    assert objects.limits().max_file_size == DEFAULT_MAX_FILE_SIZE
    source = room / "big.vhd"
    expected_md5 = write_sparse_fixed_vhd(source, SIZE)

    assert put_whole(objects, account.token(), "images", "big.vhd", SIZE) == 413

    before, measured = peak_memory_since_reset()
    with open(source, "rb") as data:
        etag = objects.upload(
            "images", "big.vhd", data, SIZE, segment_size=SEGMENT_SIZE, mtime="1700000000"
        )

    head = objects.head_object("images", "big.vhd")
    assert head.static_large_object
    assert head.content_length == SIZE
    assert head.etag == etag
    segments = objects.list_objects("images_segments")
    assert [entry.bytes for entry in segments] == [GiB] * 6

    digest, received = hashlib.md5(usedforsecurity=False), 0
    with objects.get_object("images", "big.vhd") as download:
        for chunk in download.iter_content():
            digest.update(chunk)
            received += len(chunk)
    assert received == SIZE
    assert digest.hexdigest() == expected_md5
    if measured:
        assert status_bytes("VmHWM") - before < MEMORY_GROWTH_LIMIT

    objects.delete_object("images", "big.vhd")
    assert list(objects.list_objects("images_segments")) == []
