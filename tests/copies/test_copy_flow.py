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
from imagetasks.openstack.largeobjects import segment_prefix
from tests.support.copies import finished, staging_left, timeline
from tests.support.received import requests_received
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

MiB = 1024 * 1024


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
    assert staging_left(copy) == []
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
    assert staging_left(copy) == []
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
    assert staging_left(copy) == []


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


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def exported_large_image(
    source_cloud, target_cloud, source_image, settings, name: str = "big-02", disk_format="vhd"
):
    """A 20 MiB image exported on the source, both clouds storing at most 8 MiB in one
    object and cutting segments every 3 MiB, so the export is itself a large object; the
    copy, the image's bytes and the exported object's name and ETag."""
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = 8 * MiB
    Cloud.objects.update(segment_size=3 * MiB)
    disk = random_vhd(20 * MiB) if disk_format == "vhd" else random.Random(1).randbytes(20 * MiB)
    image = source_image(source_cloud, name, disk, disk_format)
    copy = start_copy(source=source_cloud, image=image, target=target_cloud, name=name)
    wait_for(
        lambda: Copy.objects.get(pk=copy.pk).export_task.status == statuses.SUCCESS,
        what="the export to finish",
    )
    copy.refresh_from_db()
    container, _, name = copy.export_task.result["export_location"].partition("/")
    exported = client_for(source_cloud).objects.head_object(container, name)
    assert exported.static_large_object
    return copy, disk, name, exported.etag


def image_in_target(copy: Copy):
    """The copy's image in the target, once the copy ended."""
    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    copied = client_for(copy.target_cloud).images.get_image(copy.target_image_id)
    assert copied.status == "active"
    return copied


def test_a_20_mib_copy_goes_through_segments_on_both_clouds_and_leaves_nothing_behind(
    source_cloud, target_cloud, other_account, source_image, beat, settings
):
    copy, disk, *_ = exported_large_image(
        source_cloud, target_cloud, source_image, settings, "big-01"
    )

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    copied = image_in_target(copy)
    assert (copied.checksum, copied.size) == (md5(disk), len(disk))
    assert copy.bytes_done == copy.bytes_total == len(disk)
    segments = f"/AUTH_{other_account.project.id}/{copy.staging_container}_segments/"
    sent = [path for method, path in seen if method == "PUT" and segments in path]
    assert len(sent) == 7  # 20 MiB and a footer, in 3 MiB segments
    started = copy.events.get(step="transfer", status="started").message
    assert "in 7 segments of 3145728 bytes" in started
    transferred = copy.events.get(step="transfer", status="succeeded").message
    assert f"(MD5 {md5(disk)})" in transferred
    assert staging_left(copy) == []


def test_a_transfer_run_again_after_its_segments_and_manifest_were_stored_sends_nothing(
    source_cloud, target_cloud, source_image, beat, settings
):
    copy, disk, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings
    )
    # A run stored every segment and the manifest, and died before recording it.
    target = client_for(target_cloud).objects
    target.create_container(copy.staging_container)
    target.upload(copy.staging_container, name, disk, len(disk), segment_size=3 * MiB, mtime=etag)

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    assert ("transfer", "skipped") in timeline(copy)
    assert ("transfer", "started") not in timeline(copy)
    assert not [path for method, path in seen if method == "PUT" and "/slo/" in path]
    # No byte was read, and the source's ETag is made of its segments': the image is
    # checked against the source image's checksum.
    transferred = copy.events.get(step="transfer", status="succeeded").message
    assert f"the image is checked against the source's {md5(disk)}" in transferred
    assert image_in_target(copy).checksum == md5(disk)
    assert staging_left(copy) == []


def stored_by_an_earlier_run(copy: Copy, disk: bytes, name: str, etag: str, parts: list[bytes]):
    """The first segments of the transfer in the target, as a run that died left them."""
    target = client_for(copy.target_cloud).objects
    prefix = segment_prefix(name, etag, len(disk), 3 * MiB)
    target.create_container(f"{copy.staging_container}_segments")
    for index, part in enumerate(parts):
        target.put_segment(copy.staging_container, prefix, index, part, len(part))


def test_a_transfer_run_again_after_three_segments_resumes_at_the_fourth(
    source_cloud, target_cloud, source_image, beat, settings
):
    copy, disk, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings
    )
    parts = [disk[index * 3 * MiB : (index + 1) * 3 * MiB] for index in range(3)]
    stored_by_an_earlier_run(copy, disk, name, etag, parts)

    with requests_received() as seen:
        wait_for(lambda: advance_once(copy), what="the copy to finish")

    resumed = copy.events.get(step="transfer", status="resumed").message
    assert f"Resuming at byte {9 * MiB} of {len(disk)} (segment 4 of 7" in resumed
    assert ("transfer", "started") not in timeline(copy)
    sent = [path[-8:] for method, path in seen if method == "PUT" and "/slo/" in path]
    assert sent == ["00000003", "00000004", "00000005", "00000006"]
    transferred = copy.events.get(step="transfer", status="succeeded").message
    assert f"the image is checked against the source's {md5(disk)}" in transferred
    copied = image_in_target(copy)
    assert (copied.checksum, copied.size) == (md5(disk), len(disk))
    assert staging_left(copy) == []


def test_a_resumed_transfer_over_segments_with_other_bytes_fails_on_the_checksum(
    source_cloud, target_cloud, source_image, beat, settings
):
    copy, disk, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings
    )
    # The earlier run stored a second segment other than the source's (of the same size).
    parts = [disk[index * 3 * MiB : (index + 1) * 3 * MiB] for index in range(3)]
    parts[1] = bytes(3 * MiB)
    stored_by_an_earlier_run(copy, disk, name, etag, parts)

    wait_for(lambda: advance_once(copy), what="the copy to fail")

    assert copy.status == statuses.COPY_FAILED
    imported = copy.import_task.result["image_id"]
    wrong = md5(b"".join(parts) + disk[9 * MiB :])
    assert copy.error == (
        f"The image {imported} imported on {target_cloud.name} has checksum {wrong}, "
        f"not the source image's checksum {md5(disk)}."
    )
    assert ("import", "failed") in timeline(copy)
    assert copy.target_image_id == ""
    assert staging_left(copy) == []


def test_a_resumed_copy_of_a_raw_image_is_not_failed_for_a_checksum_it_cannot_have(
    source_cloud, target_cloud, source_image, beat, settings
):
    # The export of a raw image is a VHD made of it: the image's checksum is not the
    # export's MD5, and there is nothing to check the import against.
    copy, disk, name, etag = exported_large_image(
        source_cloud, target_cloud, source_image, settings, "raw-01", disk_format="raw"
    )
    parts = [disk[index * 3 * MiB : (index + 1) * 3 * MiB] for index in range(3)]
    stored_by_an_earlier_run(copy, disk + bytes(512), name, etag, parts)

    wait_for(lambda: advance_once(copy), what="the copy to finish")

    assert ("transfer", "resumed") in timeline(copy)
    assert "(MD5 unknown)" in copy.events.get(step="transfer", status="succeeded").message
    copied = image_in_target(copy)
    assert copied.size == len(disk) + 512  # the raw disk and a VHD footer
    assert copied.checksum != md5(disk)
    assert staging_left(copy) == []
