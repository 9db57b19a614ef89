"""Tasks with a history to prune: snapshots an hour apart, ended long ago."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from imagetasks.dashboard.models import ImageTask, Notification, TaskSnapshot
from imagetasks.dashboard.upkeep import retention
from tests.support.factories import add_snapshot, make_notification, make_task

LONG_AGO = timedelta(days=100)
KEEP_DAYS = 30
PATH = ["pending", "processing", "processing", "processing", "success"]


def task_with_history(
    cloud, path: list[str], user=None, *, ended: timedelta = LONG_AGO
) -> ImageTask:
    """A task that went through ``path`` (a snapshot each, an hour apart, its body's
    ``step`` the index) and last changed ``ended`` ago; its status is the last of the path."""
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
    """A notification about the task's latest snapshot, made ``made`` ago."""
    made_notice = make_notification(task, status=status)
    Notification.objects.filter(pk=made_notice.pk).update(created_at=timezone.now() - made)
    return made_notice


def prune(batch_size: int = 1000) -> retention.Report:
    """Apply the retention settings now, as ``manage.py prune --apply`` does."""
    return retention.prune(retention.Policy.from_settings(), timezone.now(), batch_size=batch_size)
