"""Starting a copy: the row, the staging container, and the export, in one user action."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from imagetasks.dashboard.copies import machine
from imagetasks.dashboard.copies.lease import event
from imagetasks.dashboard.models import Cloud, Copy
from imagetasks.openstack import CloudError, Image

log = logging.getLogger("imagetasks.copies")

# The sweep leaves a new copy to the request that starts it for this long.
START_GRACE = timedelta(seconds=5)


def staging_container(copy_id: uuid.UUID) -> str:
    """A container of the copy's own, on both clouds: no two copies meet in it, and a
    Rackspace export refuses container names with '.', '?' or '/' (a UUID has none)."""
    return f"imagetasks-copy-{copy_id}"


def start_copy(
    *,
    source: Cloud,
    image: Image,
    target: Cloud,
    name: str,
    user=None,
    copy_id: uuid.UUID | None = None,
) -> Copy:
    """Create the copy (once per ``copy_id``), its staging container, and submit the export.

    Should the cloud not answer, the copy stays ``exporting`` and the sweep submits the
    export later with the same id, so it is never submitted twice.
    """
    copy_id = copy_id or uuid.uuid4()
    existing = Copy.objects.filter(pk=copy_id).first()
    if existing is not None:  # the same form sent twice
        return existing
    now = timezone.now()
    with transaction.atomic():
        copy = Copy.objects.create(
            id=copy_id,
            source_cloud=source,
            source_image_id=image.id,
            source_image_name=image.name or "",
            source_checksum=image.checksum or "",
            source_disk_format=image.disk_format or "",
            target_cloud=target,
            target_name=name,
            disk_format="vhd",
            staging_container=staging_container(copy_id),
            created_by=user,
            next_step_at=now + START_GRACE,
        )
        event(copy, "copy", "started", f"Copy of {image.name or image.id} to {target.name}.")
    log.info("copy started copy=%s source=%s target=%s", copy.pk, source.name, target.name)
    try:
        machine.submit_export(copy)
    except CloudError as error:
        log.warning("copy export not submitted yet copy=%s: %s", copy.pk, error)
    copy.refresh_from_db()
    return copy
