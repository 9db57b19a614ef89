"""Starting work through the API: an import (from an object or a URL, or another region's
image), an export, a copy to more stores, a resubmission, stop watching.

Each is what its page does, through the same code: the form validates the body (422
with the form's own messages), the same checks against the cloud run, and
``task_forms.submit_form`` submits. Only operators start work (403 for the others);
a cloud or task the caller may not see is a 404.

``Idempotency-Key`` is the form's submission id: the same key from the same person
gives the same task, posted to the cloud once; a second request with it is answered
200 with that task, the checks not run again.
"""

from __future__ import annotations

import uuid

from django.forms import Form
from django.http import HttpRequest
from ninja import Header, Router
from ninja.errors import HttpError, ValidationError

from imagetasks.dashboard import access, forms
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import ASKS_CLOUD, ERRORS
from imagetasks.dashboard.api.tasks import task_fields
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import pollstate
from imagetasks.dashboard.tracking.resubmission import resubmit as resubmit_task
from imagetasks.dashboard.views import region_import, store_copies, task_forms
from imagetasks.dashboard.views.task_detail import NOT_RESUBMITTED

router = Router(tags=["submitting"])
# A key names the person's own submission: the same key from two people is two tasks.
KEYS = uuid.UUID("0b6f0b9e-3f0e-4a52-9d53-6f3c1c1e4a10")
STARTED = {201: schemas.Task, 200: schemas.Task, 409: ERRORS[404], **ERRORS}
NO_REGION_IMPORT = (
    "The cloud {cloud} does not offer copies from another region (glance-download), or its "
    "catalog names no other region with images."
)


def key_id(namespace: uuid.UUID, request: HttpRequest, key: str | None) -> uuid.UUID:
    """The id an ``Idempotency-Key`` names: the same for the same person and key (a new
    one without a key)."""
    if not key:
        return uuid.uuid4()
    return uuid.uuid5(namespace, f"{request.user.pk}:{key}")


def submission_id_for(request: HttpRequest, key: str | None) -> uuid.UUID:
    return key_id(KEYS, request, key)


def earlier(request: HttpRequest, submission_id: uuid.UUID) -> ImageTask | None:
    return (
        ImageTask.objects.select_related("cloud", "submitted_by")
        .filter(pk=submission_id, submitted_by_id=request.user.pk)
        .first()
    )


def with_defaults(form_class, data: dict) -> dict:
    """``data`` with what the form's page would have pre-filled (a format, say) for the
    fields the body leaves out, so a body means what the same page, left as it is, means."""
    initial = {
        name: field.initial
        for name, field in form_class.base_fields.items()
        if field.initial is not None and not callable(field.initial)
    }
    return {**initial, **data}


def invalid(form) -> ValidationError:
    """The form's problems in the API's 422 shape (``loc`` names the field)."""
    return ValidationError(
        [
            {
                "type": "invalid",
                "loc": ["body", field] if field != "__all__" else ["body"],
                "msg": msg,
            }
            for field, messages in form.errors.items()
            for msg in messages
        ]
    )


def answer(task: ImageTask) -> tuple[int, schemas.Task]:
    task = ImageTask.objects.select_related("cloud", "submitted_by").get(pk=task.pk)
    return 201, schemas.Task(**task_fields(task))


