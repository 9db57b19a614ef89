"""Import tasks run by a real worker: VHD objects become active images (reference §4.1)."""

from __future__ import annotations

import hashlib
import time

import pytest

from imagetasks.localcloud import blobstore, vhd_samples
from imagetasks.localcloud.models import CloudTask, Image

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")

SAMPLES = {sample.name: sample for sample in vhd_samples.SAMPLES}


def import_task(cloud, wait_for_task, import_from: str, properties=None, **extra) -> dict:
    task_input = {"import_from": import_from, **extra}
    if properties is not None:
        task_input["image_properties"] = properties
    response = cloud.post("image/v2/tasks", json={"type": "import", "input": task_input})
    assert response.status_code == 201, response.text
    return wait_for_task(cloud, response.json()["id"])


@pytest.mark.parametrize(
    ("sample", "virtual_size"),
    [
        ("fixed", vhd_samples.SAMPLE_VIRTUAL_SIZE),
        ("dynamic", vhd_samples.SAMPLE_DYNAMIC_VIRTUAL_SIZE),
    ],
)
def test_a_valid_vhd_becomes_an_active_image_with_the_checksums_of_its_bytes(
    cloud, account, put_object, wait_for_task, sample, virtual_size
):
    data = SAMPLES[sample].build()
    put_object(account, f"imports/{sample}.vhd", data)

    task = import_task(cloud, wait_for_task, f"imports/{sample}.vhd", {"name": "My image"})

    assert task["status"] == "success", task["message"]
    assert task["message"] == ""
    image = cloud.get(f"image/v2/images/{task['result']['image_id']}").json()
    assert image["status"] == "active"
    assert image["name"] == "My image"
    assert image["owner"] == account.project.id
    assert (image["disk_format"], image["container_format"]) == ("vhd", "bare")
    assert image["size"] == len(data)
    assert image["virtual_size"] == virtual_size
    assert image["checksum"] == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert image["os_hash_algo"] == "sha512"
    assert image["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert cloud.get(f"image/v2/images/{image['id']}/file").content == data


def test_an_import_links_the_objects_bytes_instead_of_copying_them(
    cloud, account, put_object, wait_for_task
):
    stored = put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/fixed.vhd", {"name": "linked"})

    image = Image.objects.get(pk=task["result"]["image_id"])
    object_file = blobstore.path_of(stored.blob_id).stat()
    image_file = blobstore.path_of(image.blob_id).stat()
    assert image.blob_id != stored.blob_id
    assert (image_file.st_ino, image_file.st_nlink) == (object_file.st_ino, 2)


@pytest.mark.parametrize(
    "sample", [sample.name for sample in vhd_samples.SAMPLES if sample.expected_code]
)
def test_an_invalid_vhd_fails_with_its_rackspace_error_code(
    cloud, account, put_object, wait_for_task, sample
):
    put_object(account, "imports/disk.vhd", SAMPLES[sample].build())

    task = import_task(cloud, wait_for_task, "imports/disk.vhd", {"name": sample})

    assert task["status"] == "failure"
    assert task["message"] == (
        f"Image cannot be imported. Error code: '{SAMPLES[sample].expected_code}'"
    )
    assert task["result"] is None
    assert not Image.objects.exists()


@pytest.mark.parametrize(
    ("limit", "code"),
    [(vhd_samples.SAMPLE_VIRTUAL_SIZE - 1, "413"), (vhd_samples.SAMPLE_VIRTUAL_SIZE, "609")],
)
def test_a_vhd_over_the_size_limit_fails_with_413_or_609(
    cloud, account, put_object, wait_for_task, settings, limit, code
):
    settings.LOCALCLOUD_MAX_IMAGE_SIZE = limit  # the fixed sample's file is its size + a footer
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/fixed.vhd", {"name": "big"})

    assert task["message"] == f"Image cannot be imported. Error code: '{code}'"


@pytest.mark.parametrize(
    "import_from", ["imports/missing.vhd", "nocontainer/fixed.vhd", "imports/fixed.vhd/x"]
)
def test_a_missing_container_or_object_fails_with_image_not_found(
    cloud, account, put_object, wait_for_task, import_from
):
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, import_from, {"name": "x"})

    assert task["status"] == "failure"
    assert task["message"] == "Image not found for import. Possible invalid location"


def test_another_projects_object_is_not_found(cloud, other_account, put_object, wait_for_task):
    put_object(other_account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/fixed.vhd", {"name": "theirs"})

    assert task["message"] == "Image not found for import. Possible invalid location"


@pytest.mark.parametrize(
    "properties",
    [
        {"name": "x", "os_type": "linux"},
        {"disk_format": "vhd"},
        {"name": 5},
        {"name": "n" * 256},
        "not an object",
    ],
)
def test_image_properties_other_than_a_name_fail_the_task(
    cloud, account, put_object, wait_for_task, properties
):
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/fixed.vhd", properties)

    assert task["status"] == "failure"
    assert task["message"] == (
        "Unsupported element in image_properties, please consult the documentation."
    )


def test_an_import_without_image_properties_makes_an_unnamed_image(
    cloud, account, put_object, wait_for_task
):
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/fixed.vhd", import_from_format="vhd")

    assert task["status"] == "success"
    assert Image.objects.get(pk=task["result"]["image_id"]).name is None


def test_an_object_name_may_contain_slashes(cloud, account, put_object, wait_for_task):
    put_object(account, "imports/2024/june/fixed.vhd", vhd_samples.fixed_vhd())

    task = import_task(cloud, wait_for_task, "imports/2024/june/fixed.vhd", {"name": "deep"})

    assert task["status"] == "success"


def test_a_rate_limited_import_is_processing_for_the_paced_time(
    cloud, account, put_object, settings
):
    settings.LOCALCLOUD_RATE_LIMIT = 2 * 1024 * 1024
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())  # 4 MiB: about 2 s
    response = cloud.post(
        "image/v2/tasks",
        json={"type": "import", "input": {"import_from": "imports/fixed.vhd"}},
    )
    task_id = response.json()["id"]
    # The POST's own answer is the first observation: a worker may take the task up
    # before the first GET arrives, so "pending" is not always seen by polling.
    statuses, processing_since = [response.json()["status"]], None

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = cloud.get(f"image/v2/tasks/{task_id}").json()["status"]
        if not statuses or statuses[-1] != status:
            statuses.append(status)
            if status == "processing":
                processing_since = time.monotonic()
        if status in ("success", "failure"):
            break
        time.sleep(0.05)

    assert statuses == ["pending", "processing", "success"]
    assert time.monotonic() - processing_since >= 1.5
    assert CloudTask.objects.get(pk=task_id).attempts == 1
