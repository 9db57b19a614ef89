"""A copy from one project of the built-in cloud to another, followed to its end."""

from __future__ import annotations

import hashlib
import random
import uuid

import pytest
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies import lease, machine, sweep
from imagetasks.dashboard.copies.service import start_copy
from imagetasks.dashboard.models import Cloud, Copy
from imagetasks.localcloud import vhd, vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.openstack import NotFound
from imagetasks.openstack.largeobjects import segment_prefix
from tests.support.copies import finished, timeline
from tests.support.received import requests_received
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024


def staging_is_gone(copy: Copy) -> bool:
    """Neither cloud holds the staging container nor its segments container."""
    for cloud in (copy.source_cloud, copy.target_cloud):
        for container in (copy.staging_container, f"{copy.staging_container}_segments"):
            with pytest.raises(NotFound):
                client_for(cloud).objects.head_container(container)
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


def random_vhd(size: int) -> bytes:
    """A fixed VHD of ``size`` bytes of noise: no two segments alike."""
    return random.Random(size).randbytes(size) + vhd.make_footer(size, unique_id=uuid.uuid4())


def test_a_20_mib_copy_goes_through_segments_on_both_clouds_and_leaves_nothing_behind(
    source_cloud, target_cloud, other_account, source_image, beat, settings
):
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    Cloud.objects.update(segment_size=3 * MiB)
    disk = random_vhd(20 * MiB)
    image = source_image(source_cloud, "big-01", disk)
    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="big-01")
    wait_for(
        lambda: Copy.objects.get(pk=copy.pk).export_task.status == statuses.SUCCESS,
        what="the export to finish",
    )
    # The export as a store with large objects keeps it: in segments, its ETag made of theirs.
    copy.refresh_from_db()
    container, _, name = copy.export_task.result["export_location"].partition("/")
    source = client_for(source_cloud).objects
    source.delete_object(container, name)
    source.upload(container, name, disk, len(disk), segment_size=3 * MiB, mtime="export")
    assert source.head_object(container, name).static_large_object

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    # What the import makes of the object is the target cloud's business; this is the
    # transfer's: every byte went, checked segment by segment, and nothing stays behind.
    assert ("transfer", "succeeded") in timeline(copy), copy.error
    assert copy.bytes_done == copy.bytes_total == len(disk)
    segments = f"/AUTH_{other_account.project.id}/{copy.staging_container}_segments/"
    sent = [path for method, path in seen if method == "PUT" and segments in path]
    assert len(sent) == 7  # 20 MiB and a footer, in 3 MiB segments
    started = copy.events.get(step="transfer", status="started").message
    assert "in 7 segments of 3145728 bytes" in started
    assert f"(MD5 {hashlib.md5(disk, usedforsecurity=False).hexdigest()})" in (
        copy.events.get(step="transfer", status="succeeded").message
    )
    assert staging_is_gone(copy)


def exported_large_image(source_cloud, target_cloud, source_image, settings):
    """A 20 MiB image exported on the source, both clouds cutting objects every 3 MiB;
    the copy, its disk and the exported object's container, name and ETag."""
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    Cloud.objects.update(segment_size=3 * MiB)
    disk = random_vhd(20 * MiB)
    image = source_image(source_cloud, "big-02", disk)
    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name="big-02")
    wait_for(
        lambda: Copy.objects.get(pk=copy.pk).export_task.status == statuses.SUCCESS,
        what="the export to finish",
    )
    copy.refresh_from_db()
    container, _, name = copy.export_task.result["export_location"].partition("/")
    etag = client_for(source_cloud).objects.head_object(container, name).etag
    return copy, disk, container, name, etag


def test_a_transfer_run_again_after_its_segments_and_manifest_were_stored_sends_nothing(
    source_cloud, target_cloud, source_image, beat, settings
):
    copy, disk, container, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings
    )
    # A run stored every segment and the manifest, and died before recording it.
    target = client_for(target_cloud).objects
    target.create_container(container)
    target.upload(container, name, disk, len(disk), segment_size=3 * MiB, mtime=etag)

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    assert ("transfer", "skipped") in timeline(copy)
    assert ("transfer", "started") not in timeline(copy)
    assert not [path for method, path in seen if method == "PUT" and "/slo/" in path]
    assert f"(MD5 {etag})" in copy.events.get(step="transfer", status="succeeded").message


def test_a_transfer_run_again_after_three_segments_resumes_at_the_fourth(
    source_cloud, target_cloud, source_image, beat, settings
):
    copy, disk, container, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings
    )
    # A run stored three segments and died.
    target = client_for(target_cloud).objects
    prefix = segment_prefix(name, etag, len(disk), 3 * MiB)
    target.create_container(f"{container}_segments")
    for index in range(3):
        part = disk[index * 3 * MiB : (index + 1) * 3 * MiB]
        target.put_segment(container, prefix, index, part, len(part))

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    resumed = copy.events.get(step="transfer", status="resumed").message
    assert f"Resuming at byte {9 * MiB} of {len(disk)} (segment 4 of 7" in resumed
    assert ("transfer", "started") not in timeline(copy)
    sent = [path[-8:] for method, path in seen if method == "PUT" and "/slo/" in path]
    assert sent == ["00000003", "00000004", "00000005", "00000006"]
    assert f"(MD5 {etag})" in copy.events.get(step="transfer", status="succeeded").message
    assert staging_is_gone(copy)
