"""A copy from one project of the built-in cloud to another, followed to its end."""

from __future__ import annotations

import pytest
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies import lease, machine, sweep
from imagetasks.dashboard.copies.service import start_copy
from imagetasks.dashboard.models import Copy
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.openstack import NotFound
from tests.support.copies import finished, timeline
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def staging_is_gone(copy: Copy) -> bool:
    for cloud in (copy.source_cloud, copy.target_cloud):
        with pytest.raises(NotFound):
            client_for(cloud).objects.head_container(copy.staging_container)
    return True


def test_a_copy_puts_the_same_bytes_in_the_target_and_removes_the_staging_objects(
    source_cloud, target_cloud, source_image, copy_beat
):
    image = source_image(source_cloud, "web-01")

    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="web-01-ord")
    assert copy.status == statuses.COPY_EXPORTING
    assert copy.export_task.status == statuses.PENDING
    wait_for(lambda: finished(copy), what="the copy to finish")

    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    assert copy.error == ""
    copied = client_for(target_cloud).images.get_image(copy.target_image_id)
    assert (copied.status, copied.name) == ("active", "web-01-ord")
    assert copied.checksum == image.checksum
    assert copied.size == image.size == copy.bytes_total == copy.bytes_done
    assert copied.owner == client_for(target_cloud).project_id
    assert staging_is_gone(copy)
    assert copy.export_task.status == statuses.SUCCESS
    assert copy.export_task.cloud == source_cloud
    assert copy.import_task.status == statuses.SUCCESS
    assert copy.import_task.cloud == target_cloud
    assert [step for step, status in timeline(copy) if status == "succeeded"] == [
        "export",
        "transfer",
        "import",
        "cleanup",
    ]
    assert timeline(copy)[0] == ("copy", "started")
    assert copy.finished_at is not None and copy.next_step_at is None


def test_a_copy_whose_import_fails_keeps_the_reason_and_cleans_up(
    source_cloud, target_cloud, source_image, copy_beat, settings
):
    image = source_image(source_cloud, "too-big")
    settings.LOCALCLOUD_MAX_IMAGE_SIZE = 1024 * 1024  # the target refuses the disk as too large

    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="too-big")
    wait_for(lambda: finished(copy), what="the copy to fail")

    assert copy.status == statuses.COPY_FAILED
    assert copy.error == "The import failed: Image cannot be imported. Error code: '413'"
    assert copy.import_task.status == statuses.FAILURE
    assert copy.target_image_id == ""
    assert staging_is_gone(copy)
    assert ("import", "failed") in timeline(copy)
    assert timeline(copy)[-1] == ("cleanup", "succeeded")
    assert not list(client_for(target_cloud).images.list_images(name="too-big"))


def test_a_copy_whose_export_fails_says_why_and_never_transfers(
    source_cloud, target_cloud, other_account, source_image, copy_beat, tmp_path
):
    # An image of the target's project: the source account may not export it.
    path = tmp_path / "theirs.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    theirs = create_image_from_file(other_account.project, "theirs", path, "vhd")
    image = client_for(target_cloud).images.get_image(str(theirs.id))

    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="theirs")
    wait_for(lambda: finished(copy), what="the copy to fail")

    assert copy.status == statuses.COPY_FAILED
    assert copy.error == "The export failed: An image may only be exported by the image owner."
    assert copy.import_task is None
    assert ("transfer", "started") not in timeline(copy)
    assert timeline(copy)[-1] == ("cleanup", "succeeded")
    assert staging_is_gone(copy)


def test_a_copy_whose_job_was_lost_is_taken_up_again_when_its_lease_runs_out(
    source_cloud, target_cloud, source_image, copy_beat, short_lease
):
    image = source_image(source_cloud, "web-03", vhd_samples.dynamic_vhd())
    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="web-03")
    # A job claimed the copy and died with its worker: its claim is all that is left.
    Copy.objects.filter(pk=copy.pk).update(
        claim=F("claim") + 1,
        claimed_until=timezone.now() + lease.LEASE,
        next_step_at=timezone.now(),
    )

    wait_for(lambda: finished(copy), what="the copy to finish after the lease ran out")

    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    copied = client_for(target_cloud).images.get_image(copy.target_image_id)
    assert copied.checksum == image.checksum
    assert copy.claimed_until is None


def advance_once(copy: Copy) -> Copy | None:
    """What one sweep and its job do, run here so the test sees each step."""
    for copy_id, token in sweep.claim_due(timezone.now()):
        machine.advance(copy_id, token)
    return finished(copy)


def test_a_transfer_run_again_after_its_upload_finished_sends_nothing_twice(
    source_cloud, target_cloud, source_image, beat
):
    disk = vhd_samples.fixed_vhd()
    image = source_image(source_cloud, "web-04", disk)
    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="web-04")
    wait_for(
        lambda: Copy.objects.get(pk=copy.pk).export_task.status == statuses.SUCCESS,
        what="the export to finish",
    )
    # The object is in the target already: a run uploaded it and died before recording it.
    target = client_for(target_cloud).objects
    target.create_container(copy.staging_container)
    target.put_object(copy.staging_container, f"{image.id}.vhd", disk)

    wait_for(lambda: advance_once(copy), what="the copy to finish")

    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    assert ("transfer", "skipped") in timeline(copy)
    assert ("transfer", "started") not in timeline(copy)
    assert client_for(target_cloud).images.get_image(copy.target_image_id).checksum == (
        image.checksum
    )
