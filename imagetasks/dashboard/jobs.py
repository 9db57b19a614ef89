"""Celery jobs of the dashboard (found by ``autodiscover_tasks(related_name="jobs")``).

Every job of the dashboard is here, with ``beat_schedule``, what beat sends and
how often. Messages carry primary keys only. Every job is safe to run twice:
state writes are compare-and-set and snapshots are unique, because with
``acks_late`` a job whose worker died is delivered again. Work handed out by a
sweep is claimed under a lease (``leases``) and the job is given the claim.
"""

from __future__ import annotations

import logging
import socket
from datetime import datetime
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from imagetasks.celery import every
from imagetasks.dashboard import leases
from imagetasks.dashboard.clouds import capability_checks
from imagetasks.dashboard.copies import machine, sweep
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import discovery, dispatcher, poller, source_cleanup
from imagetasks.dashboard.upkeep import planner_stats, retention
from imagetasks.dashboard.upkeep.heartbeat import (
    HEARTBEAT_JOB,
    record_dispatcher_pulse,
    record_pulse,
)

log = logging.getLogger("imagetasks.tracking")


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The dashboard's periodic work, by entry name; beat drops a tick nobody took in time."""
    return {
        "heartbeat": every(
            settings.HEARTBEAT_INTERVAL, HEARTBEAT_JOB, expires=settings.HEARTBEAT_INTERVAL * 2
        ),
        # Every second: claim due tasks and hand them to workers. A tick that no
        # worker picks up in time is dropped; the next one claims the same tasks.
        "dispatch-polls": every(1.0, "imagetasks.dashboard.dispatch_polls", expires=5),
        # Copies to another cloud: move on those with a step due, and take back those
        # whose job died with its worker (their lease ran out).
        "advance-copies": every(2.0, "imagetasks.dashboard.advance_copies", expires=10),
        "delete-imported-sources": every(
            10.0, "imagetasks.dashboard.delete_imported_sources", expires=10
        ),
        # SQLite's planner statistics, as the tables grow (see upkeep/planner_stats.py).
        "refresh-planner-statistics": every(
            600.0, "imagetasks.dashboard.refresh_planner_statistics", expires=600
        ),
        # Every two seconds: send the notifications that are due, and those a dead
        # worker left claimed. They are rows in the database, so a dropped tick loses none.
        "dispatch-notifications": every(
            2.0, "imagetasks.dashboard.dispatch_notifications", expires=10
        ),
        "discover-tasks": every(60.0, "imagetasks.dashboard.discover_tasks", expires=60),
        # What clouds offer for imports: asked of clouds never asked (the first sweep
        # comes half a minute after beat starts), again after a failed check or a day.
        "check-capabilities": every(30.0, "imagetasks.dashboard.check_capabilities", expires=30),
        # Hourly, a minute at most: what the retention settings no longer keep. Short
        # runs hold a worker slot and the tables briefly, and a backlog (retention just
        # switched on) is worked off over the next hours (see upkeep/retention.py).
        "prune-history": every(3600.0, "imagetasks.dashboard.prune_history", expires=3600),
    }


def _send_each(claims: list[leases.Claim], job: Task) -> int:
    """Send ``job`` once per claimed row, with the row's id and the claim's token."""
    for claim in claims:
        job.delay(claim.pk, claim.token)
    return len(claims)


# Following tasks ----------------------------------------------------------------------


@shared_task(name="imagetasks.dashboard.dispatch_polls", ignore_result=True)
def dispatch_polls() -> int:
    """Claim the tasks due for a poll and send one poll job per cloud."""
    record_dispatcher_pulse()
    now = timezone.now()
    claimed = dispatcher.claim_due(now)
    until = dispatcher.lease_end(now).isoformat()
    for cloud_id, task_ids in claimed.items():
        poll_cloud.delay(cloud_id, task_ids, until)
    return sum(len(ids) for ids in claimed.values())


def poll_due_here(now: datetime) -> tuple[int, int]:
    """What ``dispatch_polls`` and the poll jobs it sends do, run in this process in turn
    (``manage.py poll_now``): each job polls under its claim and gives its cloud back at
    its end, so beat's next tick may send the cloud a job at once. Returns the tasks
    polled and the requests made."""
    claimed = dispatcher.claim_due(now)
    until = dispatcher.lease_end(now).isoformat()
    requests = sum(poll_cloud(cloud_id, task_ids, until) for cloud_id, task_ids in claimed.items())
    return sum(len(ids) for ids in claimed.values()), requests


@shared_task(name="imagetasks.dashboard.poll_cloud", ignore_result=True)
def poll_cloud(cloud_id: int, task_ids: list[str], claimed_until: str | None = None) -> int:
    """Poll the tasks; ``claimed_until`` is the end of the claim they were sent under (a
    job queued before it was sent carries none and polls whatever is still claimed)."""
    until = datetime.fromisoformat(claimed_until) if claimed_until else None
    try:
        return poller.poll(cloud_id, task_ids, claimed_until=until)
    finally:
        if until is not None:
            dispatcher.release(cloud_id, until)


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


@shared_task(name="imagetasks.dashboard.delete_imported_sources", ignore_result=True)
def delete_imported_sources() -> int:
    """Delete the source objects of successful imports whose submitter asked for it."""
    return source_cleanup.delete_sources(timezone.now())


# What clouds offer for imports -------------------------------------------------------


@shared_task(name="imagetasks.dashboard.check_capabilities", ignore_result=True)
def check_capabilities() -> int:
    """Claim the clouds due a capabilities check and send one check job for each, so a
    cloud that stalls holds up only its own."""
    claims = capability_checks.claim_due(timezone.now())
    for claim in claims:
        check_cloud_capabilities.delay(int(claim.pk))
    return len(claims)


@shared_task(name="imagetasks.dashboard.check_cloud_capabilities", ignore_result=True)
def check_cloud_capabilities(cloud_id: int) -> bool:
    """Ask one claimed cloud what it offers and keep the answers on its row."""
    return capability_checks.check(cloud_id)


def check_capabilities_soon(cloud: Cloud) -> bool:
    """Send the first capabilities check of ``cloud`` unless one is queued or running.

    For the import page, which must not ask the cloud itself: a stalled cloud would hold
    the web worker. False when nothing was sent (already claimed, or no broker: the claim
    then runs out and a later request sends it).
    """
    if not capability_checks.claim_first_check(cloud, timezone.now()):
        return False
    try:
        check_cloud_capabilities.delay(cloud.pk)
    except OperationalError:
        log.warning("capabilities check not sent cloud=%s: the broker refused it", cloud.name)
        return False
    return True


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


# Upkeep -------------------------------------------------------------------------------


@shared_task(name=HEARTBEAT_JOB, ignore_result=True)
def heartbeat() -> None:
    """Record that a worker is alive; beat records its own pulse as it sends this."""
    record_pulse("worker", socket.gethostname())


@shared_task(name="imagetasks.dashboard.refresh_planner_statistics", ignore_result=True)
def refresh_planner_statistics() -> bool:
    """Refresh SQLite's planner statistics as the tables grow (nothing on PostgreSQL)."""
    return planner_stats.refresh()


@shared_task(name="imagetasks.dashboard.prune_history", ignore_result=True)
def prune_history() -> int:
    """Remove what the retention settings no longer keep, alone and for a minute at most."""
    report = retention.run_scheduled(timezone.now())
    return report.removed if report else 0
