"""Submitting a task: saved first, POSTed once, its outcome recorded whatever happens.

The row is created before the POST, so nothing is lost if the web process
dies mid-request. A 4xx (or anything that means nothing was sent) makes it
``rejected`` with the cloud's message. A timeout, a lost connection or a 5xx
means the cloud may have created the task anyway: the row becomes
``unconfirmed`` and the reconcile step looks for it later. The app never POSTs
the same submission twice; a form that is sent twice carries the same id.

An interoperable import (``method`` set) goes the same way in more steps: the image
is created and its id kept on the row before anything else is sent, its data staged
(``glance-direct``), then the import asked for; the image is then read once for the
first snapshot. A copy-image the cloud's policy refuses is noted on the cloud, which then
stops offering it. From the import request on, an unanswered step leaves the row
``unconfirmed`` and the poller learns the outcome from the image itself.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.clouds.secretbox import SecretUnreadable
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import image_imports, observations, storable
from imagetasks.openstack import (
    CloudClient,
    CloudError,
    Forbidden,
    ImageProperties,
    NotFound,
    TasksForbidden,
)
from imagetasks.openstack.objects import Body, ShortBody
from imagetasks.openstack.types import Image

log = logging.getLogger("imagetasks.tracking")

# How soon to start looking for a task whose submission went unanswered.
RECONCILE_DELAY = 10.0
ORPHAN_AFTER = 120.0
# How a refusal of the tasks API reads (the client words it; Glance forbids it by default).
TASKS_FORBIDDEN = "This account may not use the tasks API"
CLOUD_OFF = "Not sent: the cloud {cloud} is switched off in the dashboard."
IMAGE_UNANSWERED = (
    "The cloud did not answer the request to create the image, so nothing was imported. "
    "It may have created an empty image named {name!r}: delete it if so, and import again."
)
NO_DATA = "A glance-direct import needs the image's data."
CUT_OFF = "The upload was cut off ({reason}), so the cloud did not get the whole file."
IMAGE_REMOVED = "Nothing was imported, and the empty image made for it was removed."
IMAGE_KEPT = "Nothing was imported; its empty image {image_id} could not be removed ({reason})."
NAME_AND_FORMAT = "An image needs a name and a disk format."
GLANCE_DOWNLOAD = ImageTask.Method.GLANCE_DOWNLOAD.value
# The image fields an import's ``image_properties`` may set besides its extra properties.
_IMAGE_FIELDS = ("name", "disk_format", "container_format", "visibility", "min_disk", "min_ram")


@dataclass(frozen=True)
class Upload:
    """The data of a ``glance-direct`` import, streamed to the image's staging area."""

    data: Body
    length: int


def describe(task_type: str, task_input: object) -> str:
    """A short name for the table: the image name for imports, the image id for exports.

    A discovered task's input is whatever the cloud sent: any shape reads as a name or "".
    """
    data = task_input if isinstance(task_input, dict) else {}
    if task_type == "import":
        properties = data.get("image_properties")
        name = properties.get("name") if isinstance(properties, dict) else None
        return storable.text(str(name or data.get("import_from") or ""), 255)
    return storable.text(str(data.get("image_uuid") or ""), 255)


