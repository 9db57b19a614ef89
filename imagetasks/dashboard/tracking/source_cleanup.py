"""Deleting an import's source object once the import succeeded, when the person asked.

A periodic job sweeps the successful imports still holding their source, so a
worker that dies mid-sweep only delays the deletion. Only ``success`` counts: a
failed import keeps its source, to be fixed and imported again. A source stored
as a static large object goes with all its segments (the client's delete asks the
store for that, and a segment the store could not remove is an error). Deleting is
idempotent (an object already gone counts as deleted), and the row is marked with
a compare-and-set, so two sweeps at once do no harm.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F, QuerySet

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.openstack import CloudError, NotFound

log = logging.getLogger("imagetasks.tracking")

# Retried on every sweep while the cloud refuses, for this long after the success.
GIVE_UP_AFTER = timedelta(days=2)
BATCH = 100


def pending(now: datetime) -> QuerySet[ImageTask]:
    return ImageTask.objects.filter(
        type=ImageTask.Type.IMPORT,
        status=statuses.SUCCESS,
        delete_source_after_import=True,
        source_deleted_at__isnull=True,
        changed_at__gte=now - GIVE_UP_AFTER,
    ).select_related("cloud")


def source_of(task: ImageTask) -> tuple[str, str]:
    container, _, name = str(task.input.get("import_from") or "").partition("/")
    return container, name


def delete_sources(now: datetime) -> int:
    """Delete the sources of successful imports that asked for it; return how many."""
    deleted = 0
    for task in pending(now)[:BATCH]:
        container, name = source_of(task)
        try:
            client_for(task.cloud).objects.delete_object(container, name)
        except NotFound:
            pass  # already gone: deleted by hand, or by an earlier sweep that died
        except CloudError as error:
            log.warning(
                "source not deleted task=%s object=%s/%s: %s", task.pk, container, name, error
            )
            ImageTask.objects.filter(pk=task.pk).update(
                source_cleanup_error=f"Could not delete {container}/{name}: {error.message}"
            )
            continue
        marked = ImageTask.objects.filter(pk=task.pk, source_deleted_at__isnull=True).update(
            source_deleted_at=now, source_cleanup_error="", version=F("version") + 1
        )
        if marked:
            deleted += 1
            log.info("source deleted task=%s object=%s/%s", task.pk, container, name)
    return deleted
