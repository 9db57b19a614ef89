"""Import and export through the forms against the live built-in cloud, followed to the end
by a real worker and beat, then the result pages and the streamed download."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.views.results import StreamingHttpResponse
from imagetasks.localcloud import vhd_samples
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def finished(task_id):
    task = ImageTask.objects.get(pk=task_id)
    return task if task.status in statuses.TERMINAL else None


def test_import_then_export_through_the_forms_and_download_the_exported_bytes(
    cloud_operator_client, local_cloud, beat
):
    disk = vhd_samples.fixed_vhd()
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "web-01.vhd", disk)

    browser = cloud_operator_client.get("/tasks/new/import/?cloud=local&container=images").content
    assert b"web-01.vhd" in browser
    response = cloud_operator_client.post(
        "/tasks/new/import/?cloud=local",
        {"cloud": "local", "submission_id": str(uuid.uuid4()), "container": "images",
         "object": "web-01.vhd", "name": "web-01"},
    )  # fmt: skip
    task_url = response["Location"]
    imported = wait_for(lambda: finished(task_url.split("/")[2]), what="the import")
    assert imported.status == statuses.SUCCESS, imported.message
    page = cloud_operator_client.get(task_url).content.decode()
    image_id = imported.result["image_id"]
    assert f"/clouds/local/images/{image_id}/" in page

    image_page = cloud_operator_client.get(f"/clouds/local/images/{image_id}/").content.decode()
    md5 = hashlib.md5(disk, usedforsecurity=False).hexdigest()
    assert "web-01" in image_page and md5 in image_page

    response = cloud_operator_client.post(
        "/tasks/new/export/?cloud=local",
        {"cloud": "local", "submission_id": str(uuid.uuid4()), "image_id": image_id,
         "container": "exports", "create_container": "on"},
    )  # fmt: skip
    exported = wait_for(lambda: finished(response["Location"].split("/")[2]), what="the export")
    assert exported.status == statuses.SUCCESS, exported.message
    location = f"exports/{image_id}.vhd"
    assert exported.result == {"export_location": location}

    object_page = cloud_operator_client.get(f"/clouds/local/objects/{location}").content.decode()
    assert f"/clouds/local/download/{location}" in object_page
    download = cloud_operator_client.get(f"/clouds/local/download/{location}")
    assert isinstance(download, StreamingHttpResponse)
    assert download["Content-Length"] == str(len(disk))
    assert b"".join(download.streaming_content) == disk
