"""Advancing one copy through its steps: exporting → transferring → importing → cleaning.

A job holding the copy's lease runs the step its status names. A step either
moves the copy on (a compare-and-set with its timeline entry) and the next
step runs at once, or finds it must wait (the cloud is still exporting or
importing; the poller follows those tasks) and gives the lease back with the
next look due in a few seconds. A failure anywhere records the reason and
goes to ``cleaning``, so staging objects are removed whatever happened.
A cloud that does not answer is retried with a growing delay; after
``MAX_ATTEMPTS`` the step fails with the last error.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.clouds.secretbox import SecretUnreadable
from imagetasks.dashboard.copies import transfer
from imagetasks.dashboard.copies.lease import Lease, event
from imagetasks.dashboard.leases import Superseded
from imagetasks.dashboard.models import Cloud, Copy, ImageTask
from imagetasks.dashboard.tracking.submission import submit
from imagetasks.openstack import CloudError, Conflict, NotFound
from imagetasks.openstack.largeobjects import segments_container

log = logging.getLogger("imagetasks.copies")

MAX_ATTEMPTS = 5
WAIT = timedelta(seconds=2)
RETRY_DELAY = 5.0  # seconds, doubled after each failed attempt


def submission_id(copy: Copy, step: str) -> uuid.UUID:
    """The id of the task a step submits: the same on every run, so it is submitted once."""
    return uuid.uuid5(copy.pk, step)


def submit_export(copy: Copy) -> ImageTask:
    """Create the staging container, submit the export into it (once), link it to the copy."""
    client = client_for(copy.source_cloud)
    client.objects.create_container(copy.staging_container)
    task_input = client.export_input(
        image_id=copy.source_image_id, container=copy.staging_container
    )
    name = copy.source_image_name or None
    return _submit_step(copy, "export", copy.source_cloud, task_input, name=name)


def submit_import(copy: Copy) -> ImageTask:
    """Submit the import of the transferred object on the target (once) and link it."""
    client = client_for(copy.target_cloud)
    task_input = client.import_input(
        source=f"{copy.staging_container}/{copy.staging_object}", name=copy.target_name
    )
    return _submit_step(copy, "import", copy.target_cloud, task_input)


def _submit_step(
    copy: Copy, step: str, cloud: Cloud, task_input: dict[str, Any], name: str | None = None
) -> ImageTask:
    """Submit the step's task on ``cloud`` under the step's own submission id, so a rerun
    finds the same task, and link it to the copy (the event is written only the first time)."""
    task = submit(
        cloud,
        ImageTask.Type(step),
        task_input,
        user=copy.created_by,
        submission_id=submission_id(copy, step),
        name=name,
    )
    field = f"{step}_task"
    attached = Copy.objects.filter(pk=copy.pk, **{f"{field}__isnull": True}).update(
        **{field: task}, version=F("version") + 1, updated_at=timezone.now()
    )
    if attached:
        event(copy, step, "started", f"{step.capitalize()} submitted to {cloud.name}.")
    copy.refresh_from_db()
    return task


# Steps: each returns True when the copy moved on, False when it must wait. ------------


def _fail(copy: Copy, lease: Lease, step: str, message: str) -> bool:
    log.info("copy failed copy=%s step=%s message=%s", copy.pk, step, message)
    lease.move(copy, statuses.COPY_CLEANING, step, "failed", message, error=message)
    return True


def _task_failed(task: ImageTask) -> str:
    return task.message or task.status_info.description


def _exporting(copy: Copy, lease: Lease) -> bool:
    task = copy.export_task or submit_export(copy)
    if task.status == statuses.SUCCESS:
        location = str((task.result or {}).get("export_location") or "")
        _, _, name = location.partition("/")
        if not name:
            return _fail(copy, lease, "export", "The export succeeded without an export_location.")
        lease.move(
            copy,
            statuses.COPY_TRANSFERRING,
            "export",
            "succeeded",
            f"Exported to {location} on {copy.source_cloud.name}.",
            staging_object=name,
        )
        return True
    if task.status in statuses.TERMINAL:
        return _fail(copy, lease, "export", f"The export failed: {_task_failed(task)}")
    return False


def _transferring(copy: Copy, lease: Lease) -> bool:
    size, etag = transfer.copy_object(copy, lease)
    if etag:
        md5 = f"MD5 {etag}"
    elif copy.export_md5:
        md5 = f"MD5 not computed; the image is checked against the source's {copy.export_md5}"
    else:
        md5 = "MD5 unknown"
    lease.move(
        copy,
        statuses.COPY_IMPORTING,
        "transfer",
        "succeeded",
        f"{size} bytes in {copy.target_cloud.name} ({md5}).",
        object_etag=etag,
        bytes_total=size,
        bytes_done=size,
    )
    return True


def _importing(copy: Copy, lease: Lease) -> bool:
    try:
        task = copy.import_task or submit_import(copy)
    except ValueError as error:  # the target cannot import from object storage
        return _fail(copy, lease, "import", f"The target cannot import this copy: {error}")
    if task.status == statuses.SUCCESS:
        return _imported(copy, lease, str((task.result or {}).get("image_id") or ""))
    if task.status in statuses.TERMINAL:
        return _fail(copy, lease, "import", f"The import failed: {_task_failed(task)}")
    return False


def _imported(copy: Copy, lease: Lease, image_id: str) -> bool:
    """Check the image against the object that was sent (or, when its MD5 is not known,
    the source image whose bytes it is) before calling the copy done."""
    image = client_for(copy.target_cloud).images.get_image(image_id)
    if copy.object_etag:
        expected, whose = copy.object_etag, "the transferred object's MD5"
    else:
        expected, whose = copy.export_md5, "the source image's checksum"
    if expected and image.checksum and image.checksum != expected:
        return _fail(
            copy,
            lease,
            "import",
            f"The image {image_id} imported on {copy.target_cloud.name} has checksum "
            f"{image.checksum}, not {whose} {expected}.",
        )
    lease.move(
        copy,
        statuses.COPY_CLEANING,
        "import",
        "succeeded",
        f"Image {image_id} is {image.status} on {copy.target_cloud.name} "
        f"(checksum {image.checksum or 'unknown'}).",
        target_image_id=image_id,
    )
    return True


def _remove_staging(copy: Copy) -> list[str]:
    """Delete the staging object (a large one with its segments), any segments left by a
    transfer cut short, and the staging containers, on both clouds; what could not be
    removed."""
    left = []
    segments = segments_container(copy.staging_container)
    for cloud in (copy.source_cloud, copy.target_cloud):
        objects = client_for(cloud).objects
        if copy.staging_object:
            with contextlib.suppress(NotFound):
                objects.delete_object(copy.staging_container, copy.staging_object)
        try:
            leftovers = [entry.name for entry in objects.list_objects(segments)]
        except NotFound:
            leftovers = []
        for name in leftovers:
            with contextlib.suppress(NotFound):
                objects.delete_object(segments, name)
        for container in (segments, copy.staging_container):
            try:
                objects.delete_container(container)
            except NotFound:
                pass
            except Conflict:
                left.append(f"{cloud.name}: container {container} is not empty")
    return left


def _cleaning(copy: Copy, lease: Lease, leftovers: str = "") -> bool:
    left = [leftovers] if leftovers else _remove_staging(copy)
    message = (
        "Staging objects removed."
        if not left
        else "Staging objects could not all be removed: " + "; ".join(left)
    )
    final = statuses.COPY_FAILED if copy.error else statuses.COPY_SUCCEEDED
    lease.move(copy, final, "cleanup", "failed" if left else "succeeded", message)
    log.info("copy finished copy=%s status=%s", copy.pk, final)
    return True


# The status map names the step each status runs; these are the steps themselves.
STEPS = {
    "export": _exporting,
    "transfer": _transferring,
    "import": _importing,
    "cleanup": _cleaning,
}


def advance(copy_id: uuid.UUID | str, token: int) -> str:
    """Run the copy's steps while they can go on; its status afterwards ("" if superseded)."""
    lease = Lease(copy_id, token)
    copy = None
    try:
        copy = lease.load()
        # The claim was taken when the job was sent and it may have waited in the queue:
        # a fresh lease, and a new token so that a second delivery of this message stops.
        lease.begin()
        while copy.status in statuses.COPY_IN_FLIGHT:
            if not STEPS[copy.state.step](copy, lease):
                lease.release(next_step_at=timezone.now() + WAIT)
                return copy.status
        lease.release()
        return copy.status
    except Superseded:
        log.info("copy taken over by another job copy=%s", copy_id)
        return ""
    except (CloudError, SecretUnreadable) as error:
        return _retry_later(copy, lease, error)
    except Exception:
        # Push the next attempt forward so one bad row cannot loop, then let it be seen.
        lease.release(next_step_at=timezone.now() + timedelta(seconds=RETRY_DELAY * 4))
        raise


def _retry_later(copy: Copy | None, lease: Lease, error: Exception) -> str:
    """Count the failed attempt; after the last one the step fails with this error."""
    if copy is None:
        lease.release(next_step_at=timezone.now() + timedelta(seconds=RETRY_DELAY))
        return ""
    try:
        copy = lease.load()
        step, attempts = copy.state.step, copy.attempts + 1
        reason = str(error)
        log.warning(
            "copy step failed copy=%s step=%s attempt=%d: %s", copy.pk, step, attempts, reason
        )
        if attempts < MAX_ATTEMPTS:
            delay = RETRY_DELAY * 2 ** (attempts - 1)
            lease.update(attempts=attempts)
            lease.note(copy, step, "retrying", f"Attempt {attempts} failed: {reason}")
            lease.release(next_step_at=timezone.now() + timedelta(seconds=delay))
            return copy.status
        if copy.status == statuses.COPY_CLEANING:
            _cleaning(copy, lease, leftovers=reason)
        else:
            _fail(copy, lease, step, f"Gave up after {attempts} attempts: {reason}")
        lease.release()
        return copy.status
    except Superseded:
        return ""
