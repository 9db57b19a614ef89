"""A cloud an administrator switched off takes nothing: not by its forms, not by a direct
URL, not by the CLI or a resubmission; each says why."""

from __future__ import annotations

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.submission import submit
from tests.support.factories import make_task

INPUT = {"import_from": "images/web.vhd", "image_properties": {"name": "web"}}


@pytest.fixture
def switched_off(cloud):
    cloud.enabled = False
    cloud.save()
    return cloud


@pytest.mark.parametrize("page", ["/tasks/new/import/", "/tasks/new/export/", "/copies/new/"])
def test_a_form_named_for_a_switched_off_cloud_says_so(client, owner, switched_off, page):
    client.force_login(owner)
    response = client.get(f"{page}?cloud={switched_off.name}")
    assert response.status_code == 403
    assert f"The cloud {switched_off.name} is switched off" in response.content.decode()


def test_posting_an_import_to_it_directly_submits_nothing(client, owner, switched_off):
    client.force_login(owner)
    response = client.post(
        f"/tasks/new/import/?cloud={switched_off.name}",
        {"cloud": switched_off.name, "container": "images", "object": "web.vhd"},
    )
    assert response.status_code == 403
    assert ImageTask.objects.count() == 0


def test_an_upload_to_it_is_refused_with_a_message(client, owner, switched_off):
    client.force_login(owner)
    response = client.put(
        f"/clouds/{switched_off.name}/upload/images/web.vhd", data=b"abc", content_type="x/y"
    )
    assert response.status_code == 409
    assert "is switched off" in response.json()["error"]


def test_the_cli_or_a_resubmission_records_a_refusal_and_sends_nothing(client, owner, switched_off):
    task = submit(switched_off, "import", INPUT, user=owner)
    assert task.status == statuses.REJECTED
    assert "switched off" in task.message and task.remote_id is None

    old = make_task(switched_off, owner, status=statuses.FAILURE)
    client.force_login(owner)
    response = client.post(f"/tasks/{old.pk}/resubmit/", follow=True)
    assert "Resubmitted as a new task (Rejected)" in response.content.decode()
    assert "switched off" in response.content.decode()
