"""Uploading a file from the person's computer into a new image (Glance's ``glance-direct``).

The browser PUTs the file as the raw body and the form's fields in the query (a
multipart form would make Django spool the file to disk first). The submission creates
the image, streams the body on to ``PUT /v2/images/{id}/stage`` in chunks with the
announced length (the same reader as an upload to object storage, ``upload``), then asks
for the import; the task is then followed like any other. A body that ends early fails
the stage, so the cloud never imports part of a file: the task is rejected with the
reason and the empty image removed.
"""

from __future__ import annotations

import logging
import uuid

from django.contrib import messages
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard import forms, statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking.submission import Upload, submit
from imagetasks.dashboard.views.common import Request
from imagetasks.dashboard.views.task_forms import UNCONFIRMED
from imagetasks.dashboard.views.upload import (
    EMPTY,
    HashingReader,
    Refused,
    announced_length,
    answers_refusals,
    operator_cloud,
)

log = logging.getLogger("imagetasks.upload")

GLANCE_DIRECT = ImageTask.Method.GLANCE_DIRECT.value
NOT_OFFERED = "The cloud {cloud} does not offer uploads into an image (glance-direct)."


def _problems(form: forms.GlanceDirectForm) -> str:
    """The form's errors as one sentence per field, named as the page labels them."""
    said = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = (field.label if field and field.label else name.replace("_", " ")).capitalize()
        said.append(f"{label}: {' '.join(str(error) for error in errors)}")
    return " ".join(said)


def offers_glance_direct(cloud: Cloud) -> bool:
    return GLANCE_DIRECT in (cloud.import_methods or [])


def upload_into_image(request: Request, cloud: Cloud, form: forms.GlanceDirectForm) -> ImageTask:
    """Submit a valid form's glance-direct import once (its submission id), the request's
    body streamed on as the image's data with its announced length. A body no file could
    be (no length, none at all) is a ``Refused``; one that ends early, or a refusal of the
    cloud, is the task, rejected with the reason. The page and the API upload here."""
    length = announced_length(request)
    if length == 0:
        raise Refused(400, EMPTY)
    task = submit(
        cloud,
        ImageTask.Type.IMPORT,
        form.task_input(),
        method=GLANCE_DIRECT,
        upload=Upload(HashingReader(request, length), length),
        user=request.user,
        submission_id=form.cleaned_data["submission_id"],
    )
    log.info(
        "upload into an image cloud=%s task=%s bytes=%d status=%s",
        cloud.name, task.pk, length, task.status,
    )  # fmt: skip
    return task


@require_http_methods(["PUT"])
@answers_refusals
def upload_image(request: Request, cloud_name: str) -> JsonResponse:
    """PUT a file's bytes into a new image, its properties in the query.

    Answers JSON: the task's page (201) once the cloud was asked to import the file, or
    ``{"error": …}`` with a 4xx that says why, and a fresh submission id for the next try.
    The same submission sent again gets the first task back, its body unread.
    """
    cloud = operator_cloud(request, cloud_name)
    if not offers_glance_direct(cloud):
        raise Refused(409, NOT_OFFERED.format(cloud=cloud.name))
    form = forms.GlanceDirectForm(request.GET, image_stores=cloud.image_stores)
    if not form.is_valid():
        raise Refused(400, _problems(form))
    task = upload_into_image(request, cloud, form)
    answer = {
        "task_id": str(task.pk),
        "task_url": reverse("dashboard:task", args=[task.pk]),
        "status": task.status_info.label,
        "submission_id": str(uuid.uuid4()),
    }
    if task.status == statuses.REJECTED:
        return JsonResponse({**answer, "error": task.message}, status=400)
    if task.status == statuses.UNCONFIRMED:
        messages.warning(request, UNCONFIRMED)
    return JsonResponse(answer, status=201)
