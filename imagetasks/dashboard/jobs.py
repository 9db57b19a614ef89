"""Celery jobs of the dashboard (found by ``autodiscover_tasks(related_name="jobs")``).

Messages carry primary keys only. Every job is safe to run twice: state writes
are compare-and-set and snapshots are unique, because with ``acks_late`` a
job whose worker died is delivered again. Work handed out by a sweep is claimed
under a lease (``leases``) and the job is given the claim.
"""

from __future__ import annotations

import logging

from celery import Task, shared_task
from django.utils import timezone

from imagetasks.dashboard import leases
from imagetasks.dashboard.copies import machine, sweep
from imagetasks.dashboard.heartbeat import heartbeat
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import discovery, dispatcher, poller, source_cleanup

log = logging.getLogger("imagetasks.tracking")

__all__ = ["discover_tasks", "dispatch_polls", "heartbeat", "poll_cloud"]


def _send_each(claims: list[leases.Claim], job: Task) -> int:
    """Send ``job`` once per claimed row, with the row's id and the claim's token."""
    for claim in claims:
        job.delay(claim.pk, claim.token)
    return len(claims)


@shared_task(name="imagetasks.dashboard.dispatch_polls", ignore_result=True)
def dispatch_polls() -> int:
    """Claim the tasks due for a poll and send one poll job per cloud."""
    claimed = dispatcher.claim_due(timezone.now())
    for cloud_id, task_ids in claimed.items():
        poll_cloud.delay(cloud_id, task_ids)
    return sum(len(ids) for ids in claimed.values())


@shared_task(name="imagetasks.dashboard.poll_cloud", ignore_result=True)
def poll_cloud(cloud_id: int, task_ids: list[str]) -> int:
    return poller.poll(cloud_id, task_ids)


@shared_task(name="imagetasks.dashboard.discover_tasks", ignore_result=True)
def discover_tasks() -> int:
    """Adopt tasks created elsewhere on every cloud that opted in."""
    adopted = 0
    for cloud in Cloud.objects.filter(enabled=True, discover_tasks=True):
        try:
            adopted += discovery.discover(cloud)
        except Exception:
            # One unreachable cloud must not stop discovery on the others.
            log.exception("discovery failed cloud=%s", cloud.name)
    return adopted


# Copies to another cloud or region ----------------------------------------------------


@shared_task(name="imagetasks.dashboard.advance_copies", ignore_result=True)
def advance_copies() -> int:
    """Claim every copy with a step due and send one job for each."""
    return _send_each(sweep.claim_due(timezone.now()), advance_copy)


@shared_task(name="imagetasks.dashboard.advance_copy", ignore_result=True)
def advance_copy(copy_id: str, token: int) -> str:
    """Run a copy's steps under the lease the sweep took; a stale token does nothing."""
    return machine.advance(copy_id, token)


# Notifications (email and webhooks) ---------------------------------------------------


@shared_task(name="imagetasks.dashboard.dispatch_notifications", ignore_result=True)
def dispatch_notifications() -> int:
    """Claim the notifications due for an attempt and send one delivery job each.

    Due includes rows whose holder's lease ran out: a worker that died while
    sending leaves its row to the next sweep.
    """
    return _send_each(outbox.claim_due(timezone.now()), deliver_notification)


@shared_task(name="imagetasks.dashboard.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int, claim: int) -> bool:
    """One attempt at one notification (an email or a webhook POST), never inside a poll."""
    return outbox.deliver(notification_id, claim)


@shared_task(name="imagetasks.dashboard.delete_imported_sources", ignore_result=True)
def delete_imported_sources() -> int:
    """Delete the source objects of successful imports whose submitter asked for it."""
    return source_cleanup.delete_sources(timezone.now())
