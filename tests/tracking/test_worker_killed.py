"""A worker process killed with SIGKILL mid-run, and every message it had lost: nothing lost.

Real processes: a ``celery worker`` subprocess runs the dashboard's poll jobs
and the built-in cloud's imports; it is killed while imports are processing
and polls are under way. On Redis, every message of the test's queues is then
dropped too, queued or held unacknowledged by the dead worker, as a restart of a
Redis that keeps nothing on disk would drop them (the filesystem broker already
loses what a dead worker held). What brings every task to its end is state in
the database: expired poll claims are dispatched again, and the cloud's recovery
job sends stale imports again.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.jobs import poll_cloud
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import dispatcher
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.executors import lifecycle
from imagetasks.localcloud.models import CloudTask
from tests.support.beat import ticking
from tests.support.tracking import import_disk
from tests.support.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

LEASE = timedelta(seconds=3)
log = logging.getLogger(__name__)


@pytest.fixture
def recovering_beat(queues, monkeypatch):
    """What beat drives, from this process: dispatch due polls, recover stale imports.

    Claims and the cloud's recovery grace are short here (3 s instead of a
    minute or two) so a dead worker's work comes back within the test; jobs
    are fenced, so sending one again early is harmless.
    """
    monkeypatch.setattr(dispatcher, "LEASE", LEASE)
    monkeypatch.setattr(settings, "LOCALCLOUD_TASK_LEASE", LEASE.total_seconds())

    def send_due_polls():
        now = timezone.now()
        until = dispatcher.lease_end(now).isoformat()
        for cloud_id, ids in dispatcher.claim_due(now).items():
            poll_cloud.apply_async((cloud_id, ids, until), queue=queues["dashboard"])

    with ticking(send_due_polls, lambda: lifecycle.recover_stuck(pending_grace=LEASE)):
        yield


def drop_the_queues_messages(queues: list[str]) -> bool:
    """On Redis, lose every message of ``queues``: queued, or held by a worker unacknowledged.

    That is what restarting Redis would do to them, without stopping the server that the
    tests running beside this one (in other processes) are using.
    """
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        return False
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    for queue in queues:  # the queue's list, and one per message priority
        for key in client.scan_iter(match=f"{queue}*"):
            client.delete(key)
    for tag, raw in client.hscan_iter("unacked"):  # kombu's store of delivered, unacked jobs
        _message, exchange, routing_key = json.loads(raw)
        if exchange in queues or routing_key in queues:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)
    return True


def test_every_task_ends_after_its_worker_is_killed(local_cloud, queues, recovering_beat, tmp_path):
    disk = vhd_samples.fixed_vhd()
    rate = {  # about four seconds each, the claims renewed each second
        "LOCALCLOUD_RATE_LIMIT": str(len(disk) // 4),
        "LOCALCLOUD_TASK_LEASE": str(LEASE.total_seconds()),
    }
    first = WorkerProcess(list(queues.values()), tmp_path / "worker-a.log", **rate)
    second = None
    try:
        tasks = [import_disk(local_cloud, name=f"survivor-{i}", data=disk) for i in range(3)]
        wait_until(
            lambda: CloudTask.objects.filter(status="processing").exists(),
            30,
            "an import to be processing",
            [first],
        )
        time.sleep(1.0)

        first.kill()
        dropped = drop_the_queues_messages(list(queues.values()))
        second = WorkerProcess(list(queues.values()), tmp_path / "worker-b.log", **rate)

        wait_until(
            lambda: all(ImageTask.objects.get(pk=t.pk).status in statuses.TERMINAL for t in tasks),
            120,
            f"every task to end (the broker's messages dropped: {dropped})",
            [first, second],
        )
    finally:
        first.stop()
        if second is not None:
            second.stop()

    for task in tasks:
        task.refresh_from_db()
        steps = list(task.snapshots.values_list("status", flat=True))
        assert task.status == statuses.SUCCESS, (task.name, task.message, task.last_error)
        assert len(steps) == len(set(steps)), f"a status was recorded twice: {steps}"
    assert CloudTask.objects.count() == 3, "no task was submitted twice"
