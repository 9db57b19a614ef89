"""Tasks submitted here are followed to their end on the built-in cloud, over real HTTP.

A real Celery worker runs the dashboard's poll jobs and the cloud's import and
export jobs; a beat thread sends the dispatcher job through the broker.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from imagetasks.dashboard import hints, statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import vhd_probe
from imagetasks.dashboard.tracking.resubmission import MAX_AUTOMATIC, TRANSIENT_FAILURE
from imagetasks.dashboard.tracking.submission import submit
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import Token
from tests.support.tracking import finished, import_disk, timeline
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_import_goes_from_submission_to_success_keeping_every_status(
    local_cloud, beat, settings
):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 4  # about four seconds of processing
    task = import_disk(local_cloud, data=disk)
    assert task.status == statuses.PENDING and task.remote_id

    wait_for(lambda: finished(task), what="the import to finish")

    assert task.status == statuses.SUCCESS
    assert timeline(task) == ["pending", "processing", "success"]
    image = client_for(local_cloud).images.get_image(task.result["image_id"])
    assert (image.status, image.name, image.size) == ("active", "web-01", len(disk))
    assert task.expires_at > timezone.now()
    assert task.poll_errors == 0 and task.last_error == ""


def test_an_export_writes_the_image_to_the_container(local_cloud, beat):
    imported = import_disk(local_cloud, name="db-02")
    wait_for(lambda: finished(imported), what="the import to finish")
    image_id = imported.result["image_id"]
    client_for(local_cloud).objects.create_container("exports")

    task = submit(
        local_cloud,
        "export",
        {"image_uuid": image_id, "receiving_swift_container": "exports"},
    )
    wait_for(lambda: finished(task), what="the export to finish")

    assert task.status == statuses.SUCCESS
    assert task.result == {"export_location": f"exports/{image_id}.vhd"}
    exported = client_for(local_cloud).objects.head_object("exports", f"{image_id}.vhd")
    assert exported.content_length == len(vhd_samples.fixed_vhd())
    assert timeline(task)[0] == "pending" and timeline(task)[-1] == "success"


def test_a_failing_import_keeps_the_clouds_message(local_cloud, beat):
    task = submit(
        local_cloud,
        "import",
        {"import_from": "images/missing.vhd", "image_properties": {"name": "ghost"}},
    )
    wait_for(lambda: finished(task), what="the import to fail")

    assert task.status == statuses.FAILURE
    assert task.message == "Image not found for import. Possible invalid location"
    assert task.result is None
    assert timeline(task)[-1] == "failure"


def test_a_bad_vhd_fails_with_its_rackspace_error_code(local_cloud, beat):
    task = import_disk(local_cloud, name="diff", data=vhd_samples.differencing_vhd())
    wait_for(lambda: finished(task), what="the import to fail")
    assert task.message == "Image cannot be imported. Error code: '721'"


def test_after_expiry_the_cloud_forgets_the_task_but_the_record_stays(local_cloud, beat, settings):
    settings.LOCALCLOUD_TASK_TTL = 3
    task = import_disk(local_cloud, name="short-lived")
    wait_for(lambda: finished(task), what="the import to finish")
    image_id = task.result["image_id"]

    wait_for(lambda: ImageTask.objects.get(pk=task.pk).remote_gone_at, what="remote_gone_at")

    task.refresh_from_db()
    assert task.status == statuses.SUCCESS
    assert task.result == {"image_id": image_id}
    assert timeline(task)[-1] == "success"
    assert task.next_poll_at is None
    assert client_for(local_cloud).images.get_image(image_id).status == "active"


def test_a_token_revoked_mid_run_is_renewed_without_losing_a_poll(local_cloud, beat, settings):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 3
    task = import_disk(local_cloud, name="renewed", data=disk)
    wait_for(lambda: ImageTask.objects.get(pk=task.pk).status == "processing", what="processing")

    Token.objects.all().delete()  # every token the cloud issued is now refused with 401

    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS
    assert timeline(task) == ["pending", "processing", "success"]
    assert task.last_error == ""
    assert Token.objects.exists(), "the client authenticated again"


def test_several_tasks_in_flight_are_followed_by_list_requests(local_cloud, beat, settings):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk)  # about a second each
    tasks = [import_disk(local_cloud, name=f"batch-{i}", data=disk) for i in range(5)]

    for task in tasks:
        wait_for(lambda task=task: finished(task), what=f"{task.name} to finish")

    assert {t.status for t in tasks} == {statuses.SUCCESS}
    for task in tasks:
        assert timeline(task)[-1] == "success"
        assert len(timeline(task)) == len(set(timeline(task)))
    local_cloud.refresh_from_db()
    assert local_cloud.list_watermark is not None, "the list scan was used"


def test_a_task_that_expires_before_its_end_is_seen_is_marked_vanished(local_cloud, beat, settings):
    settings.LOCALCLOUD_TASK_TTL = 0
    task = import_disk(local_cloud, name="too-quick")

    wait_for(lambda: finished(task), what="the task to be given up")

    assert task.status == statuses.VANISHED
    assert "no longer knows this task" in task.message
    assert task.remote_gone_at is not None and task.next_poll_at is None
    assert timeline(task)[0] == "pending"
    assert not {"success", "failure"} & set(timeline(task)), "its end was never seen"


def all_ended(cloud, count: int):
    tasks = list(ImageTask.objects.filter(cloud=cloud))
    return len(tasks) == count and all(t.status in statuses.TERMINAL for t in tasks)


def test_a_396_failure_is_resubmitted_automatically_when_the_cloud_opts_in(
    local_cloud, beat, monkeypatch
):
    # Rackspace's passing 396 on a real VHD cannot be produced here: the built-in cloud
    # answers 396 only for files without a VHD footer, which the dashboard checks for
    # and never resubmits (next test). So the check is made inconclusive here (a store
    # that serves no ranges says as little) to follow the chain of resubmissions.
    monkeypatch.setattr(vhd_probe, "check_source", lambda task: None)
    local_cloud.auto_resubmit_396 = True
    local_cloud.save()
    first = import_disk(local_cloud, name="flaky", data=vhd_samples.raw_disk_image())

    # It fails with 396 every time, so the chain must stop.
    wait_for(lambda: all_ended(local_cloud, 1 + MAX_AUTOMATIC), what="the resubmissions")
    time.sleep(3)  # a few more polls: nothing more may be submitted
    chain = [ImageTask.objects.get(pk=first.pk)]
    while chain[-1].resubmissions.exists():
        chain.append(chain[-1].resubmissions.get())
    assert len(chain) == 1 + MAX_AUTOMATIC == ImageTask.objects.count()
    assert {t.message for t in chain} == {TRANSIENT_FAILURE}
    assert [t.origin for t in chain[1:]] == [ImageTask.Origin.RESUBMITTED] * MAX_AUTOMATIC


def test_a_396_on_a_file_that_is_no_vhd_is_flagged_and_never_resubmitted(local_cloud, beat):
    local_cloud.auto_resubmit_396 = True
    local_cloud.save()
    task = import_disk(local_cloud, name="named-like-one", data=vhd_samples.raw_disk_image())
    wait_for(lambda: finished(task), what="the import to fail")
    wait_for(
        lambda: ImageTask.objects.get(pk=task.pk).source_is_vhd is False,
        timeout=10,
        what="the footer check",
    )
    time.sleep(2)  # a few more polls: nothing may be resubmitted
    assert ImageTask.objects.count() == 1
    assert hints.hint_for_task(ImageTask.objects.get(pk=task.pk)) is hints.NOT_A_VHD


def test_a_396_failure_stays_as_it_is_without_the_opt_in(local_cloud, beat):
    task = import_disk(local_cloud, name="flaky", data=vhd_samples.raw_disk_image())
    wait_for(lambda: finished(task), what="the import to fail")
    time.sleep(2)
    assert task.message == TRANSIENT_FAILURE
    assert ImageTask.objects.count() == 1
