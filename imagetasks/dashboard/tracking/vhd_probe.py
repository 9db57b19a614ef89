"""Is an import's source a VHD at all? Asked once, when the import fails with 396.

Rackspace answers 396 both for a passing problem reading a VHD and for a file that
is no VHD, and clients resubmit on 396 (openstacksdk does). A VHD carries the
``conectix`` cookie in its footer: in the last 512 bytes (511 for old writers),
with a copy in the first 512 bytes of a dynamic disk. Two small range reads tell
a file that will fail the same way every time from one worth trying again.
"""

from __future__ import annotations

import logging

from django.db.models import F

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.openstack import CloudError

log = logging.getLogger("imagetasks.tracking")

COOKIE = b"conectix"
FOOTER = 512


def has_vhd_cookie(head: bytes, tail: bytes) -> bool:
    """A footer at the end (512 or 511 bytes from it), or its copy at the start."""
    return head.startswith(COOKIE) or tail.startswith(COOKIE) or tail[1:].startswith(COOKIE)


def _source(task: ImageTask) -> tuple[str, str] | None:
    source = task.input.get("import_from") if isinstance(task.input, dict) else None
    if not isinstance(source, str) or "/" not in source:
        return None  # a Glance-style URL: not ours to read
    container, name = source.split("/", 1)
    return (container, name) if container and name else None


def check_source(task: ImageTask) -> bool | None:
    """Read the source's first and last 512 bytes and record whether it is a VHD.

    Returns the verdict, or None when it cannot be told (the object is gone, the store
    does not serve ranges or does not answer); nothing is recorded then.
    """
    location = _source(task)
    if location is None:
        return None
    objects = client_for(task.cloud).objects
    try:
        head = objects.read_range(*location, f"0-{FOOTER - 1}", FOOTER)
        tail = objects.read_range(*location, f"-{FOOTER}", FOOTER)
    except CloudError as error:
        log.info("source of task=%s not checked for a VHD footer: %s", task.pk, error)
        return None
    if head is None or tail is None:
        return None
    verdict = has_vhd_cookie(head, tail)
    # The flag changes what the task's row says, so the version moves with it.
    if ImageTask.objects.filter(pk=task.pk, version=task.version).update(
        source_is_vhd=verdict, version=F("version") + 1
    ):
        task.source_is_vhd, task.version = verdict, task.version + 1
    log.info("source of task=%s checked: %s", task.pk, "a VHD" if verdict else "not a VHD")
    return verdict
