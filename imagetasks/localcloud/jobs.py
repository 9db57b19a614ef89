"""Celery jobs of the built-in cloud (found by ``autodiscover_tasks(related_name="jobs")``).

Named ``imagetasks.localcloud.*`` so that the route in settings puts them on
the ``localcloud`` queue. Arguments are primary keys and counts only, and
every job is safe to run twice (see ``executors.lifecycle``).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings

from imagetasks.celery import every
from imagetasks.localcloud.executors import lifecycle, runner
from imagetasks.localcloud.executors.dispatch import FILL_OBJECT_ETAG, RUN_TASK
from imagetasks.localcloud.models import StoredObject
from imagetasks.localcloud.objectstore import service

logger = logging.getLogger(__name__)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The built-in cloud's periodic work, by entry name; none when it is switched off."""
    if not settings.LOCALCLOUD_ENABLED:
        return {}
    return {
        "localcloud-recover-tasks": every(30.0, "imagetasks.localcloud.recover_tasks", expires=30),
        "localcloud-purge-expired-tasks": every(
            600.0, "imagetasks.localcloud.purge_expired_tasks", expires=600
        ),
    }


@shared_task(name=RUN_TASK, ignore_result=True)
def run_task(task_id: str, expected_attempts: int = 0) -> None:
    """Import or export: the work of one Images v2 task."""
    runner.execute(task_id, expected_attempts)


@shared_task(name="imagetasks.localcloud.recover_tasks", ignore_result=True)
def recover_tasks() -> None:
    """Periodic: resume tasks whose worker died, send lost jobs again, fail the hopeless."""
    acted = lifecycle.recover_stuck()
    if acted:
        logger.warning("recovered %d stuck task(s)", acted)


@shared_task(name="imagetasks.localcloud.purge_expired_tasks", ignore_result=True)
def purge_expired_tasks() -> None:
    """Periodic: delete task rows past expires_at (the API already hides them)."""
    purged = lifecycle.purge_expired()
    if purged:
        logger.info("purged %d expired task(s)", purged)


@shared_task(name=FILL_OBJECT_ETAG, ignore_result=True)
def fill_object_etag(object_id: int, blob_id: str) -> None:
    """Compute the MD5 of an object an export wrote without one (unless it changed since)."""
    stored = StoredObject.objects.filter(pk=object_id, blob_id=blob_id).first()
    if stored is None:
        return
    try:
        service.ensure_etag(stored)
    except FileNotFoundError:  # the object was deleted meanwhile
        return
