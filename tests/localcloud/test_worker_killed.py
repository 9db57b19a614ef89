"""A worker killed in the middle of an import: the task still ends in success, once.

Real processes: two ``celery worker`` subprocesses on the test's database (the
test database is a file for SQLite; with DATABASE_URL on PostgreSQL the test
database is named the same way) and the same broker. The first is SIGKILLed
while a rate-limited import is hashing; the recovery job notices the claim
going stale and sends the task again, and the second worker finishes it.
"""

from __future__ import annotations

import hashlib
import time

import pytest

from imagetasks.localcloud import blobstore, vhd_samples
from imagetasks.localcloud.executors import lifecycle
from imagetasks.localcloud.models import CloudTask, Image
from tests.support.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.usefixtures("fast_hashing")

RATE = 1024 * 1024  # bytes/s: the 4 MiB sample takes about 4 s to hash
LEASE = 3  # seconds, for the workers (renewed each second) and the recovery here
PACED = {"LOCALCLOUD_RATE_LIMIT": str(RATE), "LOCALCLOUD_TASK_LEASE": str(LEASE)}


def test_an_import_survives_its_worker_being_killed(
    cloud, account, put_object, parked_jobs, tmp_path, settings
):
    settings.LOCALCLOUD_TASK_LEASE = LEASE
    data = vhd_samples.fixed_vhd()
    stored = put_object(account, "imports/fixed.vhd", data)
    first = WorkerProcess(parked_jobs, tmp_path / "worker-a.log", **PACED)
    second = None
    try:
        created = cloud.post(
            "image/v2/tasks",
            json={"type": "import", "input": {"import_from": "imports/fixed.vhd"}},
        ).json()
        task = CloudTask.objects.filter(pk=created["id"])
        wait_until(lambda: task.get().status == "processing", 30, "the first run to start", [first])
        time.sleep(1.0)  # well inside the 4 s hashing pass

        first.kill()
        second = WorkerProcess(parked_jobs, tmp_path / "worker-b.log", **PACED)

        assert task.get().status == "processing"
        wait_until(
            lambda: lifecycle.recover_stuck() > 0,
            15,
            "recovery to see the dead run",
            [first, second],
        )
        wait_until(
            lambda: task.get().status in ("success", "failure"),
            30,
            "the second run to finish",
            [first, second],
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    finished = task.get()
    assert finished.status == "success", finished.message
    assert finished.attempts == 2
    image = Image.objects.get()
    assert str(image.id) == finished.result["image_id"]
    assert image.checksum == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert image.os_hash_value == hashlib.sha512(data).hexdigest()
    # The object's blob and the image's link to it; nothing left by the killed run.
    blobs = sorted(path.name for path in blobstore.root().rglob("*") if path.is_file())
    assert blobs == sorted([image.blob_id, stored.blob_id])
