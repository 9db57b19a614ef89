"""Interoperable imports followed to their end on the built-in cloud, over real HTTP.

A real Celery worker runs the dashboard's poll jobs and the cloud's import jobs; a beat
thread sends the dispatcher job through the broker. The URLs a web-download fetches are
served by a scripted server on loopback.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.submission import submit
from tests.openstack.scripted import Reply
from tests.support.tracking import finished, timeline
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DATA = b"a raw disk image " * 4096
IMAGE = {"name": "cirros", "disk_format": "raw"}


def web_download(cloud, uri: str, name: str = "cirros", **fields):
    return submit(
        cloud,
        "import",
        {"uri": uri, "image_properties": {"name": name, "disk_format": "raw"}, **fields},
        method="web-download",
    )


def test_a_web_download_is_followed_to_an_active_image_in_the_stores_asked_for(
    local_cloud, beat, files
):
    files.on("GET", "/disk.raw", Reply(body=DATA))

    task = web_download(local_cloud, f"{files.url}/disk.raw", stores=["fast", "cheap"])
    wait_for(lambda: finished(task), what="the import to finish")

    assert task.status == statuses.SUCCESS, task.message
    assert task.result["stores"] == ["fast", "cheap"] and task.result["partial"] is False
    image = client_for(local_cloud).images.get_image(task.result["image_id"])
    assert (image.status, image.name, image.size) == ("active", "cirros", len(DATA))
    assert task.remote_id, "the import's api_image_import task"
    assert timeline(task)[-1] == "success"


def test_a_url_that_answers_404_ends_in_failure_with_glances_message(local_cloud, beat, files):
    task = web_download(local_cloud, f"{files.url}/missing.raw")
    wait_for(lambda: finished(task), what="the import to fail")

    assert task.status == statuses.FAILURE
    assert task.message == "Task failed due to Internal Error"
    assert task.result["failed_stores"] == ["fast"]
    image = client_for(local_cloud).images.get_image(task.result["image_id"])
    assert image.status == "queued", "Glance sends the image back to queued"


def test_a_copy_that_one_store_refuses_partly_succeeds(local_cloud, beat, files, settings):
    settings.LOCALCLOUD_STORES = ["fast", "cheap", "slow"]
    files.on("GET", "/disk.raw", Reply(body=DATA))
    imported = web_download(local_cloud, f"{files.url}/disk.raw")
    wait_for(lambda: finished(imported), what="the import to finish")
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["slow"]
    image_id = imported.result["image_id"]

    copy = submit(
        local_cloud,
        "import",
        {"image_id": image_id, "stores": ["cheap", "slow"], "all_stores_must_succeed": False},
        method="copy-image",
        name="cirros",
    )
    wait_for(lambda: finished(copy), what="the copy to finish")

    assert copy.status == statuses.SUCCESS
    assert copy.result["partial"] is True
    assert copy.result["failed_stores"] == ["slow"]
    assert copy.result["stores"] == ["fast", "cheap"]
    assert imported.result["image_id"] == copy.result["image_id"]


def test_the_cli_submits_a_web_download_and_shows_its_import_state(local_cloud, beat, files):
    files.on("GET", "/disk.raw", Reply(body=DATA))
    task_input = {"uri": f"{files.url}/disk.raw", "image_properties": IMAGE}
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "submit_task", "--cloud", local_cloud.name, "--method", "web-download",
        "--input", json.dumps(task_input), stdout=out, stderr=err,
    )  # fmt: skip
    task = ImageTask.objects.get(pk=out.getvalue().strip())
    wait_for(lambda: finished(task), what="the import to finish")
    shown = io.StringIO()
    call_command("show_task", str(task.pk), stdout=shown)

    assert "method     web-download" in shown.getvalue()
    assert f"image      {task.result['image_id']} (active)" in shown.getvalue()
    assert "stores     fast" in shown.getvalue()
    assert "glance task success" in shown.getvalue()
