"""Adopting tasks created outside the dashboard (CLI, SDK), so the audit trail is complete.

Opt-in per cloud. Only ``import`` and ``export`` tasks are adopted: Glance
lists its own internal task types (``api_image_import``…) too, and those are
not the account's work.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import observations, storable
from imagetasks.dashboard.tracking.submission import describe
from imagetasks.openstack import CloudError
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")

ADOPTED_TYPES = {"import", "export"}
OVERLAP = timedelta(minutes=5)
SCAN_LIMIT = 1000


def discover(cloud: Cloud) -> int:
    """List the cloud's tasks created since the last run; adopt unknown ones. Returns how many."""
    client = client_for(cloud)
    known = set(
        ImageTask.objects.filter(cloud=cloud, remote_id__isnull=False).values_list(
            "remote_id", flat=True
        )
    )
    since = cloud.discovered_until - OVERLAP if cloud.discovered_until else None
    newest = cloud.discovered_until
    adopted = 0
    for entry in client.images.list_tasks(
        sort_key="created_at", sort_dir="desc", page_size=100, limit=SCAN_LIMIT
    ):
        if since and entry.created_at and entry.created_at < since:
            break
        if entry.created_at and (newest is None or entry.created_at > newest):
            newest = entry.created_at
        if entry.id in known or entry.type not in ADOPTED_TYPES:
            continue
        try:
            remote = client.images.get_task(entry.id)
        except CloudError as error:
            # One task the cloud cannot show must not hold up the others: it is skipped
            # (and tried again only while it is inside the next run's overlap).
            log.warning("discovery skipped remote_id=%s cloud=%s: %s", entry.id, cloud.name, error)
            continue
        if _adopt(cloud, remote):
            adopted += 1
    Cloud.objects.filter(pk=cloud.pk).update(discovered_until=newest)
    return adopted


def _adopt(cloud: Cloud, remote: RemoteTask) -> bool:
    try:
        task = ImageTask.objects.create(
            cloud=cloud,
            type=remote.type,
            input=storable.json_value(remote.input) if remote.input is not None else {},
            name=describe(remote.type, remote.input),
            status=statuses.SUBMITTING,
            origin=ImageTask.Origin.DISCOVERED,
            poll_interval=cloud.poll_min_interval,
            next_poll_at=timezone.now(),
        )
    except IntegrityError:
        return False
    if observations.record(task, remote, timezone.now()):
        log.info("discovered task=%s cloud=%s remote_id=%s", task.pk, cloud.name, remote.id)
        return True
    task.delete()  # another discoverer adopted it first
    return False
