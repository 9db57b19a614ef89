"""Retention removes what the settings no longer keep, and nothing else: a task's first and
last snapshot stay, tasks in flight and notices still owed are untouched, a dry run only
counts, and the batches are bounded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from imagetasks.dashboard import jobs, statuses
from imagetasks.dashboard.models import ImageTask, Notification, TaskSnapshot, Upkeep
from imagetasks.dashboard.upkeep import retention
from tests.support.factories import (
    add_snapshot,
    make_cloud,
    make_copy,
    make_notification,
    make_task,
)
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(days=100)
LATELY = timedelta(days=2)
KEEP_DAYS = 30


@pytest.fixture
def keep_30_days(settings):
    settings.KEEP_SNAPSHOTS_DAYS = KEEP_DAYS
    settings.KEEP_NOTIFICATIONS_DAYS = KEEP_DAYS
    settings.KEEP_REJECTED_DAYS = KEEP_DAYS
    return settings


def task_with_history(
    cloud, path: list[str], user=None, *, ended: timedelta = LONG_AGO
) -> ImageTask:
    """A task that went through ``path`` (a snapshot each, an hour apart) and last changed
    ``ended`` ago; its status is the last of the path."""
    task = make_task(cloud, user, status=path[-1])
    start = timezone.now() - ended - timedelta(hours=len(path))
    for hour, status in enumerate(path):
        snapshot = add_snapshot(task, status, step=hour)
        observed = start + timedelta(hours=hour)
        TaskSnapshot.objects.filter(pk=snapshot.pk).update(observed_at=observed)
    ImageTask.objects.filter(pk=task.pk).update(changed_at=timezone.now() - ended)
    return task


def timeline(task: ImageTask) -> list[int]:
    """The steps of the task's snapshots still kept, in time order."""
    return [snapshot.body["step"] for snapshot in task.snapshots.order_by("observed_at", "id")]


def notice(task: ImageTask, status: str, *, made: timedelta = LONG_AGO) -> Notification:
    made_notice = make_notification(task, status=status)
    Notification.objects.filter(pk=made_notice.pk).update(created_at=timezone.now() - made)
    return made_notice


def prune(batch_size: int = 1000) -> retention.Report:
    return retention.prune(retention.Policy.from_settings(), timezone.now(), batch_size=batch_size)


PATH = ["pending", "processing", "processing", "processing", "success"]


# Snapshots --------------------------------------------------------------------------------


def test_an_old_ended_task_keeps_its_first_and_last_snapshot(keep_30_days):
    task = task_with_history(make_cloud(), PATH)

    report = prune()

    assert timeline(task) == [0, 4]
    assert str(report.tallies[-1]) == "snapshots: 3 of 1 tasks"
    task.refresh_from_db()
    assert task.history_pruned_at is not None


def test_first_and_last_are_the_earliest_and_latest_observed_not_the_first_stored(keep_30_days):
    task = task_with_history(make_cloud(), PATH)
    # Stored in another order than observed (a discovered task's history, say).
    earliest = task.snapshots.get(body__step=2)
    TaskSnapshot.objects.filter(pk=earliest.pk).update(
        observed_at=task.snapshots.get(body__step=0).observed_at - timedelta(hours=1)
    )

    prune()

    assert timeline(task) == [2, 4]


def test_a_task_in_flight_is_never_touched_however_old(keep_30_days):
    cloud = make_cloud()
    stuck = task_with_history(cloud, ["pending", "processing", "processing", "processing"])
    submitting = task_with_history(cloud, ["pending", "pending", "pending"])
    ImageTask.objects.filter(pk=submitting.pk).update(status=statuses.UNCONFIRMED)

    prune()

    assert timeline(stuck) == [0, 1, 2, 3]
    assert timeline(submitting) == [0, 1, 2]


def test_a_task_that_ended_within_the_setting_keeps_everything(keep_30_days):
    task = task_with_history(make_cloud(), PATH, ended=LATELY)

    prune()

    assert timeline(task) == [0, 1, 2, 3, 4]
    task.refresh_from_db()
    assert task.history_pruned_at is None


