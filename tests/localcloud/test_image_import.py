"""Glance's interoperable image import on the built-in cloud, over real HTTP.

A file server on loopback (the scripted peer of the client's tests) serves what
web-download fetches; glance-direct stages bytes with PUT; a real worker runs the
``api_image_import`` task. Every test reads what a client would: the image's status,
its ``os_glance_*`` properties, ``stores``, checksums and the task.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.localcloud.executors import import_state, lifecycle
from imagetasks.localcloud.models import CloudTask, Image
from tests.openstack.scripted import Reply
from tests.support.glance_api import assert_refused

pytestmark = pytest.mark.usefixtures("task_worker")

DATA = b"disk image bytes " * 4096


def new_image(cloud, **fields) -> dict:
    body = {"name": "imported", "disk_format": "raw", "container_format": "bare", **fields}
    response = cloud.post("image/v2/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def wait_for_image(cloud, image_id: str, *, until=("active", "queued"), timeout=30.0) -> dict:
    """The image once its import ended: no import task holds it and its status is settled."""
    deadline = time.monotonic() + timeout
    while True:
        image = cloud.get(f"image/v2/images/{image_id}").json()
        settled = image["status"] in until and "os_glance_import_task" not in image
        if settled or time.monotonic() > deadline:
            return image
        time.sleep(0.05)


def import_tasks(cloud, image_id: str) -> list[dict]:
    response = cloud.get(f"image/v2/images/{image_id}/tasks")
    assert response.status_code == 200
    return response.json()["tasks"]


def test_the_cloud_says_which_import_methods_and_stores_it_has(cloud):
    methods = cloud.get("image/v2/info/import")
    stores = cloud.get("image/v2/info/stores")

    assert methods.json() == {
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": ["glance-direct", "web-download", "copy-image", "glance-download"],
        }
    }
    listed = stores.json()["stores"]
    assert [store["id"] for store in listed] == ["fast", "cheap"]
    assert listed[0]["default"] == "true"
    assert "default" not in listed[1]


def test_a_created_image_is_queued_with_its_properties_and_the_discovery_headers(cloud, account):
    response = cloud.post(
        "image/v2/images",
        json={
            "name": "ubuntu",
            "disk_format": "qcow2",
            "container_format": "bare",
            "visibility": "shared",
            "min_disk": 10,
            "min_ram": 512,
            "tags": ["lts"],
            "os_distro": "ubuntu",
            "os_version": "24.04",
        },
    )

    assert response.status_code == 201
    assert response.headers["OpenStack-image-import-methods"] == (
        "glance-direct,web-download,copy-image,glance-download"
    )
    assert response.headers["OpenStack-image-store-ids"] == "fast,cheap"
    image = response.json()
    assert response.headers["Location"] == f"/v2/images/{image['id']}"
    assert (image["status"], image["name"], image["visibility"]) == ("queued", "ubuntu", "shared")
    assert (image["min_disk"], image["min_ram"], image["tags"]) == (10, 512, ["lts"])
    assert (image["os_distro"], image["os_version"]) == ("ubuntu", "24.04")
    assert image["owner"] == account.project.id
    shown = cloud.get(f"image/v2/images/{image['id']}")
    assert shown.headers["OpenStack-image-store-ids"] == "fast,cheap"
    assert shown.json() == image


def test_web_download_imports_a_loopback_url_into_the_default_store(cloud, files):
    files.on("GET", "/images/disk.raw", Reply(body=DATA))
    image = new_image(cloud, os_distro="cirros")

    response = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/images/disk.raw"}},
    )

    assert response.status_code == 202
    assert response.content == b""
    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "active"
    assert done["size"] == len(DATA)
    assert done["checksum"] == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    assert (done["os_hash_algo"], done["os_hash_value"]) == (
        "sha512",
        hashlib.sha512(DATA).hexdigest(),
    )
    assert done["stores"] == "fast"
    assert done["os_glance_importing_to_stores"] == ""
    assert done["os_glance_failed_import"] == ""
    assert done["os_distro"] == "cirros"
    assert b"".join(cloud.get(f"image/v2/images/{image['id']}/file").iter_content()) == DATA
    (task,) = import_tasks(cloud, image["id"])
    assert task["type"] == "api_image_import"
    assert task["status"] == "success"
    assert task["result"] == {"image_id": image["id"]}
    assert task["image_id"] == image["id"]
    assert task["input"]["import_req"]["method"]["name"] == "web-download"
    assert task["input"]["backend"] == ["fast"]
    assert cloud.get(f"image/v2/tasks/{task['id']}").json()["status"] == "success"


def test_glance_direct_imports_the_staged_data_into_every_store(cloud):
    image = new_image(cloud)

    staged = cloud.put(
        f"image/v2/images/{image['id']}/stage",
        data=DATA,
        headers={"Content-Type": "application/octet-stream"},
    )
    uploading = cloud.get(f"image/v2/images/{image['id']}").json()
    response = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "glance-direct"}, "all_stores": True},
    )

    assert staged.status_code == 204
    assert uploading["status"] == "uploading"
    assert uploading["size"] == len(DATA)
    assert "os_glance_stage_host" not in uploading  # kept on the image, hidden as Glance does
    assert response.status_code == 202
    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "active"
    assert done["stores"] == "fast,cheap"
    assert done["checksum"] == hashlib.md5(DATA, usedforsecurity=False).hexdigest()
    assert Image.objects.get(pk=image["id"]).staged_blob_id == ""


def test_an_import_in_progress_is_visible_on_the_image(cloud, files, settings):
    settings.LOCALCLOUD_RATE_LIMIT = len(DATA) // 2  # about two seconds of work
    files.on("GET", "/slow.raw", Reply(body=DATA))
    image = new_image(cloud)

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={
            "method": {"name": "web-download", "uri": f"{files.url}/slow.raw"},
            "stores": ["cheap", "fast"],
        },
    )
    during = cloud.get(f"image/v2/images/{image['id']}").json()
    again = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/slow.raw"}},
    )

    assert during["status"] == "importing"
    assert during["os_glance_importing_to_stores"] == "cheap,fast"
    (task,) = import_tasks(cloud, image["id"])
    assert during["os_glance_import_task"] == task["id"]
    assert_refused(again, 409, "Image needs to be in 'queued' state to use 'web-download' method")
    assert wait_for_image(cloud, image["id"])["stores"] == "cheap,fast"


def active_image(cloud, files, *, stores: list[str] | None = None) -> dict:
    """An image imported by web-download into ``stores`` (the default store if None)."""
    files.on("GET", "/base.raw", Reply(body=DATA))
    image = new_image(cloud)
    body: dict = {"method": {"name": "web-download", "uri": f"{files.url}/base.raw"}}
    if stores:
        body["stores"] = stores
    assert cloud.post(f"image/v2/images/{image['id']}/import", json=body).status_code == 202
    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "active"
    return done


def test_copy_image_adds_stores_and_the_image_stays_active(cloud, files):
    image = active_image(cloud, files)

    response = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "copy-image"}, "stores": ["cheap"]},
    )
    during = cloud.get(f"image/v2/images/{image['id']}").json()

    assert response.status_code == 202
    assert during["status"] == "active"
    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "active"
    assert done["stores"] == "fast,cheap"
    assert done["checksum"] == image["checksum"]
    copy_task = import_tasks(cloud, image["id"])[-1]
    assert copy_task["status"] == "success"
    assert copy_task["input"]["import_req"]["method"]["name"] == "copy-image"


def test_copy_image_with_a_failing_store_succeeds_in_the_others(cloud, files, settings):
    settings.LOCALCLOUD_STORES = ["fast", "cheap", "slow"]
    image = active_image(cloud, files)
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["cheap"]

    response = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={
            "method": {"name": "copy-image"},
            "all_stores": True,
            "all_stores_must_succeed": False,
        },
    )

    assert response.status_code == 202
    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "active"
    assert done["stores"] == "fast,slow"
    assert done["os_glance_failed_import"] == "cheap"
    assert done["os_glance_importing_to_stores"] == ""
    assert import_tasks(cloud, image["id"])[-1]["status"] == "success"


def test_copy_image_that_must_succeed_everywhere_fails_and_keeps_the_image(cloud, files, settings):
    settings.LOCALCLOUD_STORES = ["fast", "cheap", "slow"]
    image = active_image(cloud, files)
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["slow"]

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "copy-image"}, "stores": ["cheap", "slow"]},
    )

    done = wait_for_image(cloud, image["id"])
    assert (done["status"], done["stores"]) == ("active", "fast")  # cheap was taken back
    assert done["os_glance_failed_import"] == "slow"
    task = import_tasks(cloud, image["id"])[-1]
    assert task["status"] == "failure"
    assert task["message"] == (
        "Writing the image to store 'slow' failed: the store 'slow' refused the write."
    )


def test_a_failed_store_sends_a_new_image_back_to_queued(cloud, files, settings):
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["fast"]
    files.on("GET", "/disk.raw", Reply(body=DATA))
    image = new_image(cloud)

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/disk.raw"}},
    )

    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "queued"
    assert done["os_glance_failed_import"] == "fast"
    assert "stores" not in done
    assert import_tasks(cloud, image["id"])[0]["status"] == "failure"
    settings.LOCALCLOUD_FAULT_FAILING_STORES = []
    retried = cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/disk.raw"}},
    )
    assert retried.status_code == 202
    again = wait_for_image(cloud, image["id"])
    assert (again["status"], again["stores"], again["os_glance_failed_import"]) == (
        "active",
        "fast",
        "",
    )


def test_partial_success_makes_the_image_active_in_the_stores_that_worked(cloud, files, settings):
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["cheap"]
    files.on("GET", "/disk.raw", Reply(body=DATA))
    image = new_image(cloud)

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={
            "method": {"name": "web-download", "uri": f"{files.url}/disk.raw"},
            "stores": ["cheap", "fast"],
            "all_stores_must_succeed": False,
        },
    )

    done = wait_for_image(cloud, image["id"])
    assert (done["status"], done["stores"], done["os_glance_failed_import"]) == (
        "active",
        "fast",
        "cheap",
    )


def test_a_url_that_answers_404_fails_the_task_with_glances_message(cloud, files):
    image = new_image(cloud)

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/missing.raw"}},
    )

    done = wait_for_image(cloud, image["id"])
    assert done["status"] == "queued"
    assert done["os_glance_failed_import"] == "fast"
    (task,) = import_tasks(cloud, image["id"])
    assert (task["status"], task["message"]) == ("failure", "Task failed due to Internal Error")


def test_a_redirect_is_followed_on_loopback_only(cloud, files):
    files.on("GET", "/moved.raw", Reply(302, headers={"Location": "/images/disk.raw"}))
    files.on("GET", "/images/disk.raw", Reply(body=DATA))
    files.on("GET", "/away.raw", Reply(302, headers={"Location": "http://192.0.2.1/x.raw"}))
    followed, refused = new_image(cloud), new_image(cloud)

    for image, path in ((followed, "/moved.raw"), (refused, "/away.raw")):
        cloud.post(
            f"image/v2/images/{image['id']}/import",
            json={"method": {"name": "web-download", "uri": f"{files.url}{path}"}},
        )

    assert wait_for_image(cloud, followed["id"])["size"] == len(DATA)
    assert wait_for_image(cloud, refused["id"])["status"] == "queued"
    (task,) = import_tasks(cloud, refused["id"])
    assert task["message"] == "Redirect to disallowed URL: http://192.0.2.1/x.raw"
    assert files.requests(path="/away.raw")  # fetched, and the redirect not followed


def test_redirects_in_a_loop_fail_the_task(cloud, files):
    files.on("GET", "/loop.raw", Reply(302, headers={"Location": "/loop.raw"}))
    image = new_image(cloud)

    cloud.post(
        f"image/v2/images/{image['id']}/import",
        json={"method": {"name": "web-download", "uri": f"{files.url}/loop.raw"}},
    )

    wait_for_image(cloud, image["id"])
    (task,) = import_tasks(cloud, image["id"])
    assert task["message"] == f"Too many redirects (more than 3) from {files.url}/loop.raw"
    assert len(files.requests(path="/loop.raw")) == 4


def dead_import(cloud, account, *, attempts: int) -> tuple[str, CloudTask]:
    """A glance-direct import whose run died mid-way: the image staged and locked by a
    task left ``processing`` with a claim older than the lease."""
    image = new_image(cloud)
    cloud.put(f"image/v2/images/{image['id']}/stage", data=DATA)
    row = Image.objects.get(pk=image["id"])
    now = timezone.now()
    task = CloudTask.objects.create(
        project=account.project,
        type="api_image_import",
        input={
            "image_id": image["id"],
            "import_req": {"method": {"name": "glance-direct"}},
            "backend": ["fast"],
        },
        image_id=row.id,
        status="processing",
        attempts=attempts,
        created_at=now,
        updated_at=now,
        started_at=now - lifecycle.lease() - timedelta(seconds=1),
    )
    import_state.begin(row, task.id, ["fast"], "glance-direct")
    row.save()
    return image["id"], task


def test_an_import_whose_worker_died_is_run_again_by_recovery(cloud, account):
    image_id, task = dead_import(cloud, account, attempts=1)

    assert lifecycle.recover_stuck() == 1

    done = wait_for_image(cloud, image_id)
    assert (done["status"], done["stores"], done["size"]) == ("active", "fast", len(DATA))
    task.refresh_from_db()
    assert (task.status, task.attempts) == ("success", 2)


def test_an_import_whose_runs_keep_dying_fails_and_frees_the_image(cloud, account):
    image_id, task = dead_import(cloud, account, attempts=lifecycle.MAX_ATTEMPTS)

    assert lifecycle.recover_stuck() == 1

    image = cloud.get(f"image/v2/images/{image_id}").json()
    assert image["status"] == "queued"
    assert image["os_glance_failed_import"] == "fast"
    assert image["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in image
    task.refresh_from_db()
    assert task.status == "failure"
