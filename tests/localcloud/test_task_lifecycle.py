"""How tasks move and end (reference §3, §8.1.6): compare-and-set transitions, expiry,
purge, and recovery of tasks whose worker died."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.executors import lifecycle, runner
from imagetasks.localcloud.jobs import purge_expired_tasks
from imagetasks.localcloud.models import CloudTask, Image

pytestmark = pytest.mark.usefixtures("fast_hashing")

IMPORT_INPUT = {"import_from": "imports/fixed.vhd", "image_properties": {"name": "fixed"}}


def make_task(account, **fields) -> CloudTask:
    now = timezone.now()
    values = {"type": "import", "input": IMPORT_INPUT, "created_at": now, "updated_at": now}
    return CloudTask.objects.create(project=account.project, **(values | fields))


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


@pytest.mark.usefixtures("task_worker")
def test_a_finished_task_expires_after_the_ttl_but_its_image_stays(
    cloud, account, put_object, wait_for_task, settings
):
    settings.LOCALCLOUD_TASK_TTL = 1
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())
    created = cloud.post("image/v2/tasks", json={"type": "import", "input": IMPORT_INPUT}).json()
    task = wait_for_task(cloud, created["id"])
    image_id = task["result"]["image_id"]

    assert task["status"] == "success"
    expires_at = parse(task["expires_at"])
    assert expires_at - parse(task["updated_at"]) <= timedelta(seconds=1)
    while timezone.now() <= expires_at + timedelta(seconds=1):
        time.sleep(0.1)

    gone = cloud.get(f"image/v2/tasks/{created['id']}")
    assert gone.status_code == 404
    assert gone.json()["message"] == f"Could not find task {created['id']}"
    assert cloud.get("image/v2/tasks").json()["tasks"] == []
    assert cloud.get(f"image/v2/images/{image_id}").status_code == 200


@pytest.mark.usefixtures("task_worker")
def test_expires_at_is_the_terminal_time_plus_the_ttl(cloud, wait_for_task, settings):
    settings.LOCALCLOUD_TASK_TTL = 48 * 3600
    created = cloud.post("image/v2/tasks", json={"type": "import", "input": IMPORT_INPUT}).json()

    task = wait_for_task(cloud, created["id"])

    assert task["status"] == "failure"
    row = CloudTask.objects.get(pk=created["id"])
    assert row.expires_at - row.updated_at == timedelta(hours=48)
    assert parse(task["expires_at"]) - parse(task["updated_at"]) == timedelta(hours=48)


def test_the_purge_job_deletes_expired_rows_only(db, account):
    now = timezone.now()
    expired = make_task(account, status="success", expires_at=now - timedelta(seconds=1))
    live = make_task(account, status="success", expires_at=now + timedelta(hours=1))
    running = make_task(account, status="processing")

    purge_expired_tasks()

    assert set(CloudTask.objects.values_list("pk", flat=True)) == {live.pk, running.pk}
    assert not CloudTask.objects.filter(pk=expired.pk).exists()


def test_a_claim_moves_pending_to_processing_counting_the_attempt(db, account):
    task = make_task(account, updated_at=timezone.now() - timedelta(minutes=1))

    run = lifecycle.claim(task.id, 0)

    task.refresh_from_db()
    assert run is not None and run.attempt == 1
    assert (task.status, task.attempts) == ("processing", 1)
    assert task.started_at is not None
    assert task.updated_at == task.started_at


def test_a_duplicated_delivery_does_not_run_the_task_twice(db, account):
    task = make_task(account)

    first = lifecycle.claim(task.id, 0)
    second = lifecycle.claim(task.id, 0)

    assert first is not None
    assert second is None
    assert CloudTask.objects.get(pk=task.pk).attempts == 1


@pytest.mark.parametrize("status", ["success", "failure"])
def test_a_job_for_a_finished_task_leaves_it_alone(db, account, status):
    task = make_task(account, status=status, message="kept", attempts=1)

    runner.execute(task.id, 1)

    task.refresh_from_db()
    assert (task.status, task.message, task.attempts) == (status, "kept", 1)


def test_a_run_that_was_taken_over_can_no_longer_end_the_task(db, account):
    task = make_task(account)
    stale_run = lifecycle.claim(task.id, 0)
    CloudTask.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(hours=1))
    new_run = lifecycle.claim(task.id, 0)  # a redelivered message after the lease ran out

    assert new_run is not None and new_run.attempt == 2
    assert lifecycle.succeed(stale_run, {"image_id": "x"}) is False
    assert lifecycle.fail(stale_run, "late") is False
    with pytest.raises(lifecycle.Superseded):
        stale_run._renewed_at = 0
        stale_run.keep_alive()
    assert lifecycle.succeed(new_run, {"image_id": "y"}) is True
    task.refresh_from_db()
    assert (task.status, task.result) == ("success", {"image_id": "y"})


def test_a_running_task_keeps_its_claim_alive(db, account):
    task = make_task(account)
    run = lifecycle.claim(task.id, 0)
    old = timezone.now() - timedelta(minutes=5)
    CloudTask.objects.filter(pk=task.pk).update(started_at=old)

    run._renewed_at = 0
    run.keep_alive()

    task.refresh_from_db()
    assert task.started_at > old
    assert lifecycle.claim(task.id, 0) is None  # fresh again: nobody takes it over


def test_a_running_task_renews_its_claim_at_a_third_of_the_lease_not_at_every_step(
    db, account, monkeypatch, settings
):
    """A paced import steps every half second; renewing at each step, 2,000 imports wrote
    1,000 claims a second to SQLite, and some failed waiting for its lock."""
    settings.LOCALCLOUD_TASK_LEASE = 30
    now = [1000.0]
    monkeypatch.setattr(lifecycle, "_clock", lambda: now[0])
    task = make_task(account)
    run = lifecycle.claim(task.id, 0)
    renewals = []
    for _ in range(120):  # a minute of half-second steps
        now[0] += 0.5
        before = CloudTask.objects.get(pk=task.pk).started_at
        run.keep_alive()
        if CloudTask.objects.get(pk=task.pk).started_at != before:
            renewals.append(now[0] - 1000.0)

    assert renewals == [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]


@pytest.mark.parametrize(
    ("lease", "slice_seconds", "renewed_at"),
    [(30, 5.0, [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]), (3, 0.5, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])],
)
def test_a_paced_run_wakes_twice_a_renewal_and_renews_its_claim_on_time(
    db, account, monkeypatch, settings, lease, slice_seconds, renewed_at
):
    """Waking every half second, 2,000 paced imports woke their worker 4,000 times a second,
    most of the time to find no renewal due."""
    settings.LOCALCLOUD_TASK_LEASE = lease
    settings.LOCALCLOUD_RATE_LIMIT = 1000
    now = [1000.0]
    monkeypatch.setattr(lifecycle, "_clock", lambda: now[0])
    task = make_task(account)
    run = lifecycle.claim(task.id, 0)
    naps: list[float] = []
    renewals: list[float] = []
    last = [CloudTask.objects.get(pk=task.pk).started_at]

    def sleep(seconds: float) -> None:
        started_at = CloudTask.objects.get(pk=task.pk).started_at
        if started_at != last[0]:
            renewals.append(now[0] - 1000.0)
            last[0] = started_at
        naps.append(seconds)
        now[0] += seconds

    run.pacer(clock=lambda: now[0], sleep=sleep).advance(lease * 2 * 1000)  # two leases' work
    run.keep_alive()  # the step after the wait
    if CloudTask.objects.get(pk=task.pk).started_at != last[0]:
        renewals.append(now[0] - 1000.0)

    assert now[0] - 1000.0 == lease * 2, "the work still takes as long as its pace says"
    assert naps == [slice_seconds] * 12
    assert renewals == renewed_at


def test_only_the_transitions_of_the_reference_happen(db, account):
    task = make_task(account)
    run = lifecycle.claim(task.id, 0)
    assert lifecycle.succeed(run, {"image_id": "x"})

    assert lifecycle.fail(run, "after success") is False
    assert lifecycle.claim(task.id, 1) is None
    task.refresh_from_db()
    assert task.status == "success"


@pytest.mark.usefixtures("task_worker")
def test_recovery_sends_again_a_task_whose_worker_died(cloud, account, put_object, wait_for_task):
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())
    orphan = make_task(
        account,
        status="processing",
        attempts=1,
        started_at=timezone.now() - lifecycle.lease() - timedelta(seconds=1),
    )

    assert lifecycle.recover_stuck() == 1

    task = wait_for_task(cloud, str(orphan.id))
    assert task["status"] == "success"
    assert Image.objects.filter(pk=task["result"]["image_id"]).exists()
    assert CloudTask.objects.get(pk=orphan.pk).attempts == 2


@pytest.mark.usefixtures("task_worker")
def test_recovery_sends_again_a_pending_task_whose_job_was_lost(
    cloud, account, put_object, wait_for_task
):
    put_object(account, "imports/fixed.vhd", vhd_samples.fixed_vhd())
    long_ago = timezone.now() - lifecycle.PENDING_GRACE - timedelta(seconds=1)
    lost = make_task(account, created_at=long_ago, updated_at=long_ago)

    assert lifecycle.recover_stuck() == 1
    assert lifecycle.recover_stuck() == 0  # sent once per grace period, not on every run

    assert wait_for_task(cloud, str(lost.id))["status"] == "success"


def test_recovery_leaves_tasks_that_are_running_or_recently_submitted_alone(db, account):
    make_task(account)
    make_task(account, status="processing", attempts=1, started_at=timezone.now())

    assert lifecycle.recover_stuck() == 0


def test_a_task_whose_runs_keep_dying_fails_with_a_clear_message(db, account):
    dead = make_task(
        account,
        status="processing",
        attempts=lifecycle.MAX_ATTEMPTS,
        started_at=timezone.now() - lifecycle.lease() - timedelta(seconds=1),
    )

    assert lifecycle.recover_stuck() == 1

    dead.refresh_from_db()
    assert dead.status == "failure"
    assert dead.message == (
        f"Task failed after {lifecycle.MAX_ATTEMPTS} attempts: "
        "the worker running it stopped before it finished."
    )
    assert dead.expires_at is not None


def test_a_redelivered_job_for_an_exhausted_task_fails_it(db, account):
    task = make_task(
        account,
        status="processing",
        attempts=lifecycle.MAX_ATTEMPTS,
        started_at=timezone.now() - timedelta(hours=1),
    )

    runner.execute(task.id, 0)

    task.refresh_from_db()
    assert task.status == "failure"
    assert "attempts" in task.message


def test_a_job_for_an_unknown_task_does_nothing(db):
    runner.execute(uuid.uuid4(), 0)

    assert not CloudTask.objects.exists()
