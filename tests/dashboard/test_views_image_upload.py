"""Uploading a file into a new image (glance-direct) through the dashboard, against the
live built-in cloud: the page's PUT, what it refuses, who may, and a body cut off."""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import Image
from tests.support.stalling import put_cut_short, session_headers
from tests.support.tracking import finished
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]

UPLOAD = "/clouds/local/upload-image/"


def fields(**changed) -> dict[str, str]:
    return {
        "cloud": "local",
        "submission_id": str(uuid.uuid4()),
        "name": "web-03",
        "disk_format": "vhd",
        "container_format": "bare",
        "filename": "web-03.vhd",
        **changed,
    }


def put(client, data: bytes, query: dict, **headers):
    return client.put(
        f"{UPLOAD}?{urlencode(query, doseq=True)}",
        data=data,
        content_type="application/octet-stream",
        **headers,
    )


@pytest.fixture
def discovered(local_cloud):
    """The built-in cloud as its capabilities say: glance-direct, stores fast and cheap."""
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    return local_cloud


def test_a_file_put_into_a_new_image_is_imported_with_the_files_checksum(
    cloud_operator_client, discovered, beat
):
    disk = vhd_samples.fixed_vhd()

    response = put(cloud_operator_client, disk, fields(stores=["cheap"]))

    assert response.status_code == 201, response.content
    task = ImageTask.objects.get()
    assert response.json()["task_url"] == f"/tasks/{task.pk}/"
    assert task.method == "glance-direct"
    assert task.input == {
        "filename": "web-03.vhd",
        "image_properties": {"name": "web-03", "disk_format": "vhd", "container_format": "bare"},
        "stores": ["cheap"],
    }
    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS, task.message
    image = client_for(discovered).images.get_image(task.result["image_id"])
    assert image.checksum == hashlib.md5(disk, usedforsecurity=False).hexdigest()
    assert task.result["stores"] == ["cheap"]
    page = cloud_operator_client.get(response.json()["task_url"]).content.decode()
    assert "Import on the image" in page and "web-03.vhd" in page


def test_the_same_submission_sent_twice_makes_one_task_and_one_image(
    cloud_operator_client, discovered
):
    disk = vhd_samples.fixed_vhd()
    query = fields()

    first = put(cloud_operator_client, disk, query)
    again = put(cloud_operator_client, disk, query)

    assert first.status_code == again.status_code == 201, first.content
    assert first.json()["task_url"] == again.json()["task_url"]
    assert ImageTask.objects.count() == 1
    assert Image.objects.count() == 1


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"name": ""}, "Image name: This field is required."),
        ({"disk_format": "floppy"}, "Disk format: Select a valid choice."),
        ({"stores": ["nowhere"]}, "Stores: Select a valid choice. nowhere is not one"),
        ({"submission_id": "x"}, "Submission id: Enter a valid UUID."),
    ],
)
def test_bad_fields_are_refused_with_what_to_fix_and_nothing_is_created(
    cloud_operator_client, discovered, changed, said
):
    response = put(cloud_operator_client, b"x" * 512, fields(**changed))

    assert response.status_code == 400
    assert said in response.json()["error"]
    assert not ImageTask.objects.exists() and not Image.objects.exists()


def test_an_empty_file_or_no_length_is_refused(cloud_operator_client, discovered):
    empty = put(cloud_operator_client, b"", fields(), CONTENT_LENGTH="0")
    unsized = put(cloud_operator_client, b"abc", fields(), CONTENT_LENGTH="")

    assert empty.status_code == 400 and "The file is empty" in empty.json()["error"]
    assert unsized.status_code == 411
    assert not Image.objects.exists()


def test_a_cloud_without_glance_direct_or_switched_off_is_refused(
    cloud_operator_client, discovered
):
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])
    not_offered = put(cloud_operator_client, b"x" * 512, fields())
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["glance-direct"], enabled=False)
    switched_off = put(cloud_operator_client, b"x" * 512, fields())

    assert not_offered.status_code == 409
    assert "does not offer uploads into an image" in not_offered.json()["error"]
    assert switched_off.status_code == 409 and "switched off" in switched_off.json()["error"]
    assert not Image.objects.exists()


def test_viewers_may_not_upload_and_clouds_not_granted_are_not_found(
    client, django_user_model, discovered
):
    viewer = django_user_model.objects.create_user("vera", password="pw-vera-123")
    viewer.groups.add(Group.objects.get_or_create(name="viewers")[0])
    discovered.users.add(viewer)
    client.force_login(viewer)
    assert put(client, b"x" * 512, fields()).status_code == 403

    outsider = django_user_model.objects.create_user("otto", password="pw-otto-123")
    outsider.groups.add(Group.objects.get_or_create(name="operators")[0])
    client.force_login(outsider)
    assert put(client, b"x" * 512, fields()).status_code == 404
    assert not Image.objects.exists()


def test_only_put_is_accepted(cloud_operator_client, discovered):
    assert cloud_operator_client.get(UPLOAD).status_code == 405
    assert cloud_operator_client.post(UPLOAD).status_code == 405


def test_an_upload_cut_off_is_rejected_with_the_reason_and_its_empty_image_removed(
    cloud_operator_client, discovered, live_server
):
    """A real socket that announces 4 MiB, sends 1 MiB and stops sending, like a lost network."""
    answer = put_cut_short(
        live_server.url,
        f"{UPLOAD}?{urlencode(fields())}",
        session_headers(cloud_operator_client),
    )

    assert answer.startswith(b"HTTP/1.1 400"), answer[:300]
    task = ImageTask.objects.get()
    assert task.status == statuses.REJECTED
    assert task.message.startswith("The upload was cut off (the upload ended 3145728 bytes early)")
    assert "the empty image made for it was removed" in task.message
    assert task.message.encode() in answer
    assert not Image.objects.exists()


def test_an_upload_is_not_resubmitted_since_its_file_is_not_kept(cloud_operator_client, discovered):
    response = put(cloud_operator_client, vhd_samples.fixed_vhd(), fields())
    task = ImageTask.objects.get()

    again = cloud_operator_client.post(f"/tasks/{task.pk}/resubmit/", follow=True)

    assert response.status_code == 201
    assert "cannot be sent again: the file is not kept here" in again.content.decode()
    assert ImageTask.objects.count() == 1