def test_a_snapshot_a_kept_notification_is_about_stays(keep_30_days, settings):
    settings.KEEP_NOTIFICATIONS_DAYS = None
    task = task_with_history(make_cloud(), PATH)
    stale = task.snapshots.get(body__step=2)
    Notification.objects.create(
        task=task,
        snapshot=stale,
        event=Notification.Event.STALE,
        channel=Notification.Channel.EMAIL,
        target="owner@example.com",
        status=Notification.Status.SENT,
        next_attempt_at=timezone.now(),
    )

    prune()

    assert timeline(task) == [0, 2, 4]


def test_unset_settings_keep_everything(settings):
    task = task_with_history(make_cloud(), PATH)
    rejected = task_with_history(make_cloud("other"), ["rejected"])
    sent = notice(task, Notification.Status.SENT)

    report = prune()

    assert report.removed == 0
    assert timeline(task) == [0, 1, 2, 3, 4]
    assert ImageTask.objects.filter(pk=rejected.pk).exists()
    assert Notification.objects.filter(pk=sent.pk).exists()
    assert [str(tally) for tally in report.tallies] == [
        "notifications: kept forever (IMAGETASKS_KEEP_NOTIFICATIONS_DAYS is not set)",
        "rejected submissions: kept forever (IMAGETASKS_KEEP_REJECTED_DAYS is not set)",
        "snapshots: kept forever (IMAGETASKS_KEEP_SNAPSHOTS_DAYS is not set)",
    ]


# Notifications ----------------------------------------------------------------------------


def test_old_sent_and_failed_notices_go_and_pending_ones_stay_however_old(keep_30_days):
    task = task_with_history(make_cloud(), PATH)
    sent = notice(task, Notification.Status.SENT)
    failed = make_notification(
        task, status=Notification.Status.FAILED, channel=Notification.Channel.WEBHOOK
    )
    Notification.objects.filter(pk=failed.pk).update(created_at=timezone.now() - LONG_AGO)
    owed = task_with_history(make_cloud("slow"), PATH)
    pending = notice(owed, Notification.Status.PENDING)
    recent = task_with_history(make_cloud("recent"), PATH, ended=LATELY)
    lately_sent = notice(recent, Notification.Status.SENT, made=LATELY)

    prune()

    left = set(Notification.objects.values_list("pk", flat=True))
    assert left == {pending.pk, lately_sent.pk}
    assert sent.pk not in left and failed.pk not in left
    # The pending notice still holds the snapshot it is about: the last one, kept anyway.
    assert timeline(owed) == [0, 4]


# Rejected submissions ---------------------------------------------------------------------


def test_old_rejected_submissions_go_recent_ones_and_those_of_copies_stay(keep_30_days):
    cloud, target = make_cloud(), make_cloud("target")
    old = make_task(cloud, status=statuses.REJECTED, remote_id=None, message="Bad input")
    recent = make_task(cloud, status=statuses.REJECTED, remote_id=None)
    of_a_copy = make_task(cloud, status=statuses.REJECTED, remote_id=None, type="export")
    make_copy(cloud, target, status=statuses.COPY_FAILED, export_task=of_a_copy)
    failed = make_task(cloud, status=statuses.FAILURE)
    for task in (old, of_a_copy, failed):
        ImageTask.objects.filter(pk=task.pk).update(changed_at=timezone.now() - LONG_AGO)

    report = prune()

    assert not ImageTask.objects.filter(pk=old.pk).exists()
    assert set(ImageTask.objects.values_list("pk", flat=True)) == {
        recent.pk,
        of_a_copy.pk,
        failed.pk,
    }
    assert str(report.tallies[1]) == "rejected submissions: 1"


def test_a_rejected_submission_with_a_notice_still_owed_stays(keep_30_days):
    rejected = task_with_history(make_cloud(), ["pending", "failure"])
    ImageTask.objects.filter(pk=rejected.pk).update(status=statuses.REJECTED)
    owed = notice(rejected, Notification.Status.PENDING)

    prune()

    assert ImageTask.objects.filter(pk=rejected.pk).exists()
    assert Notification.objects.filter(pk=owed.pk).exists()


def test_a_resubmission_of_a_removed_rejected_task_stays(keep_30_days, cloud, owner):
    rejected = make_task(cloud, owner, status=statuses.REJECTED, remote_id=None)
    ImageTask.objects.filter(pk=rejected.pk).update(changed_at=timezone.now() - LONG_AGO)
    again = make_task(cloud, owner, status=statuses.SUCCESS, resubmitted_from=rejected)

    prune()

    again.refresh_from_db()
    assert again.resubmitted_from is None
    assert not ImageTask.objects.filter(pk=rejected.pk).exists()