@router.post("/import", response=STARTED, url_name="import", operation_id="submitImport")
def submit_import(
    request,
    body: schemas.ImportIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Import an image, as the import form does (the same fields and checks).

    201 with the new task (its status may already be `rejected`, with the cloud's
    message); 200 with the task an earlier request with the same `Idempotency-Key` made.
    """
    cloud = access.get_cloud_to_submit(request, body.cloud)
    submission_id = submission_id_for(request, idempotency_key)
    if existing := earlier(request, submission_id):
        return 200, schemas.Task(**task_fields(existing))
    data = {
        key: value
        for key, value in body.model_dump(exclude={"method"}).items()
        if value not in (None, [])
    }
    data.update(cloud=cloud.name, submission_id=str(submission_id))
    form: Form
    if body.method == region_import.GLANCE_DOWNLOAD:
        if not region_import.offered(cloud):
            raise HttpError(409, NO_REGION_IMPORT.format(cloud=cloud.name))
        known = region_import.regions(cloud)
        data["glance_region"] = body.region if body.region is not None else known[0]
        form = forms.RegionImportForm(data, regions=known, image_stores=cloud.image_stores)
        if not form.is_valid():
            raise invalid(form)
        task = task_forms.submit_region_import(form, cloud, request.user)
    elif body.method == "web-download":
        if task_forms.WEB_DOWNLOAD not in (cloud.import_methods or []):
            raise HttpError(409, f"The cloud {cloud.name} does not offer web-download imports.")
        form = forms.WebDownloadForm(
            with_defaults(forms.WebDownloadForm, data), image_stores=cloud.image_stores
        )
        if not form.is_valid():
            raise invalid(form)
        task = task_forms.submit_web_download(form, cloud, request.user)
    else:
        style, cloud_error = task_forms.import_style(cloud)
        form_class = task_forms.import_form_class(style)
        form = form_class(with_defaults(form_class, data))
        if cloud_error:
            form.is_valid()
            form.add_error(None, cloud_error)
        if not form.is_valid():
            raise invalid(form)
        task = task_forms.submit_import(form, cloud, style, request.user)
    return _refused_or(form, task, submission_id)


@router.post("/export", response=STARTED, url_name="export", operation_id="submitExport")
def submit_export(
    request,
    body: schemas.ExportIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Export one of the account's images, as the export form does."""
    cloud = access.get_cloud_to_submit(request, body.cloud)
    submission_id = submission_id_for(request, idempotency_key)
    if existing := earlier(request, submission_id):
        return 200, schemas.Task(**task_fields(existing))
    form = forms.ExportForm({**body.model_dump(), "submission_id": str(submission_id)})
    if not form.is_valid():
        raise invalid(form)
    client = client_for(cloud)
    task = task_forms.submit_export(form, cloud, client, request.user)
    return _refused_or(form, task, submission_id)


@router.post(
    "/copy-to-stores",
    response={**STARTED, **ASKS_CLOUD},
    url_name="copy_to_stores",
    operation_id="copyToStores",
)
def copy_to_stores(
    request,
    body: schemas.StoreCopyIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Copy an image of the cloud to more of its stores (Glance's `copy-image`), as the
    form on the image's page does: the image is read from the cloud again, and `stores`
    must be stores it is not in yet.

    409 when the cloud does not offer it, its policy refused this account, or the image
    is in every store already; 502 when the cloud could not be asked about the image.
    """
    cloud = access.get_cloud_to_submit(request, body.cloud)
    submission_id = submission_id_for(request, idempotency_key)
    if existing := earlier(request, submission_id):
        return 200, schemas.Task(**task_fields(existing))
    offered = store_copies.store_copy(cloud, body.image_id)
    if offered.image is None:
        raise HttpError(502, offered.problem)
    if offered.problem:
        raise HttpError(409, offered.problem)
    data = {
        "cloud": cloud.name,
        "submission_id": str(submission_id),
        "stores": body.stores,
        "allow_failures": body.allow_failures,
    }
    form = forms.StoreCopyForm(data, choices=offered.choices)
    if not form.is_valid():
        raise invalid(form)
    return answer(store_copies.submit_store_copy(form, cloud, offered.image, request.user))


def _refused_or(form, task: ImageTask | None, submission_id: uuid.UUID):
    """201 with the task; a refusal is a task too (status ``rejected``), or the form's
    problems (checks against the cloud) as a 422 when nothing was submitted."""
    if task is not None:
        return answer(task)
    refused = ImageTask.objects.filter(pk=submission_id).first()
    if refused is not None:
        return answer(refused)
    raise invalid(form)


@router.post(
    "/{uuid:task_id}/resubmit", response=STARTED, url_name="resubmit", operation_id="resubmitTask"
)
def resubmit(request, task_id: uuid.UUID):
    """A new task with the same input, linked to this one (which stays as it was)."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    if task.method == ImageTask.Method.GLANCE_DIRECT:
        raise HttpError(409, NOT_RESUBMITTED)
    return answer(resubmit_task(task, user=request.user))


@router.post(
    "/{uuid:task_id}/stop",
    response={200: schemas.Task, **ERRORS},
    url_name="stop_watching",
    operation_id="stopWatching",
)
def stop_watching(request, task_id: uuid.UUID):
    """Stop polling the task here; it goes on running on the cloud (tasks cannot be
    cancelled). Stopping a task already ended or not watched changes nothing."""
    task = access.get_task_for_user(request, task_id)
    access.require_operator(request)
    pollstate.stop_watching(task)
    task.refresh_from_db()
    return 200, schemas.Task(**task_fields(task))
