"""The images API: list, create, show, update, delete, download (reference §6.1), and
the interoperable import's stage, import and the image's tasks (Images API 2.6–2.12)."""

from __future__ import annotations

from functools import partial

from django.db import IntegrityError, transaction
from django.http import FileResponse, HttpResponse, JsonResponse

from imagetasks.localcloud import blobstore, stores
from imagetasks.localcloud.api import ApiError, CloudRequest, authenticated
from imagetasks.localcloud.executors.lifecycle import visible_tasks
from imagetasks.localcloud.images import image_input, import_request, staging
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.image_listing import list_images, visible_images
from imagetasks.localcloud.images.lookup import visible_by_id
from imagetasks.localcloud.images.methods import by_method
from imagetasks.localcloud.images.serialize import image_detail, image_task_entry
from imagetasks.localcloud.models import CloudTask, Image


@glance_api
@authenticated
def images(request: CloudRequest) -> HttpResponse:
    return by_method(request, {"GET": _list, "POST": _create})


@glance_api
@authenticated
def image(request: CloudRequest, image_id: str) -> HttpResponse:
    return by_method(request, {"GET": _show, "PATCH": _update, "DELETE": _delete}, image_id)


@glance_api
@authenticated
def image_stage(request: CloudRequest, image_id: str) -> HttpResponse:
    return by_method(request, {"PUT": _stage}, image_id)


@glance_api
@authenticated
def image_import(request: CloudRequest, image_id: str) -> HttpResponse:
    return by_method(request, {"POST": _import}, image_id)


@glance_api
@authenticated
def image_tasks(request: CloudRequest, image_id: str) -> HttpResponse:
    return by_method(request, {"GET": _tasks}, image_id)


@glance_api
@authenticated
def image_file(request: CloudRequest, image_id: str) -> HttpResponse | FileResponse:
    return by_method(request, {"GET": _download}, image_id)


def _list(request: CloudRequest) -> HttpResponse:
    return JsonResponse(list_images(request.project, request.region, request.GET))


def _show(request: CloudRequest, image_id: str) -> HttpResponse:
    return _with_discovery(JsonResponse(image_detail(_visible_image(request, image_id))))


def _create(request: CloudRequest) -> HttpResponse:
    """A queued image with the attributes and extra properties asked for (201)."""
    core, extra = image_input.create_fields(request)
    try:
        with transaction.atomic():
            created = Image.objects.create(
                project=request.project, region=request.region, properties=extra, **core
            )
    except IntegrityError:
        raise ApiError(409, f"Image with identifier {core.get('id')} already exists!") from None
    response = JsonResponse(image_detail(created), status=201)
    response["Location"] = f"/v2/images/{created.id}"
    return _with_discovery(response)


def _update(request: CloudRequest, image_id: str) -> HttpResponse:
    """JSON-patch changes of the owner's image: attributes, tags and extra properties."""
    found = _visible_image(request, image_id)
    if found.project_id != request.project.id:
        raise ApiError(403, "You are not authorized to complete modify_image action.")
    changes = image_input.patch_changes(request)
    with transaction.atomic():
        current = Image.objects.select_for_update().get(pk=found.pk)
        properties = dict(current.properties)
        for op, key, value in changes:
            if key in image_input.EDITABLE:
                if key in ("disk_format", "container_format") and current.status != "queued":
                    raise ApiError(
                        403, f"Attribute '{key}' can be only replaced for a queued image."
                    )
                setattr(current, key, [] if op == "remove" else value)
            elif op == "remove":
                if key not in properties:
                    raise ApiError(409, f"Property {key} does not exist.")
                del properties[key]
            elif op == "replace" and key not in properties:
                raise ApiError(409, f"Property {key} does not exist.")
            else:
                properties[key] = value
        if len(properties) > image_input.MAX_PROPERTIES:
            raise ApiError(413, "Maximum number of image properties exceeded.")
        current.properties = properties
        current.save()
    return _with_discovery(JsonResponse(image_detail(current)))


def _stage(request: CloudRequest, image_id: str) -> HttpResponse:
    staging.stage(request, _visible_image(request, image_id))
    return HttpResponse(status=204)


def _import(request: CloudRequest, image_id: str) -> HttpResponse:
    import_request.start_import(request, _visible_image(request, image_id))
    return HttpResponse(status=202)


def _tasks(request: CloudRequest, image_id: str) -> HttpResponse:
    """The image's import tasks (Images API 2.12), oldest first, as Glance lists them."""
    found = _visible_image(request, image_id)
    tasks = visible_tasks(request.project).filter(
        image_id=found.id, type=CloudTask.Type.API_IMAGE_IMPORT
    )
    return JsonResponse(
        {"tasks": [image_task_entry(task) for task in tasks.order_by("created_at")]}
    )


def _with_discovery(response: HttpResponse) -> HttpResponse:
    for name, value in stores.discovery_headers().items():
        response[name] = value
    return response


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
            transaction.on_commit(partial(blobstore.delete, found.staged_blob_id))
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
        visible_images(request.project, request.region),
        image_id,
        f"No image found with ID {image_id}",
    )