def submit(
    cloud: Cloud,
    task_type: str,
    task_input: dict[str, Any],
    *,
    user: User | None = None,
    submission_id: uuid.UUID | None = None,
    origin: str = ImageTask.Origin.SUBMITTED,
    resubmitted_from: ImageTask | None = None,
    delete_source: bool = False,
    name: str | None = None,
    method: str = "",
    upload: Upload | None = None,
) -> ImageTask:
    """Create the task row, POST it once, and return the row in its resulting state.

    ``delete_source`` (imports): delete the source object once the import succeeded.
    ``name``: what the table calls the task (an export's image name), when the caller
    knows better than the input does. ``method``: an interoperable import method
    (blank: the tasks API); its ``task_input`` holds ``image_properties``, and ``uri``
    (web-download), ``image_id`` (copy-image), ``glance_region`` and ``glance_image_id``
    (glance-download), ``stores``, ``all_stores_must_succeed``;
    ``upload`` is a glance-direct import's data.
    """
    if submission_id is not None and _taken_by_another(submission_id, cloud, user):
        # The id names someone else's task (or another cloud's): it is no key of this
        # person's, so this is a new submission, and nothing of the other task is shown.
        submission_id = None
    try:
        with transaction.atomic():  # a savepoint: a duplicate must not spoil a caller's atomic
            task = ImageTask.objects.create(
                id=submission_id or uuid.uuid4(),
                cloud=cloud,
                type=task_type,
                method=method,
                input=task_input,
                name=(name or describe(task_type, task_input))[:255],
                status=statuses.SUBMITTING,
                submitted_by=user,
                origin=origin,
                resubmitted_from=resubmitted_from,
                delete_source_after_import=delete_source and task_type == ImageTask.Type.IMPORT,
                poll_interval=cloud.poll_min_interval,
                # Should this process die before the POST's outcome is stored, the
                # poller finds the row due and reconciles it like an unconfirmed one.
                next_poll_at=timezone.now() + timedelta(seconds=ORPHAN_AFTER),
            )
    except IntegrityError:
        if submission_id is None:
            raise  # a fresh id cannot collide: the row itself was refused
        # The same form arrived twice: the first submission stands.
        return ImageTask.objects.get(pk=submission_id, cloud=cloud, submitted_by=user)
    if not cloud.enabled:
        # The CLI, a resubmission or a copy may name a cloud switched off since: nothing
        # is sent, and the row says why (the poller would never look at it).
        return _finish(task, statuses.REJECTED, message=CLOUD_OFF.format(cloud=cloud.name))
    log.info("submitting task=%s cloud=%s type=%s", task.pk, cloud.name, task_type)
    if method:
        try:
            return _start_import(task, upload)
        except SecretUnreadable as error:
            return _finish(task, statuses.REJECTED, message=str(error))
    try:
        remote = client_for(cloud).images.create_task(task_type, task_input)
    except CloudError as error:
        return _not_confirmed(task, error)
    except SecretUnreadable as error:
        return _finish(task, statuses.REJECTED, message=str(error))
    observations.record(task, remote, timezone.now())
    task.refresh_from_db()
    log.info("submitted task=%s remote_id=%s status=%s", task.pk, task.remote_id, task.status)
    return task


def _start_import(task: ImageTask, upload: Upload | None) -> ImageTask:
    """Create the image (unless copying one), stage its data, ask for the import, and
    record what the image shows then."""
    client = client_for(task.cloud)
    data = task.input
    image_id = str(data.get("image_id") or "") if task.method == "copy-image" else ""
    source: tuple[str, str] | None = None
    if task.method == GLANCE_DOWNLOAD:
        try:
            source = glance_download_source(data)
        except ValueError as error:
            return _finish(task, statuses.REJECTED, message=str(error))
    if not image_id:
        try:
            properties = image_properties(
                data.get("image_properties"), formats=task.method != GLANCE_DOWNLOAD
            )
        except ValueError as error:
            return _finish(task, statuses.REJECTED, message=str(error))
        try:
            created = client.imports.create_image(properties)
        except CloudError as error:
            if error.outcome_unknown:
                message = IMAGE_UNANSWERED.format(name=properties.name)
                return _finish(task, statuses.LOST, message=message)
            return _not_confirmed(task, error)
        image_id = created.id
    task = _finish(task, statuses.SUBMITTING, result={"image_id": image_id})
    try:
        if task.method == "glance-direct":
            if upload is None:
                return _finish(task, statuses.REJECTED, message=NO_DATA)
            try:
                client.imports.stage(image_id, upload.data, upload.length)
            except ShortBody as error:
                return _upload_cut_off(task, client, image_id, error)
        client.imports.import_image(
            image_id,
            task.method,
            uri=data.get("uri") if task.method == "web-download" else None,
            stores=image_imports.requested_stores(task) or None,
            all_stores_must_succeed=data.get("all_stores_must_succeed"),
            remote_region=source[0] if source else None,
            remote_image_id=source[1] if source else None,
        )
    except ValueError as error:
        return _finish(task, statuses.REJECTED, message=str(error))
    except CloudError as error:
        if task.method == "copy-image" and _copy_policy_refused(error):
            Cloud.objects.filter(pk=task.cloud_id).update(copy_image_refused_at=timezone.now())
        return _not_confirmed(task, error)
    now = timezone.now()
    remote_task = None
    try:
        image: Image | None = client.images.get_image(image_id)
        if image is not None and not image.import_state.importing:
            # Ended already (a URL that answers 404 fails at once): only its task says why.
            tasks = client.imports.image_tasks(image_id)
            remote_task = image_imports.pick_task(task, image.import_state, tasks)
    except CloudError:
        image = None  # the import was accepted: the poller reads the image soon
    if image is None or not image_imports.observe(task, image, remote_task, now):
        # Accepted, with nothing to see on the image yet.
        return _finish(task, statuses.PENDING, next_poll_at=now)
    task.refresh_from_db()
    log.info("submitted import task=%s image=%s status=%s", task.pk, image_id, task.status)
    return task


