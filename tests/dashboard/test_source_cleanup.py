"""Deleting an import's source object once the import succeeded, when asked in the form."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.jobs import delete_imported_sources
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.openstack import NotFound
from tests.support.factories import make_task
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def import_through_the_form(client, name: str, data: bytes, delete_source: bool) -> ImageTask:
    objects = client_for(Cloud.objects.get(name="local")).objects
    objects.create_container("images")
    objects.put_object("images", f"{name}.vhd", data)
    fields = {"cloud": "local", "submission_id": str(uuid.uuid4()), "container": "images",
              "object": f"{name}.vhd", "name": name}  # fmt: skip
    if delete_source:
        fields["delete_source"] = "on"
    response = client.post("/tasks/new/import/?cloud=local", fields)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = ImageTask.objects.get(pk=fields["submission_id"])
    return wait_for(
        lambda: ImageTask.objects.filter(pk=task.pk, status__in=statuses.TERMINAL).first(),
        what=f"the import of {name} to end",
    )


def test_the_source_is_deleted_after_a_successful_import_and_the_task_page_says_so(
    cloud_operator_client, local_cloud, beat
):
    task = import_through_the_form(cloud_operator_client, "web-01", vhd_samples.fixed_vhd(), True)
    assert task.status == statuses.SUCCESS
    page = cloud_operator_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "being deleted now that the import succeeded" in page

    assert delete_imported_sources() == 1

    with pytest.raises(NotFound):
        client_for(local_cloud).objects.head_object("images", "web-01.vhd")
    page = cloud_operator_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "deleted after the import succeeded" in page
    assert delete_imported_sources() == 0  # once only
    image_id = ImageTask.objects.get(pk=task.pk).result["image_id"]
    assert client_for(local_cloud).images.get_image(image_id).status == "active"


def test_a_failed_import_keeps_its_source(cloud_operator_client, local_cloud, beat):
    task = import_through_the_form(cloud_operator_client, "broken", b"not a disk at all" * 64, True)
    assert task.status == statuses.FAILURE

    assert delete_imported_sources() == 0

    assert client_for(local_cloud).objects.head_object("images", "broken.vhd").content_length > 0
    page = cloud_operator_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "kept: the import did not succeed" in page


def test_without_the_option_the_source_stays(cloud_operator_client, local_cloud, beat):
    task = import_through_the_form(cloud_operator_client, "web-02", vhd_samples.fixed_vhd(), False)
    assert task.status == statuses.SUCCESS

    assert delete_imported_sources() == 0

    assert client_for(local_cloud).objects.head_object("images", "web-02.vhd").content_length > 0


def test_a_source_already_gone_counts_as_deleted(cloud_operator_client, local_cloud, beat):
    task = import_through_the_form(cloud_operator_client, "web-03", vhd_samples.fixed_vhd(), True)
    client_for(local_cloud).objects.delete_object("images", "web-03.vhd")

    assert delete_imported_sources() == 1

    assert ImageTask.objects.get(pk=task.pk).source_deleted_at is not None


def test_a_resubmission_keeps_the_choice(cloud_operator_client, local_cloud, beat):
    task = import_through_the_form(cloud_operator_client, "broken-2", b"not a disk" * 64, True)

    cloud_operator_client.post(f"/tasks/{task.pk}/resubmit/")

    again = ImageTask.objects.get(resubmitted_from=task)
    assert again.delete_source_after_import is True


def test_a_source_stored_as_a_large_object_is_deleted_with_all_its_segments(local_cloud, settings):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * 1024 * 1024
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    disk = vhd_samples.fixed_vhd() * 3  # 12 MiB: four segments
    objects.upload("images", "big.vhd", disk, len(disk), segment_size=3 * 1024 * 1024)
    assert objects.head_object("images", "big.vhd").static_large_object
    make_task(
        local_cloud,
        status=statuses.SUCCESS,
        delete_source_after_import=True,
        input={"import_from": "images/big.vhd", "image_properties": {"name": "big"}},
    )

    assert delete_imported_sources() == 1

    with pytest.raises(NotFound):
        objects.head_object("images", "big.vhd")
    assert list(objects.list_objects("images_segments")) == []
