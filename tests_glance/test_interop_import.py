"""Interoperable import on a stock Glance, as a member of a project: what the dashboard
discovers, and the imports it submits followed by the tracker to their end.

Every test uses Glance's default policy (the tasks API is admin-only) and acts with
member roles, as most accounts on a public cloud do: the only way such an account can
import is ``POST /v2/images/{id}/import``. Each import is submitted through the
dashboard's ``submit`` and followed by ``run_tracker`` (the dispatcher's claim and the
poller's round over real HTTP, see ``tracker_fixtures``), which reads the images in one
list and an image's ``api_image_import`` tasks from ``GET /v2/images/{id}/tasks``.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking.submission import Upload, submit
from imagetasks.openstack.types import Image
from tests_glance.harness.config import IMPORT_METHODS, STORES

pytest_plugins = ["tests_glance.tracker_fixtures"]
pytestmark = pytest.mark.django_db(transaction=True)

GLANCE_FAILURE = "Task failed due to Internal Error"
COPY_REFUSED = "You are not authorized to complete copy_image action."
# What the tracker may show of an import on its way, in order.
PROGRESS = (statuses.PENDING, statuses.PROCESSING)


def reload(task: ImageTask) -> ImageTask:
    task.refresh_from_db()
    return task


def ended(task: ImageTask) -> ImageTask | None:
    task = reload(task)
    return task if task.status in statuses.TERMINAL else None


def timeline(task: ImageTask) -> list[str]:
    return list(task.snapshots.order_by("observed_at", "id").values_list("status", flat=True))


def in_order(seen: list[str], allowed: tuple[str, ...]) -> bool:
    """Whether ``seen`` goes through ``allowed`` in order, some left out. A status may
    come again in a row: every move of the image (``importing``, then ``active`` while
    Glance still finishes the task) is a snapshot of its own."""
    rest = iter(allowed)
    distinct = [status for n, status in enumerate(seen) if n == 0 or seen[n - 1] != status]
    return all(status in rest for status in distinct)


def md5(data: bytes) -> str:
    """Glance's ``checksum`` of an image's data."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def image_of(cloud: Cloud, task: ImageTask) -> Image:
    return client_for(cloud).images.get_image(task.result["image_id"])


def web_download(cloud: Cloud, uri: str, name: str, **fields) -> ImageTask:
    task_input = {"uri": uri, "image_properties": {"name": name, "disk_format": "raw"}, **fields}
    return submit(cloud, "import", task_input, method="web-download")


def follow(run_tracker, task: ImageTask, glance) -> ImageTask:
    """The tracker's rounds until the import ends; its row then."""
    run_tracker(lambda: ended(task), what=f"the {task.method} import to end")
    task = reload(task)
    assert task.poll_errors == 0 and task.last_error == "", glance.log_tail()
    return task


def test_a_member_finds_the_import_methods_both_stores_and_the_tasks_api_closed(
    glance_admin_only, glance_cloud, project
):
    cloud = glance_cloud(glance_admin_only, project)
    out, err = io.StringIO(), io.StringIO()

    call_command("refresh_capabilities", cloud.name, stdout=out, stderr=err)

    cloud.refresh_from_db()
    assert err.getvalue() == "" and cloud.capabilities_error == ""
    assert sorted(cloud.import_methods) == sorted(IMPORT_METHODS)
    # Glance writes only the default flag, as the string "true", and no description
    # unless the deployment configures one.
    assert cloud.image_stores == [
        {"id": STORES[0], "description": "", "default": True},
        {"id": STORES[1], "description": "", "default": False},
    ]
    assert cloud.tasks_api == Cloud.TasksApi.ADMIN_ONLY
    assert cloud.images_api_version == "2.17"
    assert out.getvalue() == (
        f"{cloud.name}: Images API 2.17; import methods: glance-direct, web-download, "
        "copy-image; stores: fast (default), cheap; tasks API: admin only\n"
    )


