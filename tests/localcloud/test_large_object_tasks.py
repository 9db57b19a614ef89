"""Imports from and exports to large objects, run by a real worker, in a cloud whose
objects may be at most 8 MiB: a 20 MiB VHD only fits as segments and a manifest."""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from imagetasks.localcloud import blobstore, vhd, vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.localcloud.models import Image, StoredObject

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")

MiB = 1024 * 1024
VIRTUAL_SIZE = 20 * MiB


@pytest.fixture(autouse=True)
def eight_mib_objects(settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB


@pytest.fixture(scope="module")
def big_vhd() -> bytes:
    return vhd_samples.fixed_vhd(VIRTUAL_SIZE)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def run_task(cloud, wait_for_task, task_type: str, task_input: dict) -> dict:
    response = cloud.post("image/v2/tasks", json={"type": task_type, "input": task_input})
    assert response.status_code == 201, response.text
    return wait_for_task(cloud, response.json()["id"])


def upload_as_slo(cloud, base: str, location: str, data: bytes, segment_size: int = 3 * MiB):
    """Upload ``data`` as a client does: segments in ``<container>_segments``, then a manifest."""
    container, _, name = location.partition("/")
    for each in (container, f"{container}_segments"):
        cloud.put(f"{base}/{each}")
    manifest = []
    for index, offset in enumerate(range(0, len(data), segment_size)):
        piece = data[offset : offset + segment_size]
        path = f"{container}_segments/{name}/slo/1/{len(data)}/{segment_size}/{index:08d}"
        assert cloud.put(f"{base}/{path}", data=piece).status_code == 201
        manifest.append({"path": f"/{path}", "etag": md5(piece), "size_bytes": len(piece)})
    response = cloud.put(
        f"{base}/{location}", params={"multipart-manifest": "put"}, data=json.dumps(manifest)
    )
    assert response.status_code == 201, response.text
    return manifest


# --- Imports ------------------------------------------------------------------------------


def test_a_vhd_uploaded_as_segments_imports_with_the_checksum_of_the_whole(
    cloud, base, wait_for_task, big_vhd
):
    upload_as_slo(cloud, base, "imports/big.vhd", big_vhd)

    task = run_task(cloud, wait_for_task, "import", {"import_from": "imports/big.vhd"})

    assert task["status"] == "success", task["message"]
    image = cloud.get(f"image/v2/images/{task['result']['image_id']}").json()
    assert image["size"] == len(big_vhd)
    assert image["virtual_size"] == VIRTUAL_SIZE
    assert image["checksum"] == md5(big_vhd)
    assert image["os_hash_value"] == hashlib.sha512(big_vhd).hexdigest()
    assert cloud.get(f"image/v2/images/{image['id']}/file").content == big_vhd


def test_a_vhd_uploaded_as_a_dynamic_large_object_imports_too(cloud, base, wait_for_task, big_vhd):
    upload_as_slo(cloud, base, "imports/ignored.vhd", big_vhd)
    cloud.put(
        f"{base}/imports/big.vhd",
        data=b"",
        headers={"X-Object-Manifest": "imports_segments/ignored.vhd/"},
    )

    task = run_task(cloud, wait_for_task, "import", {"import_from": "imports/big.vhd"})

    assert task["status"] == "success", task["message"]
    image = cloud.get(f"image/v2/images/{task['result']['image_id']}").json()
    assert image["checksum"] == md5(big_vhd)


def test_an_import_whose_segment_is_gone_fails_as_a_missing_object(
    cloud, base, wait_for_task, big_vhd
):
    manifest = upload_as_slo(cloud, base, "imports/big.vhd", big_vhd)
    cloud.delete(f"{base}{manifest[3]['path']}")

    task = run_task(cloud, wait_for_task, "import", {"import_from": "imports/big.vhd"})

    assert task["status"] == "failure"
    assert task["message"] == "Image not found for import. Possible invalid location"
    assert cloud.get("image/v2/images").json()["images"] == []


def test_a_large_object_over_the_image_limit_is_refused_before_it_is_copied(
    cloud, base, wait_for_task, big_vhd, settings
):
    settings.LOCALCLOUD_MAX_IMAGE_SIZE = 16 * MiB
    upload_as_slo(cloud, base, "imports/big.vhd", big_vhd)

    task = run_task(cloud, wait_for_task, "import", {"import_from": "imports/big.vhd"})

    assert task["status"] == "failure"
    assert task["message"] == "Image cannot be imported. Error code: '609'"


def disk_used(blob_id: str) -> int:
    return blobstore.path_of(blob_id).stat().st_blocks * 512


def test_a_sparse_vhd_joined_from_its_segments_keeps_its_holes_and_its_checksums(
    cloud, base, wait_for_task, tmp_path
):
    path = tmp_path / "sparse.vhd"
    checksum = vhd_samples.write_sparse_fixed_vhd(path, VIRTUAL_SIZE + 512)
    data = path.read_bytes()
    upload_as_slo(cloud, base, "imports/sparse.vhd", data)

    task = run_task(cloud, wait_for_task, "import", {"import_from": "imports/sparse.vhd"})

    assert task["status"] == "success", task["message"]
    image = Image.objects.get(pk=task["result"]["image_id"])
    assert (image.size, image.checksum) == (len(data), checksum)
    assert image.os_hash_value == hashlib.sha512(data).hexdigest()
    assert cloud.get(f"image/v2/images/{image.id}/file").content == data
    # The segments and the image joined from them hold data only where the disk has some.
    segments = StoredObject.objects.filter(container__name="imports_segments")
    assert sum(disk_used(segment.blob_id) for segment in segments) <= 2 * MiB
    assert disk_used(image.blob_id) <= 2 * MiB


# --- Exports ------------------------------------------------------------------------------


@pytest.fixture
def big_image(account, tmp_path, big_vhd):
    path = tmp_path / "big.vhd"
    path.write_bytes(big_vhd)
    return create_image_from_file(account.project, "big", path, "vhd")


def export(cloud, wait_for_task, image, container="exports") -> dict:
    task_input = {"image_uuid": str(image.id), "receiving_swift_container": container}
    return run_task(cloud, wait_for_task, "export", task_input)


def test_an_export_larger_than_one_object_lands_as_a_static_large_object(
    cloud, base, wait_for_task, big_image, big_vhd
):
    cloud.put(f"{base}/exports")

    task = export(cloud, wait_for_task, big_image)

    assert task["status"] == "success", task["message"]
    assert task["result"] == {"export_location": f"exports/{big_image.id}.vhd"}
    exported = cloud.get(f"{base}/exports/{big_image.id}.vhd")
    assert exported.headers["X-Static-Large-Object"] == "True"
    assert exported.content == big_vhd
    names = cloud.get(f"{base}/exports_segments", params={"format": "plain"}).text.split()
    stamp = f"{big_image.created_at.timestamp():.6f}"
    prefix = f"{big_image.id}.vhd/slo/{stamp}/{len(big_vhd)}/{8 * MiB}/"
    assert names == [f"{prefix}{index:08d}" for index in range(3)]
    assert cloud.head(f"{base}/exports").headers["X-Container-Bytes-Used"] == "0"
    assert cloud.head(base).headers["X-Account-Bytes-Used"] == str(len(big_vhd))


def test_the_export_segment_size_can_be_chosen(
    cloud, base, wait_for_task, big_image, big_vhd, settings
):
    settings.LOCALCLOUD_EXPORT_SEGMENT_SIZE = 3 * MiB
    cloud.put(f"{base}/exports")

    task = export(cloud, wait_for_task, big_image)

    assert task["status"] == "success", task["message"]
    stored = cloud.get(
        f"{base}/exports/{big_image.id}.vhd", params={"multipart-manifest": "get"}
    ).json()
    assert [segment["bytes"] for segment in stored][:-1] == [3 * MiB] * 6
    assert sum(segment["bytes"] for segment in stored) == len(big_vhd)
    assert cloud.get(f"{base}/exports/{big_image.id}.vhd").content == big_vhd


def test_an_export_that_would_need_too_many_segments_fails_and_leaves_nothing(
    cloud, base, wait_for_task, big_image, settings
):
    settings.LOCALCLOUD_SLO_MAX_MANIFEST_SEGMENTS = 2
    cloud.put(f"{base}/exports")

    task = export(cloud, wait_for_task, big_image)

    assert task["status"] == "failure"
    assert "needs more than 2 segments" in task["message"]
    assert cloud.get(f"{base}/exports", params={"format": "json"}).json() == []


def test_an_export_within_the_limit_stays_one_object(cloud, base, wait_for_task, account, tmp_path):
    data = vhd_samples.fixed_vhd()
    path = tmp_path / "small.vhd"
    path.write_bytes(data)
    image = create_image_from_file(account.project, "small", path, "vhd")
    cloud.put(f"{base}/exports")

    task = export(cloud, wait_for_task, image)

    assert task["status"] == "success", task["message"]
    exported = cloud.get(f"{base}/exports/{image.id}.vhd")
    assert "X-Static-Large-Object" not in exported.headers
    assert exported.content == data
    assert cloud.head(f"{base}/exports_segments").status_code == 404


def test_a_raw_image_larger_than_one_object_is_cut_into_segments_of_its_fixed_vhd(
    cloud, base, wait_for_task, account, tmp_path, settings
):
    """The segments are cut from the raw disk and its footer: no whole VHD is written first.
    A segment ends inside the padding and footer, the last one is only footer."""
    raw_size = 9 * MiB + 100  # padded to whole sectors, then the footer: 9 MiB + 1024
    settings.LOCALCLOUD_EXPORT_SEGMENT_SIZE = 3 * MiB + 200  # three end at 9 MiB + 600
    path = tmp_path / "sparse.raw"
    with open(path, "wb") as disk:
        disk.truncate(raw_size)  # a hole, but for a few bytes
        disk.seek(4 * MiB)
        disk.write(b"the only data")
    raw = path.read_bytes()
    image = create_image_from_file(account.project, "sparse", path, "raw")
    cloud.put(f"{base}/exports")

    task = export(cloud, wait_for_task, image)

    assert task["status"] == "success", task["message"]
    exported = cloud.get(f"{base}/exports/{image.id}.vhd")
    assert exported.headers["X-Static-Large-Object"] == "True"
    assert len(exported.content) == 9 * MiB + 1024
    assert exported.content[:raw_size] == raw
    assert exported.content[raw_size : 9 * MiB + 512] == bytes(412)
    info = vhd.inspect_vhd_stream(
        io.BytesIO(exported.content), max_virtual_size=2**40, max_file_size=2**40
    )
    assert (info.disk_type, info.virtual_size) == ("fixed", 9 * MiB + 512)
    stored = cloud.get(
        f"{base}/exports/{image.id}.vhd", params={"multipart-manifest": "get"}
    ).json()
    assert [segment["bytes"] for segment in stored] == [3 * MiB + 200] * 3 + [424]
    segments = StoredObject.objects.filter(container__name="exports_segments")
    assert sum(disk_used(segment.blob_id) for segment in segments) <= 2 * MiB
    assert disk_used(image.blob_id) <= MiB  # the image made from the sparse file, too