# Batches ----------------------------------------------------------------------------------


def history(cloud_name: str = "acme") -> list[ImageTask]:
    """Ten old ended tasks of five snapshots, two in flight, notices, three old refusals.

    Three notices were sent long ago; one is still owed, about a middle snapshot of the
    fourth task (a stale notice, say), which it therefore keeps.
    """
    cloud = make_cloud(cloud_name)
    ended = [task_with_history(cloud, PATH) for _ in range(10)]
    task_with_history(cloud, ["pending", "processing", "processing"])
    task_with_history(cloud, ["pending", "processing", "processing", "processing"])
    for task in ended[:3]:
        notice(task, Notification.Status.SENT)
    Notification.objects.create(
        task=ended[3],
        snapshot=ended[3].snapshots.get(body__step=2),
        event=Notification.Event.STALE,
        channel=Notification.Channel.WEBHOOK,
        target="https://hooks.example.com/",
        next_attempt_at=timezone.now(),
    )
    for _ in range(3):
        rejected = make_task(cloud, status=statuses.REJECTED, remote_id=None)
        ImageTask.objects.filter(pk=rejected.pk).update(changed_at=timezone.now() - LONG_AGO)
    return ended


def what_is_left() -> tuple[list, list, list]:
    """The snapshots, notices and tasks there are."""
    return (
        sorted((str(s.task_id), s.body["step"]) for s in TaskSnapshot.objects.all()),
        sorted(Notification.objects.values_list("pk", flat=True)),
        sorted(str(pk) for pk in ImageTask.objects.values_list("pk", flat=True)),
    )


# What history() leaves once pruned: 29 snapshots, 3 notices, 3 refusals go.
REMOVED = {"notifications": 3, "rejected submissions": 3, "snapshots": 29}
SNAPSHOTS_LEFT = 10 * 2 + 1 + 3 + 4


@pytest.mark.parametrize("batch_size", [1, 2, 7, 5000])
def test_any_batch_size_removes_the_same_rows_a_batch_at_most_at_a_time(keep_30_days, batch_size):
    ended = history()
    grew: list[int] = []
    last = {}

    def batch_seen(tally: retention.Tally) -> None:
        grew.append(tally.rows - last.get(tally.kind, 0))
        last[tally.kind] = tally.rows

    report = retention.prune(
        retention.Policy.from_settings(),
        timezone.now(),
        batch_size=batch_size,
        after_batch=batch_seen,
    )

    assert {tally.kind: tally.rows for tally in report.tallies} == REMOVED
    assert max(grew) <= batch_size
    assert len(grew) >= sum(REMOVED.values()) // batch_size
    assert [timeline(task) for task in ended] == [[0, 4]] * 3 + [[0, 2, 4]] + [[0, 4]] * 6
    assert TaskSnapshot.objects.count() == SNAPSHOTS_LEFT
    assert list(Notification.objects.values_list("status", flat=True)) == ["pending"]
    assert not ImageTask.objects.filter(status=statuses.REJECTED).exists()


def test_a_scheduled_run_stops_when_its_time_is_up_and_the_next_goes_on(keep_30_days):
    keep_30_days.PRUNE_BATCH_SIZE = 2
    history()

    first = retention.run_scheduled(timezone.now(), budget=0)

    assert first is not None and not first.finished and first.removed == 2
    chore = Upkeep.objects.get(name=retention.CHORE)
    assert chore.claimed_until is None and chore.last_report["finished"] is False
    runs = [first]
    while len(runs) < 100 and not runs[-1].finished:
        runs.append(retention.run_scheduled(timezone.now(), budget=0))
    assert runs[-1].finished and 15 < len(runs) < 100
    assert TaskSnapshot.objects.count() == SNAPSHOTS_LEFT


def test_a_scheduled_run_does_nothing_while_another_holds_the_lease(keep_30_days):
    history()
    Upkeep.objects.create(name=retention.CHORE, claimed_until=timezone.now() + timedelta(minutes=1))

    assert retention.run_scheduled(timezone.now()) is None
    assert TaskSnapshot.objects.count() == 10 * 5 + 3 + 4