def test_a_web_download_is_followed_to_an_active_image_with_the_files_checksum(
    glance_admin_only, glance_cloud, run_tracker, project, disk_image: Path
):
    glance = glance_admin_only
    cloud = glance_cloud(glance, project)

    task = web_download(cloud, glance.serve_file(disk_image), "web-01")
    assert task.status in PROGRESS, task.message
    task = follow(run_tracker, task, glance)

    assert task.status == statuses.SUCCESS, (task.message, glance.log_tail())
    assert in_order(timeline(task), (*PROGRESS, statuses.SUCCESS)), timeline(task)
    assert task.message == ""
    assert task.result["stores"] == [STORES[0]] and task.result["failed_stores"] == []
    assert task.result["task_status"] == "success"
    # The member read the import's own task at /v2/images/{id}/tasks.
    (remote,) = client_for(cloud).imports.image_tasks(task.result["image_id"])
    assert (task.remote_id, remote.type, remote.owner) == (remote.id, "api_image_import", project)
    data = disk_image.read_bytes()
    image = image_of(cloud, task)
    assert (image.status, image.name, image.owner, image.size) == (
        "active",
        "web-01",
        project,
        len(data),
    )
    assert image.checksum == md5(data)
    assert (image.os_hash_algo, image.os_hash_value) == ("sha512", hashlib.sha512(data).hexdigest())


def test_a_web_download_of_a_url_that_answers_404_fails_with_glances_message(
    glance_admin_only, glance_cloud, run_tracker, project
):
    glance = glance_admin_only
    cloud = glance_cloud(glance, project)

    task = web_download(cloud, glance.file_server.missing_url("gone.raw"), "gone")
    task = follow(run_tracker, task, glance)

    assert task.status == statuses.FAILURE
    assert task.message == GLANCE_FAILURE
    assert task.result["failed_stores"] == [STORES[0]] and task.result["stores"] == []
    assert task.result["task_status"] == "failure" and task.remote_id
    last = task.snapshots.order_by("observed_at", "id").last()
    assert (last.status, last.message) == (statuses.FAILURE, GLANCE_FAILURE)
    image = image_of(cloud, task)
    assert image.status == "queued", "Glance sends the image back to queued for another try"
    assert image.import_state.failed == (STORES[0],)


def test_a_glance_direct_import_of_a_small_file_lands_in_the_store_asked_for(
    glance_admin_only, glance_cloud, run_tracker, project
):
    glance = glance_admin_only
    cloud = glance_cloud(glance, project)
    data = os.urandom(64 * 1024)

    task = submit(
        cloud,
        "import",
        {"image_properties": {"name": "staged", "disk_format": "raw"}, "stores": [STORES[1]]},
        method="glance-direct",
        upload=Upload(io.BytesIO(data), len(data)),
    )
    assert task.status in PROGRESS, task.message
    task = follow(run_tracker, task, glance)

    assert task.status == statuses.SUCCESS, (task.message, glance.log_tail())
    assert task.result["stores"] == [STORES[1]] and task.remote_id
    image = image_of(cloud, task)
    assert (image.status, image.size) == ("active", len(data))
    assert image.checksum == md5(data)


def test_copy_image_is_for_admins_so_a_member_is_refused_and_an_admin_copies_to_both_stores(
    glance_admin_only, glance_cloud, run_tracker, project, disk_image: Path
):
    """Glance's default policy keeps ``copy_image`` to admins of the image's project: a
    member's copy is refused at once with Glance's words; the project's admin, on the
    same image, gets it into the second store beside the first."""
    glance = glance_admin_only
    member = glance_cloud(glance, project)
    imported = follow(
        run_tracker, web_download(member, glance.serve_file(disk_image), "to-copy"), glance
    )
    assert imported.status == statuses.SUCCESS, imported.message
    image_id = imported.result["image_id"]
    copy_input = {"image_id": image_id, "stores": [STORES[1]]}

    refused = submit(member, "import", copy_input, method="copy-image", name="to-copy")

    assert refused.status == statuses.REJECTED
    assert refused.message == COPY_REFUSED
    assert not refused.watching and not refused.snapshots.exists()

    admin = glance_cloud(glance, project, roles="admin,member,reader")
    copy = follow(
        run_tracker,
        submit(admin, "import", copy_input, method="copy-image", name="to-copy"),
        glance,
    )

    assert copy.status == statuses.SUCCESS, (copy.message, glance.log_tail())
    assert copy.result["image_id"] == image_id and copy.result["partial"] is False
    assert copy.result["stores"] == list(STORES)
    assert copy.remote_id and copy.remote_id != imported.remote_id
    image = image_of(member, copy)
    assert image.status == "active" and image.import_state.stores == STORES
    assert image.checksum == md5(disk_image.read_bytes())
