"""The images API the tasks need: list, show, delete, download (reference §6.1)."""

from __future__ import annotations

from functools import partial

from django.db import transaction
from django.http import FileResponse, HttpResponse, JsonResponse

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.api import ApiError, CloudRequest, authenticated
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.image_listing import list_images, visible_images
from imagetasks.localcloud.images.lookup import visible_by_id
from imagetasks.localcloud.images.methods import by_method
from imagetasks.localcloud.images.serialize import image_detail
from imagetasks.localcloud.models import Image


@glance_api
@authenticated
def images(request: CloudRequest) -> HttpResponse:
    return by_method(request, {"GET": _list})


@glance_api
@authenticated
def image(request: CloudRequest, image_id: str) -> HttpResponse:
    return by_method(request, {"GET": _show, "DELETE": _delete}, image_id)


@glance_api
@authenticated
def image_file(request: CloudRequest, image_id: str) -> HttpResponse | FileResponse:
    return by_method(request, {"GET": _download}, image_id)


def _list(request: CloudRequest) -> HttpResponse:
    return JsonResponse(list_images(request.project, request.GET))


def _show(request: CloudRequest, image_id: str) -> HttpResponse:
    return JsonResponse(image_detail(_visible_image(request, image_id)))


def _delete(request: CloudRequest, image_id: str) -> HttpResponse:
    """Only the owner deletes, never a protected image; the bytes go once the row is gone."""
    found = _visible_image(request, image_id)
    if found.project_id != request.project.id:
        raise ApiError(403, f"You cannot delete image {found.id}.")
    if found.protected:
        raise ApiError(403, f"Image {found.id} is protected and cannot be deleted.")
    with transaction.atomic():
        deleted, _ = Image.objects.filter(pk=found.pk).delete()
        if deleted:
            transaction.on_commit(partial(blobstore.delete, found.blob_id))
    return HttpResponse(status=204)


def _download(request: CloudRequest, image_id: str) -> HttpResponse | FileResponse:
    """Streamed from the blob file (sendfile where the server offers it): constant memory."""
    found = _visible_image(request, image_id)
    if found.status == Image.Status.DEACTIVATED:
        raise ApiError(
            403, "The requested image has been deactivated. Image data download is forbidden."
        )
    if found.status != Image.Status.ACTIVE or not found.blob_id:
        return HttpResponse(status=204)  # no data yet, as Glance answers
    response = FileResponse(
        open(blobstore.path_of(found.blob_id), "rb"),  # noqa: SIM115 - closed by the response
        content_type="application/octet-stream",
        filename=str(found.id),
    )
    if found.checksum:
        response["Content-MD5"] = found.checksum
    return response


def _visible_image(request: CloudRequest, image_id: str) -> Image:
    return visible_by_id(
        visible_images(request.project), image_id, f"No image found with ID {image_id}"
    )
