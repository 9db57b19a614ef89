"""The import page offers the ways a cloud's discovered capabilities allow: the tasks API
unless the account is refused it, "From a URL" (web-download) where the cloud lists it."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud, ImageTask
from tests.openstack.scripted import Reply
from tests.support.tracking import finished
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]

PAGE = "/tasks/new/import/"


def page(client, cloud: Cloud, how: str = "") -> str:
    suffix = f"&how={how}" if how else ""
    return client.get(f"{PAGE}?cloud={cloud.name}{suffix}").content.decode()


def test_a_cloud_offering_web_download_shows_from_a_url_beside_the_tasks_api(
    cloud_operator_client, local_cloud
):
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    assert local_cloud.tasks_api == Cloud.TasksApi.PERMITTED

    html = page(cloud_operator_client, local_cloud, "web-download")

    assert 'aria-current="page">From a URL</a>' in html
    assert ">Tasks API</a>" in html
    assert 'name="url"' in html and 'name="disk_format"' in html
    assert 'name="container"' not in html, "the object browser belongs to the tasks API"


def test_an_account_refused_the_tasks_api_is_offered_only_from_a_url(
    cloud_operator_client, local_cloud, account
):
    account.project.tasks_api = "admin"
    account.project.save()
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    assert local_cloud.tasks_api == Cloud.TasksApi.ADMIN_ONLY

    html = page(cloud_operator_client, local_cloud)

    assert "Tasks API" not in html and 'name="url"' in html


def test_a_cloud_without_web_download_shows_no_url_way(cloud_operator_client, local_cloud):
    Cloud.objects.filter(pk=local_cloud.pk).update(import_methods=["glance-direct"])

    html = page(cloud_operator_client, local_cloud, "web-download")

    assert "From a URL" not in html
    assert 'name="container"' in html, "the tasks API form, whatever was asked for"


def test_the_url_form_submits_once_and_the_import_is_followed_to_success(
    cloud_operator_client, local_cloud, files, beat
):
    files.on("GET", "/disk.raw", Reply(body=b"raw disk " * 1000))
    capabilities.refresh(local_cloud)
    form = {
        "cloud": local_cloud.name,
        "how": "web-download",
        "submission_id": str(uuid.uuid4()),
        "url": f"{files.url}/disk.raw",
        "name": "from-url",
        "disk_format": "raw",
        "container_format": "bare",
    }

    first = cloud_operator_client.post(f"{PAGE}?cloud={local_cloud.name}", form)
    again = cloud_operator_client.post(f"{PAGE}?cloud={local_cloud.name}", form)

    assert first.status_code == again.status_code == 302
    (task,) = ImageTask.objects.all()
    assert (task.method, task.name) == ("web-download", "from-url")
    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS
    html = cloud_operator_client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Import on the image" in html and "From a URL" in html
