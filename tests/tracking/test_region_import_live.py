"""Copies from another region (glance-download) on the built-in cloud, over real HTTP.

The project has the built-in cloud's second region, as the seeded ``demo-glance`` has; a
real Celery worker runs the cloud's import jobs and the dashboard's poll jobs, a beat
thread sends the dispatcher job. Submitted through the service the form and the command
use, and through the command itself.
"""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.resubmission import resubmit
from imagetasks.dashboard.tracking.submission import submit
from tests.support.tracking import finished, timeline
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def copy_from_region(cloud, image_id: str, name: str = "debian-here") -> ImageTask:
    return submit(
        cloud,
        "import",
        {
            "glance_region": settings.LOCALCLOUD_SECOND_REGION,
            "glance_image_id": image_id,
            "image_properties": {"name": name},
        },
        method="glance-download",
    )


def test_capabilities_name_the_second_region_of_the_catalog(region_cloud):
    assert region_cloud.image_regions == [settings.LOCALCLOUD_SECOND_REGION]
    assert "glance-download" in region_cloud.import_methods


def test_a_copy_from_the_second_region_is_followed_to_an_active_image_with_its_data(
    region_cloud, region_image, beat
):
    source = region_image("debian-13")

    task = copy_from_region(region_cloud, str(source.id))
    wait_for(lambda: finished(task), what="the copy to finish")

    assert task.status == statuses.SUCCESS, task.message
    assert task.name == "debian-here" and timeline(task)[-1] == "success"
    copied = client_for(region_cloud).images.get_image(task.result["image_id"])
    assert (copied.status, copied.name) == ("active", "debian-here")
    assert (copied.checksum, copied.size) == (source.checksum, source.size)
    assert (copied.disk_format, copied.container_format) == ("vhd", "bare")
    listed_here = {image.id for image in client_for(region_cloud).images.list_images()}
    assert str(source.id) not in listed_here, "the source stays in its own region"


def test_an_image_removed_from_the_region_before_the_copy_fails_it_with_the_clouds_reason(
    region_cloud, region_image, beat
):
    source = region_image("short-lived")
    region = settings.LOCALCLOUD_SECOND_REGION
    client_for(region_cloud).images_in(region).delete_image(str(source.id))

    task = copy_from_region(region_cloud, str(source.id), name="never")
    wait_for(lambda: finished(task), what="the copy to fail")

    assert task.status == statuses.FAILURE
    assert f"Image {source.id} not found in region {region}" in task.message


def test_the_command_copies_from_the_second_region(region_cloud, region_image, beat):
    source = region_image("debian-13")
    out, err = io.StringIO(), io.StringIO()

    call_command(
        "submit_task",
        "--cloud",
        region_cloud.name,
        "--method",
        "glance-download",
        "--input",
        f'{{"glance_region": "{settings.LOCALCLOUD_SECOND_REGION}", '
        f'"glance_image_id": "{source.id}", "image_properties": {{"name": "by-command"}}}}',
        stdout=out,
        stderr=err,
    )

    task = ImageTask.objects.get(pk=out.getvalue().strip())
    wait_for(lambda: finished(task), what="the copy to finish")
    assert (task.method, task.status) == ("glance-download", statuses.SUCCESS), task.message
    copied = client_for(region_cloud).images.get_image(task.result["image_id"])
    assert (copied.name, copied.checksum) == ("by-command", source.checksum)


def test_a_resubmitted_copy_is_asked_for_again_by_the_same_method(region_cloud, region_image, beat):
    source = region_image("debian-13")
    first = copy_from_region(region_cloud, str(source.id))
    wait_for(lambda: finished(first), what="the copy to finish")

    again = resubmit(first)
    wait_for(lambda: finished(again), what="the second copy to finish")

    assert (again.method, again.status) == ("glance-download", statuses.SUCCESS), again.message
    assert again.result["image_id"] != first.result["image_id"], "a new image"
