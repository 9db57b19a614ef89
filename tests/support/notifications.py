"""What a cloud answers and what beat does, for tests of notifications without a worker."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.notifications import outbox
from imagetasks.openstack.types import Task as RemoteTask


def remote(task: ImageTask, status: str, *, message: str = "", result=None, second: int = 5):
    """What a cloud answers for ``task`` in ``status`` (a full view)."""
    now = timezone.now().replace(microsecond=0)
    body = {
        "id": task.remote_id,
        "type": task.type,
        "status": status,
        "owner": "acme",
        "input": task.input,
        "result": result,
        "message": message,
        "created_at": now.isoformat(),
        "updated_at": now.replace(second=second % 60).isoformat(),
        "expires_at": (now + timedelta(hours=48)).isoformat()
        if status in ("success", "failure")
        else None,
        "self": f"/v2/tasks/{task.remote_id}",
        "schema": "/v2/schemas/task",
    }
    return RemoteTask.from_json(body)


def send_due() -> int:
    """What beat and a worker do, in this process: claim what is due and attempt each."""
    sent = 0
    for notification_id, claim in outbox.claim_due(timezone.now()):
        sent += outbox.deliver(notification_id, claim)
    return sent
