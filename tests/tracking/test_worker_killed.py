"""A worker process killed with SIGKILL mid-run, and on Redis the broker restarted: nothing lost.

Real processes: a ``celery worker`` subprocess runs the dashboard's poll jobs
and the built-in cloud's imports; it is killed while imports are processing
and polls are under way. When the broker is Redis, Redis is restarted as
well, which drops every queued message (it keeps nothing on disk here). What
brings every task to its end is state in the database: expired poll claims
are dispatched again, and the cloud's recovery job sends stale imports again.
"""

from __future__ import annotations

import logging
import subprocess
import time
from datetime import timedelta

import pytest
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

    def send_due_polls():
        for cloud_id, ids in dispatcher.claim_due(timezone.now()).items():
            poll_cloud.apply_async((cloud_id, ids), queue=queues["dashboard"])

    with ticking(send_due_polls, lambda: lifecycle.recover_stuck(lease=LEASE, pending_grace=LEASE)):
        yield


def restart_redis_if_it_is_the_broker() -> bool:
    if not settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1:6379"):
        return False
    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False)
    subprocess.run(
        ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
         "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
         "--logfile", "/var/log/redis/ci.log"],
        check=True,
    )  # fmt: skip
    wait_until(
        lambda: subprocess.run(["redis-cli", "ping"], capture_output=True).returncode == 0,
        30,
        "Redis to come back",
    )
    return True


def test_every_task_ends_after_its_worker_is_killed(local_cloud, queues, recovering_beat, tmp_path):
    disk = vhd_samples.fixed_vhd()
    rate = {"LOCALCLOUD_RATE_LIMIT": str(len(disk) // 4)}  # about four seconds each
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
        restarted = restart_redis_if_it_is_the_broker()
        second = WorkerProcess(list(queues.values()), tmp_path / "worker-b.log", **rate)

        wait_until(
            lambda: all(ImageTask.objects.get(pk=t.pk).status in statuses.TERMINAL for t in tasks),
            120,
            f"every task to end (Redis restarted: {restarted})",
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
