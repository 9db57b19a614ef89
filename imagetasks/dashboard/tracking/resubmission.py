"""Submitting a task again: by a person, or automatically for Rackspace's transient 396.

A resubmission is a new task with the same input, linked to the old one; the
old row stays exactly as it was, as evidence.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import vhd_probe
from imagetasks.dashboard.tracking.submission import submit

log = logging.getLogger("imagetasks.tracking")

# Rackspace's import error 396 is intermittent (openstacksdk re-creates the task on it).
TRANSIENT_FAILURE = "Image cannot be imported. Error code: '396'"
# An automatic chain stops after this many resubmissions: a file that keeps failing
# with 396 is not a passing hiccup.
MAX_AUTOMATIC = 3


def resubmit(task: ImageTask, *, user: User | None = None) -> ImageTask:
    """A new task with the same input, linked both ways; an interoperable import is asked
    for again by the same method (its input means nothing to the tasks API)."""
    return submit(
        task.cloud,
        task.type,
        task.input,
        user=user,
        origin=ImageTask.Origin.RESUBMITTED,
        resubmitted_from=task,
        delete_source=task.delete_source_after_import,
        name=task.name,
        # An import found on the cloud by an unknown method has nothing to ask again by.
        method="" if task.method == ImageTask.Method.UNKNOWN else task.method,
    )


def after_failure(task: ImageTask) -> ImageTask | None:
    """Look whether a 396 failure's source is a VHD at all, and resubmit it when it is and
    the cloud opted in; return the new task, if any.

    Called once per recorded failure (the recording is compare-and-set, so a
    duplicated poll cannot call it twice); an existing resubmission also stops it.
    """
    if task.type != ImageTask.Type.IMPORT or task.message != TRANSIENT_FAILURE:
        return None
    # 396 is also what a file that is no VHD at all gets, and that one fails every time.
    vhd_probe.check_source(task)
    if not task.cloud.auto_resubmit_396 or task.source_is_vhd is False:
        return None
    if task.resubmissions.exists() or _automatic_depth(task) >= MAX_AUTOMATIC:
        return None
    new = resubmit(task, user=task.submitted_by)
    log.info("resubmitted after 396 task=%s new=%s", task.pk, new.pk)
    return new


def _automatic_depth(task: ImageTask) -> int:
    """How many resubmissions for 396 led to this task."""
    depth, current = 0, task
    while current.resubmitted_from_id and current.origin == ImageTask.Origin.RESUBMITTED:
        current = ImageTask.objects.only("message", "origin", "resubmitted_from").get(
            pk=current.resubmitted_from_id
        )
        if current.message != TRANSIENT_FAILURE:
            break
        depth += 1
    return depth
