"""PUT /v2/images/<id>/stage: glance-direct's data, streamed to a blob in constant memory.

The image goes ``queued`` → ``uploading`` before the first byte is read (a
compare-and-set, so two uploads cannot both begin), and the blob is named on
the image only once the whole body is written. A body that ends early, grows
past LOCALCLOUD_MAX_IMAGE_SIZE or cannot be read leaves nothing staged and the
image ``queued`` again, with the error said to the client.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.api import ApiError, CloudRequest
from imagetasks.localcloud.executors.import_state import STAGE_HOST
from imagetasks.localcloud.images.links import service_root
from imagetasks.localcloud.models import Image
from imagetasks.localcloud.objectstore.transfer import body_chunks


def stage(request: CloudRequest, image: Image) -> None:
    if image.project_id != request.project.id:
        raise ApiError(403, "You are not authorized to complete modify_image action.")
    chunks = body_chunks(request, settings.LOCALCLOUD_MAX_IMAGE_SIZE)
    began = Image.objects.filter(pk=image.pk, status=Image.Status.QUEUED).update(
        status=Image.Status.UPLOADING, updated_at=timezone.now()
    )
    if not began:
        status = Image.objects.filter(pk=image.pk).values_list("status", flat=True).first()
        if status is None:
            raise ApiError(404, f"No image found with ID {image.id}")
        raise ApiError(409, f"Image status transition from {status} to uploading is not allowed")
    try:
        written = blobstore.write_stream(chunks)
    except BaseException:
        Image.objects.filter(pk=image.pk, status=Image.Status.UPLOADING).update(
            status=Image.Status.QUEUED, updated_at=timezone.now()
        )
        raise
    with transaction.atomic():
        current = Image.objects.select_for_update().filter(pk=image.pk).first()
        stale = current is None or current.status != Image.Status.UPLOADING
        if current is not None and not stale:
            if current.staged_blob_id:
                transaction.on_commit(partial(blobstore.delete, current.staged_blob_id))
            current.staged_blob_id = written.blob_id
            current.size = written.size
            current.properties = {**current.properties, STAGE_HOST: service_root(request)}
            current.save()
    if stale:
        blobstore.delete(written.blob_id)
        raise ApiError(409, "The image changed while its data was being staged.")
