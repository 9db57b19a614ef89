"""Following an interoperable import through its image: what it means, and its snapshots.

An interoperable import (``POST /v2/images/{id}/import``) has no task of its own to
poll on every cloud: its progress is on the image (``ImportState``), and its
``api_image_import`` task, read from ``GET /v2/images/{id}/tasks``, adds the status
and Glance's message. The poller reads many images in one list request and asks for
an image's tasks only when its import state moved; this module says what the two
mean for the dashboard's task and records every observed change as a snapshot.

The row keeps the image id in ``result["image_id"]`` from the moment the image is
created, with the import state as last seen beside it: the table's search, the result
link and the image page read it there, as for an import by the tasks API.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.models.snapshots import fingerprint
from imagetasks.dashboard.tracking import observations, pollstate, scheduling, storable
from imagetasks.openstack.types import Image, ImportState
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")

IMPORT_TASK_TYPE = "api_image_import"
# Clocks of the dashboard and the cloud differ: a task created this long before the
# submission may still be its own.
CLOCK_MARGIN = timedelta(minutes=5)
# An import whose POST went unanswered and whose image shows no import by then is lost.
GIVE_UP_AFTER = timedelta(minutes=15)
FAILED_IN = "The import failed in {stores}."
NOT_IMPORTED = "The image was not imported."
LOST = (
    "The cloud did not confirm the import and its image shows none. "
    "Nothing is running for it; import again if you still need it."
)


def image_id_of(task: ImageTask) -> str:
    """The image an interoperable import works on; "" before it was created."""
    result = task.result if isinstance(task.result, dict) else {}
    value = result.get("image_id")
    return value if isinstance(value, str) else ""


def requested_stores(task: ImageTask) -> tuple[str, ...]:
    """The stores the import asked for; none when it left the choice to the cloud."""
    data = task.input if isinstance(task.input, dict) else {}
    stores = data.get("stores")
    if not isinstance(stores, list):
        return ()
    return tuple(s for s in stores if isinstance(s, str))


def state_json(state: ImportState) -> dict[str, Any]:
    """The import state as the row's result keeps it (beside the image id)."""
    return {
        "image_status": state.status,
        "stores": list(state.stores),
        "importing_to": list(state.importing_to),
        "failed_stores": list(state.failed),
    }


def changed(task: ImageTask, state: ImportState) -> bool:
    """Whether the image's import state differs from what the row last recorded, or the
    import's task must be read again though the image stands still.

    Glance reverts a failed import (image back to ``queued``, the store listed as failed,
    its ``os_glance_import_task`` pointer dropped) before it marks the task ``failure``:
    an image that shows no import under way while its task was last read running has
    that task read again, until it ends.
    """
    result = task.result if isinstance(task.result, dict) else {}
    seen = state_json(state)
    moved = any(result.get(key) != value for key, value in seen.items()) or (
        result.get("task_id") != state.task_id
    )
    settled = state.task_id is None and not state.importing
    running = result.get("task_status") in (statuses.PENDING, statuses.PROCESSING)
    return moved or (settled and running)


def pick_task(
    task: ImageTask, state: ImportState, tasks: Sequence[RemoteTask]
) -> RemoteTask | None:
    """The import's own ``api_image_import`` task among the image's tasks.

    By the id the row or the image names; else (an import that ended before it was
    first seen, which drops the image's pointer) the newest one created after the
    submission.
    """
    imports = [t for t in tasks if t.type in (IMPORT_TASK_TYPE, "")]
    for wanted in (task.remote_id, state.task_id):
        for remote in imports:
            if wanted and remote.id == wanted:
                return remote
    if task.remote_id:
        return None  # the row's own task is gone from the list (expired)
    earliest = task.submitted_at - CLOCK_MARGIN
    recent = [t for t in imports if t.created_at is None or t.created_at >= earliest]
    recent.sort(key=lambda t: t.created_at or task.submitted_at, reverse=True)
    return recent[0] if recent else None


@dataclass(frozen=True)
class Outcome:
    status: str
    message: str
    failed: tuple[str, ...]
    partial: bool


