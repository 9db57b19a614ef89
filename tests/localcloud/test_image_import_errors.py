"""What the built-in cloud refuses on the interoperable import, with Glance's words:
wrong states (409), bad methods, stores and URIs (400), the tasks API of an admin-only
project (403), a stage cut off mid-way, and bodies no client should send."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from imagetasks.localcloud.models import CloudTask, Image, Project
from tests.openstack.scripted import Reply, ScriptedCloud
from tests.support.glance_api import assert_refused

pytestmark = pytest.mark.usefixtures("task_worker")


def new_image(cloud, **fields) -> str:
    body = {"name": "refused", "disk_format": "raw", "container_format": "bare", **fields}
    response = cloud.post("image/v2/images", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def import_(cloud, image_id: str, body, **kwargs):
    return cloud.post(f"image/v2/images/{image_id}/import", json=body, **kwargs)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Import request requires a 'method' field."),
        ({"method": "web-download"}, "Import request requires a 'method' field."),
        ({"method": {}}, "Import request requires a 'name' field."),
        ({"method": {"name": "ftp-download"}}, "Unknown import method name 'ftp-download'."),
        ({"method": {"name": "s3-download"}}, "Unknown import method name 's3-download'."),
        (
            {"method": {"name": "glance-direct"}, "all_stores": "yes"},
            "'all_stores' must be boolean value only",
        ),
        (
            {"method": {"name": "glance-direct"}, "all_stores_must_succeed": 0},
            "'all_stores_must_succeed' must be boolean value only",
        ),
        ([], "Unexpected body type. Expected list/dict."),
    ],
)
def test_a_body_that_names_no_usable_method_is_400(cloud, body, message):
    image_id = new_image(cloud)

    assert_refused(import_(cloud, image_id, body), 400, message)
    assert Image.objects.get(pk=image_id).status == "queued"


@pytest.mark.parametrize(
    "uri",
    [
        "http://192.0.2.10/disk.raw",
        "http://example.com/disk.raw",
        "http://127.0.0.2/disk.raw",
        "http://[::2]/disk.raw",
        "file:///etc/passwd",
        "ftp://127.0.0.1/disk.raw",
        "http://localhost:notaport/disk.raw",
        "",
        None,
        42,
    ],
)
def test_web_download_refuses_every_host_but_loopback(cloud, uri):
    image_id = new_image(cloud)

    response = import_(cloud, image_id, {"method": {"name": "web-download", "uri": uri}})

    assert_refused(response, 400, f"URI for web-download does not pass filtering: {uri}")
    assert not CloudTask.objects.exists()
    assert Image.objects.get(pk=image_id).status == "queued"


@pytest.mark.parametrize(
    ("body", "headers", "status", "message"),
    [
        ({"stores": ["tape"]}, {}, 409, "Unknown scheme 'tape' found in URI"),
        ({}, {"X-Image-Meta-Store": "tape"}, 409, "Unknown scheme 'tape' found in URI"),
        ({"stores": "fast"}, {}, 400, "'stores' must be a list of store names"),
        ({"stores": []}, {}, 400, "'stores' must name at least one store"),
        (
            {"stores": ["fast"], "all_stores": True},
            {},
            400,
            "All_stores parameter can't be used with x-image-meta-store header or stores parameter",
        ),
        (
            {"stores": ["fast"]},
            {"X-Image-Meta-Store": "cheap"},
            400,
            "Stores parameter and x-image-meta-store header can't be both specified",
        ),
    ],
)
def test_stores_must_be_ones_the_cloud_has(cloud, body, headers, status, message):
    image_id = new_image(cloud)
    request = {"method": {"name": "web-download", "uri": "http://127.0.0.1:9/x"}, **body}

    assert_refused(import_(cloud, image_id, request, headers=headers), status, message)


def test_an_import_in_the_wrong_state_is_409(cloud, account, tmp_path):
    from imagetasks.localcloud import vhd_samples
    from imagetasks.localcloud.images.creation import create_image_from_file

    queued = new_image(cloud)
    unformatted = new_image(cloud, disk_format=None, container_format=None)
    path = tmp_path / "fixed.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    active = str(create_image_from_file(account.project, "active", path, "vhd").id)
    uri = {"method": {"name": "web-download", "uri": "http://127.0.0.1:9/x"}}

    assert_refused(
        import_(cloud, active, uri), 409, "Image with status active cannot be target for import"
    )
    assert_refused(
        import_(cloud, queued, {"method": {"name": "glance-direct"}}),
        409,
        "Image needs to be staged before 'glance-direct' method can be used",
    )
    assert_refused(
        import_(cloud, queued, {"method": {"name": "copy-image"}}),
        409,
        "Only images with status active can be targeted for copying",
    )
    assert_refused(
        import_(cloud, unformatted, uri), 409, "'container_format' needs to be set before import"
    )
    assert_refused(
        import_(cloud, active, {"method": {"name": "copy-image"}, "stores": ["fast"]}),
        400,
        "Image is already present at store 'fast'",
    )
    staged = cloud.put(f"image/v2/images/{active}/stage", data=b"x")
    assert_refused(staged, 409, "Image status transition from active to uploading is not allowed")


def test_another_projects_image_cannot_be_staged_or_imported(cloud, other_cloud):
    image_id = new_image(cloud)

    assert_refused(
        other_cloud.put(f"image/v2/images/{image_id}/stage", data=b"x"),
        404,
        f"No image found with ID {image_id}",
    )
    assert_refused(
        import_(other_cloud, image_id, {"method": {"name": "glance-direct"}}),
        404,
        f"No image found with ID {image_id}",
    )
    assert other_cloud.get(f"image/v2/images/{image_id}/tasks").status_code == 404


def test_an_admin_only_project_gets_glances_403_on_the_tasks_api_but_may_import(cloud, account):
    Project.objects.filter(pk=account.project.pk).update(tasks_api="admin")
    image_id = new_image(cloud)
    cloud.put(f"image/v2/images/{image_id}/stage", data=b"staged bytes")

    listed = cloud.get("image/v2/tasks")
    posted = cloud.post("image/v2/tasks", data=b"not even json")
    imported = import_(cloud, image_id, {"method": {"name": "glance-direct"}})
    (task,) = cloud.get(f"image/v2/images/{image_id}/tasks").json()["tasks"]
    shown = cloud.get(f"image/v2/tasks/{task['id']}")

    message = "You are not authorized to complete tasks_api_access action."
    assert_refused(listed, 403, message)
    assert_refused(posted, 403, message)  # the policy is checked before the body is read
    assert_refused(shown, 403, message)
    assert imported.status_code == 202


def test_a_member_project_sees_import_tasks_in_the_tasks_api_too(cloud):
    image_id = new_image(cloud)
    cloud.put(f"image/v2/images/{image_id}/stage", data=b"staged bytes")
    import_(cloud, image_id, {"method": {"name": "glance-direct"}})

    listed = cloud.get("image/v2/tasks", params={"type": "api_image_import"}).json()["tasks"]
    shown = cloud.get(f"image/v2/tasks/{listed[0]['id']}").json()

    assert [task["type"] for task in listed] == ["api_image_import"]
    assert shown["image_id"] == image_id
    assert shown["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    refused = cloud.post("image/v2/tasks", json={"type": "api_image_import", "input": {}})
    assert refused.status_code == 400


def test_a_stage_cut_off_mid_way_stages_nothing_and_the_image_is_queued_again(
    cloud, live_server, account
):
    image_id = new_image(cloud)
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as client:
        client.sendall(
            f"PUT /localcloud/image/v2/images/{image_id}/stage HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\nX-Auth-Token: {account.token()}\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n".encode()
            + b"x" * 5000
        )
        client.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := client.recv(65536):
            received += chunk
        answer = received.decode(errors="replace")

    assert answer.startswith("HTTP/1.1 400")
    assert "The request body ended before Content-Length bytes arrived." in answer
    image = Image.objects.get(pk=image_id)
    assert (image.status, image.staged_blob_id) == ("queued", "")
    restaged = cloud.put(f"image/v2/images/{image_id}/stage", data=b"whole")
    assert restaged.status_code == 204
    assert cloud.get(f"image/v2/images/{image_id}").json()["size"] == 5


def test_a_stage_larger_than_the_image_limit_is_413_and_leaves_the_image_queued(cloud, settings):
    settings.LOCALCLOUD_MAX_IMAGE_SIZE = 10
    image_id = new_image(cloud)

    response = cloud.put(f"image/v2/images/{image_id}/stage", data=b"x" * 11)

    assert_refused(response, 413, "Your request is too large.")
    assert Image.objects.get(pk=image_id).status == "queued"


def test_web_download_stops_at_the_image_limit(cloud, settings):
    settings.LOCALCLOUD_MAX_IMAGE_SIZE = 1000
    files = ScriptedCloud().start()
    try:
        files.on("GET", "/big.raw", Reply(body=b"x" * 5000))
        image_id = new_image(cloud)
        import_(
            cloud, image_id, {"method": {"name": "web-download", "uri": f"{files.url}/big.raw"}}
        )
        task = wait_for_task_of(cloud, image_id)
    finally:
        files.stop()

    assert task["message"] == (
        "The incoming image is too large: it exceeds the limit of 1000 bytes."
    )
    assert Image.objects.get(pk=image_id).status == "queued"


def wait_for_task_of(cloud, image_id: str) -> dict:
    import time

    deadline = time.monotonic() + 30
    while True:
        tasks = cloud.get(f"image/v2/images/{image_id}/tasks").json()["tasks"]
        if tasks and tasks[0]["status"] in ("success", "failure"):
            return tasks[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"status": "active"}, 403, "Attribute 'status' is read-only."),
        ({"stores": "fast"}, 403, "Attribute 'stores' is read-only."),
        ({"os_glance_import_task": "x"}, 403, "Attribute 'os_glance_import_task' is reserved."),
        ({"deleted": "true"}, 403, "Attribute 'deleted' is reserved."),
        (
            {"visibility": "public"},
            403,
            "You are not authorized to complete publicize_image action.",
        ),
        (
            {"disk_format": "exe"},
            400,
            "Provided object does not match schema 'image': 'exe' is not one of",
        ),
        ({"min_ram": -1}, 400, "Provided object does not match schema 'image': -1 must be between"),
        (
            {"min_disk": 2**40},
            400,
            "Provided object does not match schema 'image': 1099511627776 must",
        ),
        (
            {"min_disk": "10"},
            400,
            "Provided object does not match schema 'image': '10' is not of type",
        ),
        ({"name": "x" * 256}, 400, "Provided object does not match schema 'image':"),
        ({"os_distro": 7}, 400, "Provided object does not match schema 'image': 7 is not of type"),
        ({"k\x00": "v"}, 400, "JSON in request body may not contain NUL characters."),
        ({"k" * 256: "v"}, 400, "Custom property should not be greater than 255 characters."),
        ({"id": "not-a-uuid"}, 400, "Provided object does not match schema 'image':"),
    ],
)
def test_a_create_body_the_schema_refuses_is_refused_as_glance_does(cloud, body, status, message):
    response = cloud.post("image/v2/images", json=body)

    assert response.status_code == status
    assert response.json()["message"].startswith(message)
    assert not Image.objects.exists()


def test_nul_and_deep_nesting_in_an_import_body_are_400(cloud):
    image_id = new_image(cloud)
    deep: dict = {"method": {"name": "glance-direct"}}
    for _ in range(40):
        deep = {"x": deep}

    nul = import_(cloud, image_id, {"method": {"name": "web-download", "uri": "http://\x00"}})
    nested = import_(cloud, image_id, deep)

    assert nul.status_code == 400
    assert nested.status_code == 400
    assert not CloudTask.objects.exists()


def test_a_patch_changes_properties_and_refuses_what_the_server_owns(cloud):
    image_id = new_image(cloud, os_distro="debian")
    patch = {"Content-Type": "application/openstack-images-v2.1-json-patch"}

    changed = cloud.patch(
        f"image/v2/images/{image_id}",
        json=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/os_version", "value": "12"},
            {"op": "remove", "path": "/os_distro"},
        ],
        headers=patch,
    )
    owned = cloud.patch(
        f"image/v2/images/{image_id}",
        json=[{"op": "add", "path": "/os_glance_failed_import", "value": ""}],
        headers=patch,
    )
    plain_json = cloud.patch(f"image/v2/images/{image_id}", json=[])

    assert changed.status_code == 200
    assert changed.headers["OpenStack-image-import-methods"]
    body = changed.json()
    assert (body["name"], body["os_version"]) == ("renamed", "12")
    assert "os_distro" not in body
    assert_refused(owned, 403, "Attribute 'os_glance_failed_import' is reserved.")
    assert plain_json.status_code == 415
