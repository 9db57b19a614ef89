"""A worker process killed with SIGKILL in the middle of a copy's transfer: the copy ends.

Real processes: a ``celery worker`` subprocess runs the dashboard's jobs and
the built-in cloud's; it is killed while it streams the object between the
two projects, so the half-sent upload is cut off and its job is lost. What
finishes the copy is state in the database: the copy's lease runs out, the
sweep claims it again, and a second worker runs the transfer again: from the
start when the object goes across in one PUT, from the first segment the target
lacks when it goes across in segments.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.copies import lease, sweep
from imagetasks.dashboard.copies.service import start_copy
from imagetasks.dashboard.jobs import advance_copy, poll_cloud
from imagetasks.dashboard.models import Cloud, Copy, CopyEvent
from imagetasks.dashboard.tracking import dispatcher
from imagetasks.localcloud import vhd
from imagetasks.localcloud.images.creation import create_image_from_file
from imagetasks.openstack import NotFound
from imagetasks.openstack.largeobjects import segments_container
from tests.support.beat import ticking
from tests.support.copies import staging_left
from tests.support.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=3)
DISK_SIZE = 192 * 1024 * 1024  # big enough that streaming it takes a moment


@pytest.fixture
def copies_beat(queues, monkeypatch):
    """What beat drives, from this process: due polls and due copies, with short claims."""
    monkeypatch.setattr(lease, "LEASE", LEASE)
    monkeypatch.setattr(dispatcher, "LEASE", LEASE)

    def send_due_work():
        now = timezone.now()
        until = dispatcher.lease_end(now).isoformat()
        for cloud_id, ids in dispatcher.claim_due(now).items():
            poll_cloud.apply_async((cloud_id, ids, until), queue=queues["dashboard"])
        for copy_id, token in sweep.claim_due(now):
            advance_copy.apply_async((copy_id, token), queue=queues["dashboard"])

    with ticking(send_due_work, interval=0.3):
        yield


@pytest.fixture
def big_image(account, source_cloud, tmp_path):
    """A fixed VHD of zeros (a sparse file), as an active image of the source project."""
    path = tmp_path / "big.vhd"
    with open(path, "wb") as disk:
        disk.truncate(DISK_SIZE)
        disk.seek(DISK_SIZE)
        disk.write(vhd.make_footer(DISK_SIZE, unique_id=uuid.uuid4()))
    image = create_image_from_file(account.project, "big", path, "vhd")
    path.unlink()
    return client_for(source_cloud).images.get_image(str(image.id))


def transfers_started(copy: Copy) -> int:
    return CopyEvent.objects.filter(copy=copy, step="transfer", status="started").count()


def test_a_copy_whose_worker_is_killed_mid_transfer_is_finished_by_another(
    source_cloud, target_cloud, big_image, queues, copies_beat, tmp_path
):
    first = WorkerProcess(list(queues.values()), tmp_path / "worker-a.log")
    second = None
    try:
        copy = start_copy(source=source_cloud, image=big_image, target=target_cloud, name="big")
        wait_until(lambda: transfers_started(copy) == 1, 60, "the transfer to start", [first])
        time.sleep(0.2)
        first.kill()
        copy.refresh_from_db()
        assert copy.status == statuses.COPY_TRANSFERRING, "killed before the transfer ended"

        second = WorkerProcess(list(queues.values()), tmp_path / "worker-b.log")
        wait_until(
            lambda: Copy.objects.get(pk=copy.pk).status in (statuses.COPY_SUCCEEDED, "failed"),
            120,
            "the copy to end",
            [first, second],
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    copy.refresh_from_db()
    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    assert transfers_started(copy) == 2, "the transfer ran again from the start"
    copied = client_for(target_cloud).images.get_image(copy.target_image_id)
    assert (copied.checksum, copied.size) == (big_image.checksum, big_image.size)
    assert copy.import_task.cloud == target_cloud
    assert Copy.objects.get(pk=copy.pk).events.filter(step="import", status="started").count() == 1


MiB = 1024 * 1024
SEGMENT = 3 * MiB
LIMIT = 8 * MiB


def segments_stored(copy: Copy) -> int:
    objects = client_for(copy.target_cloud).objects
    try:
        return len(list(objects.list_objects(segments_container(copy.staging_container))))
    except NotFound:
        return 0


def test_a_segmented_transfer_whose_worker_is_killed_resumes_at_a_segment_not_byte_zero(
    source_cloud, target_cloud, big_image, queues, copies_beat, tmp_path, settings
):
    # Both clouds store at most 8 MiB in one object: the export is itself a large object
    # (the workers run the clouds' jobs, so they are told too), and the transfer cuts
    # segments of 3 MiB.
    settings.LOCALCLOUD_MAX_OBJECT_SIZE = LIMIT
    Cloud.objects.update(segment_size=SEGMENT)
    limit = {"LOCALCLOUD_MAX_OBJECT_SIZE": str(LIMIT)}
    first = WorkerProcess(list(queues.values()), tmp_path / "worker-a.log", **limit)
    second = None
    try:
        copy = start_copy(source=source_cloud, image=big_image, target=target_cloud, name="big")
        wait_until(lambda: segments_stored(copy) >= 2, 90, "two segments to be stored", [first])
        first.kill()
        copy.refresh_from_db()
        assert copy.status == statuses.COPY_TRANSFERRING, "killed before the transfer ended"
        stored_before = segments_stored(copy)

        second = WorkerProcess(list(queues.values()), tmp_path / "worker-b.log", **limit)
        wait_until(
            lambda: Copy.objects.get(pk=copy.pk).status in (statuses.COPY_SUCCEEDED, "failed"),
            120,
            "the copy to end",
            [first, second],
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    copy.refresh_from_db()
    assert copy.status == statuses.COPY_SUCCEEDED, copy.error
    assert transfers_started(copy) == 1, "the second run did not start over"
    resumed = CopyEvent.objects.get(copy=copy, step="transfer", status="resumed").message
    offset = int(resumed.split("Resuming at byte ")[1].split(" ")[0])
    assert offset >= stored_before * SEGMENT
    assert offset > 0 and offset % SEGMENT == 0
    assert copy.bytes_done == copy.bytes_total == big_image.size
    # The bytes before the offset were not read again, so the image is checked against
    # the source image's checksum: the same, over the whole of it.
    transferred = CopyEvent.objects.get(copy=copy, step="transfer", status="succeeded")
    assert f"checked against the source's {big_image.checksum}" in transferred.message
    copied = client_for(target_cloud).images.get_image(copy.target_image_id)
    assert (copied.status, copied.checksum, copied.size) == (
        "active",
        big_image.checksum,
        big_image.size,
    )
    assert staging_left(copy) == []