def _copy_policy_refused(error: CloudError) -> bool:
    """Whether the cloud's policy keeps copy-image from this account (Glance's default
    admits only admins: 403 "You are not authorized to complete copy_image action."),
    rather than refusing this one image."""
    return isinstance(error, Forbidden) and "copy_image" in error.message


def _upload_cut_off(
    task: ImageTask, client: CloudClient, image_id: str, error: ShortBody
) -> ImageTask:
    """A glance-direct upload that ended early: nothing can be imported, so the image
    created for it, which holds no data, is removed too."""
    message = CUT_OFF.format(reason=error)
    log.info("upload cut off task=%s image=%s: %s", task.pk, image_id, error)
    try:
        client.images.delete_image(image_id)
    except NotFound:
        pass
    except CloudError as failure:
        kept = IMAGE_KEPT.format(image_id=image_id, reason=failure.message)
        return _finish(task, statuses.REJECTED, message=f"{message} {kept}")
    return _finish(task, statuses.REJECTED, message=f"{message} {IMAGE_REMOVED}", result=None)


def image_properties(value: object, *, formats: bool = True) -> ImageProperties:
    """What an import's ``image_properties`` create the image with; ``ValueError`` names
    what is wrong.

    ``formats=False`` (a glance-download): only a name is needed, and formats not given
    are left out, so the cloud takes them from the image it copies, as Glance does.
    """
    if not isinstance(value, dict):
        needed = "at least a name and a disk format" if formats else "at least a name"
        raise ValueError(f"An import needs image_properties: {needed}.")
    known = {key: value[key] for key in _IMAGE_FIELDS if key in value}
    extra = {key: item for key, item in value.items() if key not in _IMAGE_FIELDS}
    if not known.get("name"):
        raise ValueError("An image needs a name." if not formats else NAME_AND_FORMAT)
    if formats and not known.get("disk_format"):
        raise ValueError(NAME_AND_FORMAT)
    if not formats:
        known.setdefault("container_format", "")
    return ImageProperties(extra=extra, **known)


def glance_download_source(data: dict[str, Any]) -> tuple[str, str]:
    """The region and the image id a glance-download copies; ``ValueError`` (before
    anything is created) when one is missing."""
    region, image_id = data.get("glance_region"), data.get("glance_image_id")
    if not isinstance(region, str) or not region.strip():
        raise ValueError("A copy from another region needs glance_region: the region to copy from.")
    if not isinstance(image_id, str) or not image_id.strip():
        raise ValueError("A copy from another region needs glance_image_id: the image to copy.")
    return region.strip(), image_id.strip()


def _taken_by_another(submission_id: uuid.UUID, cloud: Cloud, user: User | None) -> bool:
    """Whether a task with this id exists that is not this person's on this cloud."""
    return (
        ImageTask.objects.filter(pk=submission_id).exclude(cloud=cloud, submitted_by=user).exists()
    )


def _not_confirmed(task: ImageTask, error: CloudError) -> ImageTask:
    if error.outcome_unknown:
        now = timezone.now()
        log.warning("submission unconfirmed task=%s error=%s", task.pk, error)
        return _finish(
            task,
            statuses.UNCONFIRMED,
            last_error=f"{type(error).__name__}: {error}",
            last_error_at=now,
            next_poll_at=now + timedelta(seconds=RECONCILE_DELAY),
        )
    message = error.message
    if isinstance(error, TasksForbidden):
        # The client already says "this account may not use the tasks API: …".
        message = message[:1].upper() + message[1:]
    log.info("submission rejected task=%s status=%s message=%s", task.pk, error.status, message)
    return _finish(task, statuses.REJECTED, message=message)


def _finish(task: ImageTask, status: str, **fields: Any) -> ImageTask:
    if status in statuses.TERMINAL:
        fields.update(watching=False, next_poll_at=None)
    ImageTask.objects.filter(pk=task.pk, version=task.version).update(
        status=status, changed_at=timezone.now(), version=F("version") + 1, **fields
    )
    task.refresh_from_db()
    return task
