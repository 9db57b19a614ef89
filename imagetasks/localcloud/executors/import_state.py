"""The image's side of an interoperable import: Glance's ``os_glance_*`` properties.

While an import runs, the image names its task (``os_glance_import_task``, the
lock: one import at a time) and the stores still to write
(``os_glance_importing_to_stores``); stores that failed are listed in
``os_glance_failed_import``. An import that fails sends the image back to
``queued`` (copy-image leaves it ``active``) and drops the lock, so it can be
tried again. Every list is a comma-separated string, as Glance stores it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from imagetasks.localcloud.models import CloudTask, Image

IMPORT_TASK = "os_glance_import_task"
IMPORTING = "os_glance_importing_to_stores"
FAILED = "os_glance_failed_import"
STAGE_HOST = "os_glance_stage_host"
# Kept on the image but never shown, as Glance hides it.
HIDDEN = (STAGE_HOST,)


def listed(properties: dict, key: str) -> list[str]:
    return [name for name in str(properties.get(key, "")).split(",") if name]


def merge(properties: dict, key: str, stores: Iterable[str], *, remove: bool = False) -> None:
    """Add ``stores`` to (or remove them from) the comma list ``key``, keeping its order."""
    current = listed(properties, key)
    stores = list(stores)
    if remove:
        current = [name for name in current if name not in stores]
    else:
        current += [name for name in stores if name not in current]
    properties[key] = ",".join(current)


def begin(image: Image, task_id: uuid.UUID, stores: list[str], method: str) -> None:
    """Mark ``image`` (not saved here) as being imported by ``task_id`` into ``stores``."""
    properties = dict(image.properties)
    properties[IMPORT_TASK] = str(task_id)
    merge(properties, IMPORTING, stores)
    merge(properties, FAILED, stores, remove=True)
    properties.pop(STAGE_HOST, None)
    image.properties = properties
    if method != "copy-image":
        image.status = Image.Status.IMPORTING


def holds_lock(image: Image, task_id: uuid.UUID) -> bool:
    return image.properties.get(IMPORT_TASK) == str(task_id)


def release(image: Image, task_id: uuid.UUID, failed: Iterable[str], *, copying: bool) -> None:
    """After a failed import (not saved here): ``failed`` stores listed, nothing left
    importing, the lock dropped, an image being imported back to ``queued``."""
    properties = dict(image.properties)
    failed = list(failed)
    merge(properties, IMPORTING, failed, remove=True)
    merge(properties, FAILED, failed)
    if holds_lock(image, task_id):
        importing = listed(properties, IMPORTING)
        merge(properties, IMPORTING, importing, remove=True)
        merge(properties, FAILED, importing)
        del properties[IMPORT_TASK]
    image.properties = properties
    if not copying and image.status == Image.Status.IMPORTING:
        image.status = Image.Status.QUEUED


def release_after_task(task_id: uuid.UUID | str) -> None:
    """The image of an import task that failed without its run (the worker died too
    often): every store it was still writing is listed as failed."""
    task = CloudTask.objects.filter(pk=task_id, type=CloudTask.Type.API_IMAGE_IMPORT).first()
    if task is None or task.image_id is None:
        return
    image = Image.objects.filter(pk=task.image_id).first()
    if image is None or not holds_lock(image, task.id):
        return
    method = task.input.get("import_req", {}).get("method", {}).get("name")
    release(image, task.id, listed(image.properties, IMPORTING), copying=method == "copy-image")
    image.save(update_fields=["properties", "status", "updated_at"])