def outcome(task: ImageTask, state: ImportState, remote: RemoteTask | None) -> Outcome:
    """What the image and its task say about the import.

    Success when the image is active in every store asked for; failure with Glance's
    message and the failed stores; a copy (or an import that need not reach every
    store) active in some stores and failed in others succeeded partly.
    """
    requested = requested_stores(task)
    failed = tuple(s for s in state.failed if not requested or s in requested)
    message = remote.message if remote is not None else ""
    remote_status = remote.status if remote is not None else ""
    if remote_status in (statuses.PENDING, statuses.PROCESSING) or state.importing:
        return Outcome(statuses.PROCESSING, "", (), False)
    missing = [s for s in requested if s not in state.stores]
    if state.status == "active" and remote_status != statuses.FAILURE:
        if not missing and not failed:
            return Outcome(statuses.SUCCESS, "", (), False)
        landed = not requested or any(s in state.stores for s in requested)
        if landed and failed and set(missing) <= set(failed):
            return Outcome(statuses.SUCCESS, message, failed, True)
    if remote_status == statuses.FAILURE or failed:
        text = message or (FAILED_IN.format(stores=", ".join(failed)) if failed else NOT_IMPORTED)
        return Outcome(statuses.FAILURE, text, failed, False)
    if remote_status == statuses.SUCCESS and state.status == "active":
        return Outcome(statuses.SUCCESS, message, (), False)
    return Outcome(task.status, task.message, (), False)  # nothing has happened yet


def observe(
    task: ImageTask, image: Image, remote: RemoteTask | None, observed_at: datetime
) -> ImageTask | None:
    """Record what the image and its import task say, if it is new; the row as written,
    or None when nothing changed (or another writer got there first)."""
    state = image.import_state
    found = outcome(task, state, remote)
    if found.status in (statuses.SUBMITTING, statuses.UNCONFIRMED):
        return None  # no sign of the import yet: not an observation
    before = task.result if isinstance(task.result, dict) else {}
    result = {
        "image_id": image_id_of(task) or image.id,
        **state_json(state),
        "task_id": state.task_id,
        "partial": found.partial,
        # Glance's own words on its import task, as last read.
        "task_status": remote.status if remote else before.get("task_status"),
        "task_message": remote.message if remote else before.get("task_message"),
    }
    body = {
        "image": storable.json_value(image.raw),
        "task": storable.json_value(remote.raw) if remote is not None else None,
    }
    mark = fingerprint(
        {
            "image": state_json(state),
            "image_task": state.task_id,
            "task": _task_mark(remote),
        }
    )
    terminal = statuses.get(found.status).terminal
    interval = scheduling.interval_after_change(task.cloud)
    fields: dict[str, Any] = {
        "remote_id": task.remote_id
        or keepable(remote.id if remote else None)
        or keepable(state.task_id),
        "status": found.status,
        "result": storable.json_value(result),
        "message": storable.text(found.message),
        "remote_created_at": (remote.created_at if remote else None) or task.remote_created_at,
        "remote_updated_at": (remote.updated_at if remote else None) or task.remote_updated_at,
        "expires_at": (remote.expires_at if remote else None) or task.expires_at,
        "changed_at": observed_at,
        "last_polled_at": observed_at,
        "poll_interval": interval,
        # The image is the import's result and does not expire: nothing to look at after.
        "next_poll_at": None
        if terminal or not task.watching
        else scheduling.next_poll(observed_at, interval),
        "poll_errors": 0,
        "stale_since": None,
        "version": task.version + 1,
    }
    if not observations.store_change(task, fields, observed_at, body, mark):
        return None
    log.info(
        "import changed task=%s cloud=%s image=%s status=%s",
        task.pk,
        task.cloud.name,
        result["image_id"],
        found.status,
    )
    return pollstate.written(task, fields)


def _task_mark(remote: RemoteTask | None) -> dict[str, Any] | None:
    if remote is None:
        return None
    return {
        "id": remote.id,
        "status": remote.status,
        "updated_at": remote.updated_at,
        "message": remote.message,
        "result": remote.result,
    }


def keepable(remote_id: str | None) -> str | None:
    """A task id the row can keep (the column is short; PostgreSQL refuses NUL)."""
    if not remote_id or len(remote_id) > observations.REMOTE_ID_LENGTH or storable.NUL in remote_id:
        return None
    return remote_id


def lost(task: ImageTask, now: datetime) -> ImageTask | None:
    """An import whose submission's outcome stayed unknown, with no sign of it on the image."""
    log.warning("import lost task=%s", task.pk)
    fields = {
        "status": statuses.LOST,
        "message": LOST,
        "watching": False,
        "next_poll_at": None,
        "changed_at": now,
        "version": task.version + 1,
    }
    return pollstate.written(task, fields) if pollstate.compare_and_set(task, fields) else None
