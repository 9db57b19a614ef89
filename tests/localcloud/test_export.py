"""Export tasks run by a real worker: images become ``<container>/<image_id>.vhd`` (§4.2)."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import time
import uuid

import pytest

from imagetasks.localcloud import blobstore, vhd, vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.localcloud.models import Image, StoredObject

# A worker of each test's own rather than the session's shared one: in the full parallel
# suite the shared worker was seen still busy with an earlier module's job when this
# module's first exports were queued behind it.
pytestmark = pytest.mark.usefixtures("fast_hashing", "localcloud_worker")


def run_task(cloud, wait_for_task, task_type: str, task_input: dict) -> dict:
    response = cloud.post("image/v2/tasks", json={"type": task_type, "input": task_input})
    assert response.status_code == 201, response.text
    return wait_for_task(cloud, response.json()["id"])


def export(cloud, wait_for_task, image_id, container="exports") -> dict:
    task_input = {"image_uuid": str(image_id), "receiving_swift_container": container}
    return run_task(cloud, wait_for_task, "export", task_input)


def object_url(account, location: str) -> str:
    return f"object/v1/AUTH_{account.project.id}/{location}"


def image_from(account, tmp_path, data: bytes, disk_format: str) -> Image:
    path = tmp_path / f"disk.{disk_format}"
    path.write_bytes(data)
    return create_image_from_file(account.project, "disk", path, disk_format)


def qemu_img_info(path, image_format: str) -> dict:
    # A fixed VHD has its footer only at the end, so qemu-img would probe it as raw.
    output = subprocess.run(
        ["qemu-img", "info", "-f", image_format, "--output=json", str(path)],
        check=True,
        capture_output=True,
    ).stdout
    return json.loads(output)


def test_an_imported_vhd_exported_again_has_identical_bytes(
    cloud, account, put_object, wait_for_task
):
    data = vhd_samples.fixed_vhd()
    put_object(account, "imports/fixed.vhd", data)
    put_object(account, "exports", b"")
    imported = run_task(
        cloud, wait_for_task, "import", {"import_from": "imports/fixed.vhd", "image_properties": {}}
    )
    image_id = imported["result"]["image_id"]

    task = export(cloud, wait_for_task, image_id)

    assert task["status"] == "success", task["message"]
    assert task["result"] == {"export_location": f"exports/{image_id}.vhd"}
    assert task["message"] == ""
    exported = cloud.get(object_url(account, f"exports/{image_id}.vhd"))
    assert exported.status_code == 200
    assert exported.content == data
    assert (
        exported.headers["ETag"].strip('"') == hashlib.md5(data, usedforsecurity=False).hexdigest()
    )


def test_a_vhd_image_is_exported_as_a_hard_link_of_its_bytes(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.dynamic_vhd(), "vhd")
    put_object(account, "exports", b"")

    export(cloud, wait_for_task, image.id)

    stored = StoredObject.objects.get(name=f"{image.id}.vhd")
    assert stored.etag == image.checksum
    exported = blobstore.path_of(stored.blob_id).stat()
    assert exported.st_ino == blobstore.path_of(image.blob_id).stat().st_ino


def test_a_raw_image_is_exported_as_a_fixed_vhd_qemu_img_reads(
    cloud, account, put_object, wait_for_task, tmp_path
):
    raw = vhd_samples.raw_disk_image(3 * 1024 * 1024)
    image = image_from(account, tmp_path, raw, "raw")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "success", task["message"]
    stored = StoredObject.objects.get(name=f"{image.id}.vhd")
    path = blobstore.path_of(stored.blob_id)
    info = qemu_img_info(path, "vpc")
    assert info["format"] == "vpc"
    assert info["virtual-size"] == len(raw)
    assert vhd.inspect_vhd(path, max_virtual_size=2**40, max_file_size=2**40).disk_type == "fixed"
    assert path.read_bytes()[: len(raw)] == raw


def test_a_sparse_raw_image_is_exported_without_writing_its_holes(
    cloud, account, put_object, wait_for_task, tmp_path
):
    path = tmp_path / "sparse.raw"
    with open(path, "wb") as disk:
        disk.truncate(64 * 1024 * 1024)
        disk.seek(10 * 1024 * 1024)
        disk.write(b"a little data")
    image = create_image_from_file(account.project, "sparse", path, "raw")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "success", task["message"]
    exported = cloud.get(object_url(account, f"exports/{image.id}.vhd"))
    assert exported.content[: 64 * 1024 * 1024] == path.read_bytes()
    vhd.inspect_vhd_stream(
        io.BytesIO(exported.content), max_virtual_size=2**40, max_file_size=2**40
    )
    blob = blobstore.path_of(StoredObject.objects.get(name=f"{image.id}.vhd").blob_id).stat()
    assert blob.st_size == 64 * 1024 * 1024 + 512
    assert blob.st_blocks * 512 <= 1024 * 1024  # the data and the footer, not 64 MiB


def test_an_exported_objects_missing_etag_is_filled_in_by_a_follow_up_job(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.raw_disk_image(), "raw")
    put_object(account, "exports", b"")

    export(cloud, wait_for_task, image.id)

    stored = StoredObject.objects.get(name=f"{image.id}.vhd")
    expected = hashlib.md5(
        blobstore.path_of(stored.blob_id).read_bytes(), usedforsecurity=False
    ).hexdigest()
    deadline = time.monotonic() + 30
    while not stored.etag and time.monotonic() < deadline:
        time.sleep(0.1)
        stored.refresh_from_db()
    assert stored.etag == expected


def test_a_qcow2_image_is_converted_to_a_fixed_vhd(
    cloud, account, put_object, wait_for_task, tmp_path
):
    raw_path = tmp_path / "disk.raw"
    raw_path.write_bytes(vhd_samples.raw_disk_image(2 * 1024 * 1024) + bytes(1024 * 1024))
    qcow2_path = tmp_path / "disk.qcow2"
    subprocess.run(
        ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw_path), str(qcow2_path)],
        check=True,
    )
    image = create_image_from_file(account.project, "q", qcow2_path, "qcow2")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "success", task["message"]
    assert image.virtual_size == 3 * 1024 * 1024
    path = blobstore.path_of(StoredObject.objects.get(name=f"{image.id}.vhd").blob_id)
    assert qemu_img_info(path, "vpc")["virtual-size"] == 3 * 1024 * 1024
    compared = subprocess.run(
        ["qemu-img", "compare", "-f", "raw", "-F", "vpc", str(raw_path), str(path)],
        capture_output=True,
    )
    assert compared.returncode == 0, compared.stdout


def test_an_empty_qcow2_made_by_qemu_img_create_exports(
    cloud, account, put_object, wait_for_task, tmp_path
):
    qcow2_path = tmp_path / "empty.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2_path), "5M"], check=True)
    image = create_image_from_file(account.project, "empty", qcow2_path, "qcow2")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "success", task["message"]
    path = blobstore.path_of(StoredObject.objects.get(name=f"{image.id}.vhd").blob_id)
    assert qemu_img_info(path, "vpc")["virtual-size"] == 5 * 1024 * 1024


def test_a_qcow2_export_without_qemu_img_fails_saying_it_is_needed(
    cloud, account, put_object, wait_for_task, tmp_path, monkeypatch
):
    qcow2_path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(qcow2_path), "1M"], check=True)
    image = create_image_from_file(account.project, "q", qcow2_path, "qcow2")
    put_object(account, "exports", b"")
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools-here"))

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "failure"
    assert task["message"] == (
        "Image cannot be exported: converting a qcow2 image to VHD needs qemu-img, "
        "which is not installed on this cloud."
    )
    assert not StoredObject.objects.filter(name=f"{image.id}.vhd").exists()


def test_exporting_twice_to_one_container_fails_and_leaves_one_object(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.fixed_vhd(), "vhd")
    put_object(account, "exports", b"")
    first = export(cloud, wait_for_task, image.id)

    second = export(cloud, wait_for_task, image.id)

    assert first["status"] == "success"
    assert second["status"] == "failure"
    assert second["message"] == (
        f"Object already exists in user's container. Container/Object: exports/{image.id}.vhd"
    )
    assert StoredObject.objects.filter(name=f"{image.id}.vhd").count() == 1


def test_the_same_image_exports_to_a_second_container(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.fixed_vhd(), "vhd")
    put_object(account, "exports", b"")
    put_object(account, "backups", b"")

    first = export(cloud, wait_for_task, image.id)
    second = export(cloud, wait_for_task, image.id, container="backups")

    assert (first["status"], second["status"]) == ("success", "success")
    assert second["result"] == {"export_location": f"backups/{image.id}.vhd"}


def test_exporting_to_a_missing_container_fails_naming_it(cloud, account, wait_for_task, tmp_path):
    image = image_from(account, tmp_path, vhd_samples.fixed_vhd(), "vhd")

    task = export(cloud, wait_for_task, image.id, container="nonexistent")

    assert task["message"] == "Container not found. Container: nonexistent"


def test_a_container_name_with_a_dot_is_refused(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.fixed_vhd(), "vhd")
    put_object(account, "my.exports", b"")

    task = export(cloud, wait_for_task, image.id, container="my.exports")

    assert task["status"] == "failure"
    assert task["message"] == (
        "Container names may not contain '/', '?' or '.'. Container: my.exports"
    )


@pytest.mark.parametrize("whose", ["another project's", "an unknown", "a malformed"])
def test_only_the_owner_may_export_an_image(
    cloud, other_account, put_object, wait_for_task, tmp_path, account, whose
):
    theirs = image_from(other_account, tmp_path, vhd_samples.fixed_vhd(), "vhd")
    image_id = {
        "another project's": theirs.id,
        "an unknown": uuid.uuid4(),
        "a malformed": "not-a-uuid",
    }[whose]
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image_id)

    assert task["status"] == "failure"
    assert task["message"] == "An image may only be exported by the image owner."


def test_an_image_without_data_cannot_be_exported(cloud, account, put_object, wait_for_task):
    queued = Image.objects.create(project=account.project, name="empty", disk_format="raw")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, queued.id)

    assert task["message"] == "Image cannot be exported: its status is 'queued', not 'active'."


def test_an_image_of_an_unconvertible_format_cannot_be_exported(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.raw_disk_image(), "raw")
    Image.objects.filter(pk=image.pk).update(disk_format="iso")
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["message"] == "Image cannot be exported: disk format 'iso' cannot become a VHD."


def test_an_image_whose_bytes_are_gone_fails_the_export_with_a_message(
    cloud, account, put_object, wait_for_task, tmp_path
):
    image = image_from(account, tmp_path, vhd_samples.raw_disk_image(), "raw")
    blobstore.delete(image.blob_id)
    put_object(account, "exports", b"")

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "failure"
    assert task["message"] == "Unknown error occurred during image export"
    assert not StoredObject.objects.filter(name=f"{image.id}.vhd").exists()


def test_a_rate_limited_export_of_a_vhd_still_takes_the_paced_time(
    cloud, account, put_object, wait_for_task, tmp_path, settings
):
    image = image_from(account, tmp_path, vhd_samples.fixed_vhd(), "vhd")  # 4 MiB
    put_object(account, "exports", b"")
    settings.LOCALCLOUD_RATE_LIMIT = 4 * 1024 * 1024
    started = time.monotonic()

    task = export(cloud, wait_for_task, image.id)

    assert task["status"] == "success"
    assert time.monotonic() - started >= 1.0
    assert StoredObject.objects.get(name=f"{image.id}.vhd").etag == image.checksum
