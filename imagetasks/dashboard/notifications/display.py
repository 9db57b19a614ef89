"""Notifications as the task page shows them: where to, how it went, how many tries.

Email addresses and webhook URLs are not shown in full: the page is seen by
everyone the cloud is granted to, and a webhook URL may carry a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from imagetasks.dashboard.models import ImageTask, Notification


@dataclass(frozen=True)
class Row:
    event: str
    channel: str
    recipient: str
    status: str
    badge: str
    attempts: int
    last_error: str
    sent_at: datetime | None
    next_attempt_at: datetime | None


BADGES: dict[str, str] = {
    Notification.Status.PENDING: "info",
    Notification.Status.SENT: "ok",
    Notification.Status.FAILED: "bad",
}


def for_task(task: ImageTask) -> list[Row]:
    rows = []
    for notification in task.notifications.order_by("created_at", "id"):
        pending = notification.status == Notification.Status.PENDING
        rows.append(
            Row(
                event=notification.get_event_display(),
                channel=notification.get_channel_display(),
                recipient=_recipient(task, notification),
                status=notification.get_status_display(),
                badge=BADGES[notification.status],
                attempts=notification.attempts,
                last_error=notification.last_error,
                sent_at=notification.sent_at,
                next_attempt_at=notification.next_attempt_at if pending else None,
            )
        )
    return rows


def _recipient(task: ImageTask, notification: Notification) -> str:
    if notification.channel == Notification.Channel.EMAIL:
        if task.submitted_by is None:
            return "the submitter"
        return f"{task.submitted_by.get_username()} (the submitter)"
    return urlsplit(notification.target).hostname or "the cloud's webhook"
