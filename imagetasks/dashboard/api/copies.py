"""Copies to another cloud or region: start one, as the copy form does, and read one
with its timeline.

Starting is the form's: ``CopyForm`` validates the body (the target one of the caller's
other clouds), and ``views/copies.start`` checks the image and the target against the
clouds and starts the copy, as the page does. Only operators start copies (403), on a
cloud they see (404). ``Idempotency-Key`` is the copy's id, as for submissions: the
same key from the same person gives the same copy, started once. A copy is read by
whoever sees both its clouds.
"""

from __future__ import annotations

import uuid

from django.urls import reverse
from ninja import Header, Router

from imagetasks.dashboard import access
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import ERRORS
from imagetasks.dashboard.api.submissions import invalid, key_id
from imagetasks.dashboard.copies.forms import CopyForm
from imagetasks.dashboard.models import Copy
from imagetasks.dashboard.views import copies

router = Router(tags=["copies"])
# Not the tasks' namespace: a key names one kind of thing, so a copy and a task sent
# with the same key are unrelated.
KEYS = uuid.UUID("6a0c1f9e-2d7b-4f3e-8c51-0e9a7b3d2c44")
RELATED = ("source_cloud", "target_cloud", "created_by")


def copy_out(copy: Copy) -> schemas.Copy:
    state = copy.state
    steps = [
        schemas.CopyStep(step=event.step, status=event.status, message=event.message, at=event.at)
        for event in copy.events.all()
    ]
    return schemas.Copy(
        id=copy.pk,
        url=reverse("api:copy", kwargs={"copy_id": copy.pk}),
        page=reverse("dashboard:copy", kwargs={"copy_id": copy.pk}),
        status=schemas.CopyStatus(copy.status),
        status_label=state.label,
        final=state.final,
        error=copy.error,
        source_cloud=copy.source_cloud.name,
        source_image_id=copy.source_image_id,
        source_image_name=copy.source_image_name,
        target_cloud=copy.target_cloud.name,
        target_name=copy.target_name,
        target_image_id=copy.target_image_id or None,
        export_task=copy.export_task_id,
        import_task=copy.import_task_id,
        bytes_total=copy.bytes_total,
        bytes_done=copy.bytes_done,
        created_by=copy.created_by.get_username() if copy.created_by else None,
        created_at=copy.created_at,
        updated_at=copy.updated_at,
        finished_at=copy.finished_at,
        version=copy.version,
        steps=steps,
    )


def _read(copy_id: uuid.UUID) -> schemas.Copy:
    return copy_out(Copy.objects.select_related(*RELATED).get(pk=copy_id))


@router.post(
    "",
    response={201: schemas.Copy, 200: schemas.Copy, **ERRORS},
    url_name="copies",
    operation_id="startCopy",
)
def start_copy(
    request,
    body: schemas.CopyIn,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Copy one of the account's images to another cloud or region, as the copy form
    does (the same fields and checks): the export is submitted at once, and the rest
    follows on its own; read the copy for its progress.

    201 with the new copy; 200 with the copy an earlier request with the same
    `Idempotency-Key` started.
    """
    source = access.get_cloud_to_submit(request, body.cloud)
    copy_id = key_id(KEYS, request, idempotency_key)
    if Copy.objects.filter(pk=copy_id, created_by_id=request.user.pk).exists():
        return 200, _read(copy_id)
    targets = copies.copy_targets(list(access.clouds_to_submit(request.user)), source)
    data = {**body.model_dump(), "cloud": source.name, "copy_id": str(copy_id)}
    form = CopyForm(data, source=source, targets=targets)
    if not form.is_valid():
        raise invalid(form)
    copy = copies.start(form, source, request.user)
    if copy is None:
        raise invalid(form)
    return 201, _read(copy.pk)


@router.get(
    "/{uuid:copy_id}",
    response={200: schemas.Copy, **ERRORS},
    url_name="copy",
    operation_id="getCopy",
)
def get_copy(request, copy_id: uuid.UUID):
    """One copy with its timeline (every step, oldest first), for whoever sees both its
    clouds."""
    return copy_out(access.get_copy_for_user(request, copy_id))
