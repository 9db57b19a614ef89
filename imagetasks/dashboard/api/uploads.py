"""PUT /api/v1/tasks/upload: a file's bytes into a new image (Glance's glance-direct).

The body is the file, as the page sends it, and the image's fields are in the query;
the body is never read into memory or onto disk here: ``views/image_upload``'s
``upload_into_image``, which the page's upload calls too, streams it on to the cloud's
staging area in chunks, with the length the request announced. A body that ends early
leaves no image: the task is rejected with the reason. ``Idempotency-Key`` gives back
the task an earlier request with it made, the body left unread.
"""

from __future__ import annotations

from ninja import Header, Query, Router
from ninja.errors import HttpError

from imagetasks.dashboard import access, forms
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import Error
from imagetasks.dashboard.api.submissions import (
    STARTED,
    answer,
    earlier,
    invalid,
    submission_id_for,
    with_defaults,
)
from imagetasks.dashboard.api.tasks import task_fields
from imagetasks.dashboard.views import image_upload
from imagetasks.dashboard.views.upload import Refused

router = Router(tags=["submitting"])

BODY = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes, with its Content-Length.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.put(
    "/upload",
    response={**STARTED, 411: Error},
    url_name="upload",
    operation_id="uploadImage",
    openapi_extra=BODY,
)
def upload_image(
    request,
    fields: Query[schemas.UploadIn],
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=200),
):
    """Upload a file into a new image (glance-direct), where the cloud offers it: the body
    is the file (sent with its `Content-Length`), the image's fields are in the query, as
    the import page's *Upload from this computer* sends them.

    201 with the task, once the cloud was asked to import the file (`rejected`, with the
    reason, when the body ended early or the cloud refused it); 200 with the task an
    earlier request with the same `Idempotency-Key` made, this body unread. 409 when the
    cloud does not offer glance-direct, 411 without a length, 400 for an empty file.
    """
    cloud = access.get_cloud_to_submit(request, fields.cloud)
    submission_id = submission_id_for(request, idempotency_key)
    if existing := earlier(request, submission_id):
        return 200, schemas.Task(**task_fields(existing))
    if not image_upload.offers_glance_direct(cloud):
        raise HttpError(409, image_upload.NOT_OFFERED.format(cloud=cloud.name))
    data = {key: value for key, value in fields.model_dump().items() if value not in (None, [])}
    data["submission_id"] = str(submission_id)
    form = forms.GlanceDirectForm(
        with_defaults(forms.GlanceDirectForm, data), image_stores=cloud.image_stores
    )
    if not form.is_valid():
        raise invalid(form)
    try:
        task = image_upload.upload_into_image(request, cloud, form)
    except Refused as refusal:
        raise HttpError(refusal.status, refusal.message) from None
    return answer(task)