def test_a_scheduled_run_takes_over_a_lease_that_ran_out(keep_30_days):
    history()
    Upkeep.objects.create(name=retention.CHORE, claimed_until=timezone.now() - timedelta(seconds=1))

    report = retention.run_scheduled(timezone.now())

    assert report is not None and report.finished and report.removed == sum(REMOVED.values())
    chore = Upkeep.objects.get(name=retention.CHORE)
    assert chore.last_report == {"finished": True, "removed": REMOVED, "tasks_thinned": 10}


def test_a_scheduled_run_with_every_setting_unset_does_nothing(settings):
    history()

    assert retention.run_scheduled(timezone.now()) is None
    assert not Upkeep.objects.exists()


def test_beat_sends_the_prune_job_every_hour():
    entry = jobs.beat_schedule()["prune-history"]
    assert entry["task"] == jobs.prune_history.name
    assert entry["schedule"] == 3600.0


def test_a_real_worker_runs_the_prune_job_sent_through_the_broker(keep_30_days, real_worker):
    keep_30_days.PRUNE_BATCH_SIZE = 4
    ended = history()

    jobs.prune_history.delay()

    chore = wait_for(
        lambda: Upkeep.objects.filter(name=retention.CHORE, last_finished_at__isnull=False).first(),
        timeout=30,
        what="the prune job to finish",
    )
    assert chore.last_report == {"finished": True, "removed": REMOVED, "tasks_thinned": 10}
    assert chore.claimed_until is None
    assert TaskSnapshot.objects.count() == SNAPSHOTS_LEFT
    assert timeline(ended[0]) == [0, 4]


# The command ------------------------------------------------------------------------------


def test_the_dry_run_prints_the_counts_and_removes_nothing(keep_30_days, capsys):
    history("one")
    before = what_is_left()

    call_command("prune")

    out = capsys.readouterr().out
    assert "Would remove (dry run; --apply removes):" in out
    assert "notifications: 3\n" in out
    assert "rejected submissions: 3\n" in out
    assert "snapshots: 29 of 10 tasks\n" in out
    assert what_is_left() == before


def test_apply_removes_exactly_what_the_dry_run_counted(keep_30_days, capsys):
    history("one")
    snapshots, notices, tasks = what_is_left()
    call_command("prune")
    dry = capsys.readouterr().out.split(":", 1)[1]

    call_command("prune", "--apply", "--batch-size", "3")

    out = capsys.readouterr().out
    assert "Removing, 3 rows a transaction:" in out
    assert out.split("Removed:", 1)[1] == dry
    after = what_is_left()
    assert (len(snapshots) - len(after[0]), len(notices) - len(after[1])) == (29, 3)
    assert len(tasks) - len(after[2]) == 3


def test_apply_with_every_setting_unset_says_there_is_nothing_to_remove(capsys):
    call_command("prune", "--apply")
    assert "every IMAGETASKS_KEEP_*_DAYS is unset" in capsys.readouterr().out


# Pages of a pruned task -------------------------------------------------------------------


def test_the_task_page_tells_a_pruned_tasks_story_from_first_to_last(
    keep_30_days, owner_client, cloud, owner
):
    task = task_with_history(cloud, PATH, owner)
    prune()

    html = owner_client.get(f"/tasks/{task.pk}/").content.decode()

    assert html.count("<details><summary>Raw JSON") == 2
    assert "Pending" in html and "Success" in html
    assert 'id="history-pruned"' in html
    assert "The changes between the first and the last observation were removed" in html


def test_a_task_never_pruned_has_no_gap_on_its_page(owner_client, cloud, owner):
    task = task_with_history(cloud, PATH, owner)

    html = owner_client.get(f"/tasks/{task.pk}/").content.decode()

    assert html.count("<details><summary>Raw JSON") == 5
    assert "history-pruned" not in html


def test_the_admin_shows_a_pruned_task_with_its_two_snapshots(
    keep_30_days, client, django_user_model
):
    task = task_with_history(make_cloud(), PATH)
    prune()
    client.force_login(django_user_model.objects.create_superuser("audra", password="pw-audra-1"))

    page = client.get(f"/admin/dashboard/imagetask/{task.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "History pruned at" in html
    assert len(re.findall(r"/admin/dashboard/tasksnapshot/\d+/change/", html)) == 2
    listing = client.get("/admin/dashboard/tasksnapshot/", {"q": str(task.pk)})
    assert listing.status_code == 200
