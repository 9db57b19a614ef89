"""The outbox: what is owed, written with the change it is about, then delivered by jobs.

A notification row is created in the transaction that records the change
(the terminal snapshot, or the stale flag), so there is no moment where the
change is stored and the notice is not: a worker that dies right after the
commit leaves a pending row that the sweeper sends. Rows are unique on
(snapshot, event, channel), and snapshots are unique on their fingerprint,
so a change observed twice is notified once.

Delivery is claim-then-send, under ``leases``. The sweeper claims due rows
under a short lease and sends one job per row with the claim's fencing token;
the job begins only if the token is still the one it was given (taking a new
one), and records the outcome only if nobody took the row over meanwhile.
So a duplicated job sends nothing, and a row whose worker died is claimed
again once its lease runs out. The lease of an attempt outlasts the
channel's timeouts, so a slow attempt is never taken over while it can
still get through. The one window left is a worker dying after the mail
server or receiver accepted the message and before the row is marked sent:
then it is sent again (at least once), and webhook receivers can drop the
repeat by its ``X-Imagetasks-Delivery`` id.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, QuerySet
from django.utils import timezone

from imagetasks.dashboard import leases, statuses
from imagetasks.dashboard.models import ImageTask, Notification, Profile, TaskSnapshot
from imagetasks.dashboard.notifications import email, webhook
from imagetasks.dashboard.notifications.errors import DeliveryFailed

log = logging.getLogger("imagetasks.notifications")

# Waits after the 1st, 2nd… failed attempt; after the last one the row is failed.
BACKOFF = (
    timedelta(seconds=10),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
# A claimed row whose job has not begun within this time is claimed again
# (its message was lost with a broker or a worker).
QUEUE_LEASE = timedelta(seconds=60)
SWEEP_LIMIT = 200
MAX_ERROR_TEXT = 500


# --- Writing what is owed (inside the caller's transaction) ---


def after_observation(task: ImageTask, snapshot: TaskSnapshot) -> None:
    """Queue the notices a recorded snapshot calls for. ``task`` is the row before it.

    Only an ending is notified, and only one this dashboard saw happen: a
    task discovered when it had already finished is history, not news.
    """
    ended = statuses.get(snapshot.status).terminal and not statuses.get(task.status).terminal
    if not ended:
        return
    first_sight = task.origin == ImageTask.Origin.DISCOVERED and task.status == statuses.SUBMITTING
    if first_sight:
        return
    _queue(task, snapshot, Notification.Event.OUTCOME)


def after_stale(task_ids: Iterable, now: datetime) -> None:
    """Queue the notices for tasks just flagged stale, about their latest snapshot."""
    for task in ImageTask.objects.select_related("cloud", "submitted_by").filter(pk__in=task_ids):
        snapshot = task.snapshots.order_by("-observed_at", "-id").first()
        if snapshot is not None:
            _queue(task, snapshot, Notification.Event.STALE, now=now)


def _queue(task: ImageTask, snapshot: TaskSnapshot, event: str, now=None) -> None:
    now = now or timezone.now()
    rows = [
        Notification(
            task=task,
            snapshot=snapshot,
            event=event,
            channel=channel,
            target=target,
            next_attempt_at=now,
        )
        for channel, target in recipients(task)
    ]
    if rows:
        # A conflict is the same notice queued already: keep the first one.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)


def recipients(task: ImageTask) -> list[tuple[str, str]]:
    """(channel, target) pairs for a task: its submitter's email, its cloud's webhook."""
    found: list[tuple[str, str]] = []
    user = task.submitted_by
    if (
        user is not None
        and task.origin != ImageTask.Origin.DISCOVERED
        and user.is_active
        and user.email
        and Profile.wants_email(user)
    ):
        found.append((Notification.Channel.EMAIL, user.email))
    if task.cloud.webhook_url:
        found.append((Notification.Channel.WEBHOOK, task.cloud.webhook_url))
    return found


# --- Delivering (in Celery jobs, never in a poll) ---


def claim_due(now: datetime, limit: int = SWEEP_LIMIT) -> list[leases.Claim]:
    """Claim the rows due for an attempt; return (id, token) pairs to send as jobs.

    Due: pending and its next attempt reached; ``leases`` skips rows somebody
    holds (unless the holder's lease ran out, which is how a dead worker's row
    comes back).
    """
    due = _pending().filter(next_attempt_at__lte=now).order_by("next_attempt_at")
    return leases.claim_due(due, now=now, lease=QUEUE_LEASE, limit=limit)


def deliver(notification_id: int, claim: int) -> bool:
    """Make one attempt at a claimed row; return whether it was sent by this call."""
    lease = leases.Lease(_pending(), leases.Claim(notification_id, claim))
    notification = (
        lease.held().select_related("task__cloud", "task__submitted_by", "snapshot").first()
    )
    if notification is None:
        return False  # a duplicated job, or the row was taken over: someone else has it
    try:
        lease.begin(
            timedelta(seconds=lease_seconds(notification.channel)),
            attempts=F("attempts") + 1,
            last_attempt_at=timezone.now(),
        )
    except leases.Superseded:
        return False
    attempt = notification.attempts + 1
    try:
        _channel(notification.channel).send(notification)
    except DeliveryFailed as error:
        _failed(notification, lease, attempt, str(error))
        return False
    except Exception:
        # Unexpected: back off like any failure so this row cannot loop, then surface it.
        _failed(notification, lease, attempt, "Internal error while sending (see logs).")
        raise
    lease.release(status=Notification.Status.SENT, sent_at=timezone.now(), last_error="")
    log.info(
        "notification sent id=%s task=%s channel=%s event=%s attempt=%d",
        notification.pk,
        notification.task_id,
        notification.channel,
        notification.event,
        attempt,
    )
    return True


def _pending() -> QuerySet[Notification]:
    return Notification.objects.filter(status=Notification.Status.PENDING)


def _failed(notification: Notification, lease: leases.Lease, attempt: int, error: str) -> None:
    now = timezone.now()
    fields: dict[str, object] = {"last_error": error[:MAX_ERROR_TEXT]}
    if attempt > len(BACKOFF):
        fields["status"] = Notification.Status.FAILED
    else:
        fields["next_attempt_at"] = now + BACKOFF[attempt - 1]
    lease.release(**fields)
    log.warning(
        "notification attempt failed id=%s task=%s channel=%s attempt=%d final=%s error=%s",
        notification.pk,
        notification.task_id,
        notification.channel,
        attempt,
        "status" in fields,
        error,
    )


def _channel(channel: str):
    return email if channel == Notification.Channel.EMAIL else webhook


def lease_seconds(channel: str) -> float:
    """How long an attempt may hold its row: longer than the channel can take to give up."""
    if channel == Notification.Channel.EMAIL:
        # Connecting, the greeting, the envelope, the data and quitting each get EMAIL_TIMEOUT.
        return settings.EMAIL_TIMEOUT * 5 + 10.0
    return webhook.lease_seconds()
