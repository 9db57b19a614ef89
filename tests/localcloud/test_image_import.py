"""Glance's interoperable image import on the built-in cloud, over real HTTP.

A file server on loopback (the scripted peer of the client's tests) serves what
web-download fetches; glance-direct stages bytes with PUT; a real worker runs the
``api_image_import`` task. Every test reads what a client would: the image's status,
its ``os_glance_*`` properties, ``stores``, checksums and the task.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from imagetasks.localcloud.models import Image
from tests.openstack.scripted import Reply, ScriptedCloud
from tests.support.glance_api import assert_refused

pytestmark = pytest.mark.usefixtures("task_worker")

DATA = b"disk image bytes " * 4096


@pytest.fixture
def files():
    """An HTTP server on 127.0.0.1 that serves the files a test puts on it."""
    server = ScriptedCloud().start()
    yield server
    server.stop()


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
            "value": ["glance-direct", "web-download", "copy-image"],
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
        "glance-direct,web-download,copy-image"
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
