"""POST /v2/images/<id>/import: Glance's checks, in Glance's order, then the task.

Refusals are Glance's: 400 for a body it cannot use (no method, an unknown
method, a URI that does not pass the filter, non-boolean flags, a store the
copy already has), 409 for an image in the wrong state or already being
imported, and for a store this cloud does not have (Glance's "Unknown
scheme"). A glance-download must name the image and region to copy from; whether
the project may read that image is decided when the task runs. An accepted import
is a pending ``api_image_import`` task with Glance's input, and the image marked as
being imported, in one transaction.
"""

from __future__ import annotations

import uuid

from django.db import transaction

from imagetasks.localcloud import stores
from imagetasks.localcloud.api import ApiError, CloudRequest
from imagetasks.localcloud.executors import import_state, lifecycle
from imagetasks.localcloud.executors.web_download import passes_filter
from imagetasks.localcloud.images.task_input import json_body
from imagetasks.localcloud.models import CloudTask, Image

STORE_HEADER = "X-Image-Meta-Store"
LIVE = (CloudTask.Status.PENDING, CloudTask.Status.PROCESSING)


def start_import(request: CloudRequest, image: Image) -> CloudTask | None:
    """Start the import the request asks for; None when there is nothing to do (a copy to
    all stores of an image already in all of them)."""
    body = _body(request)
    method = body["method"]["name"]
    if image.project_id != request.project.id:
        raise ApiError(403, "You are not authorized to complete modify_image action.")
    with transaction.atomic():
        image = Image.objects.select_for_update().get(pk=image.pk)
        _check_status(image, method)
        _check_lock(image)
        targets = _stores(request, body)
        if method == "copy-image":
            targets = _copy_targets(image, targets, all_stores=body.get("all_stores", False))
            if not targets:
                return None
        if method == "web-download" and not passes_filter(body["method"].get("uri")):
            uri = body["method"].get("uri")
            raise ApiError(400, f"URI for web-download does not pass filtering: {uri}")
        if method == "glance-download":
            _check_glance_download(body["method"])
        task = lifecycle.submit(
            request.project,
            CloudTask.Type.API_IMAGE_IMPORT,
            {"image_id": str(image.id), "import_req": body, "backend": targets},
            image_id=image.id,
            user_id=request.token.user_id,
            request_id=f"req-{uuid.uuid4()}",
        )
        import_state.begin(image, task.id, targets, method)
        image.save(update_fields=["properties", "status", "updated_at"])
    return task


def _body(request: CloudRequest) -> dict:
    body = json_body(request)
    if not isinstance(body, dict):
        raise ApiError(400, "Unexpected body type. Expected list/dict.")
    method = body.get("method")
    if not isinstance(method, dict):
        raise ApiError(400, "Import request requires a 'method' field.")
    name = method.get("name")
    if name is None:
        raise ApiError(400, "Import request requires a 'name' field.")
    if name not in stores.IMPORT_METHODS:
        raise ApiError(400, f"Unknown import method name '{name}'.")
    for flag in ("all_stores_must_succeed", "all_stores"):
        if flag in body and not isinstance(body[flag], bool):
            raise ApiError(400, f"'{flag}' must be boolean value only")
    return body


def _check_status(image: Image, method: str) -> None:
    status = image.status
    if status == Image.Status.ACTIVE and method != "copy-image":
        raise ApiError(409, "Image with status active cannot be target for import")
    if status != Image.Status.ACTIVE and method == "copy-image":
        raise ApiError(409, "Only images with status active can be targeted for copying")
    if status != Image.Status.QUEUED and method in ("web-download", "glance-download"):
        raise ApiError(409, f"Image needs to be in 'queued' state to use '{method}' method")
    if status != Image.Status.UPLOADING and method == "glance-direct":
        raise ApiError(409, "Image needs to be staged before 'glance-direct' method can be used")
    if method == "glance-download":
        return  # the formats come from the image copied, as in Glance
    if not image.container_format:
        raise ApiError(409, "'container_format' needs to be set before import")
    if not image.disk_format:
        raise ApiError(409, "'disk_format' needs to be set before import")


def _check_glance_download(method: dict) -> None:
    """Glance's checks of a glance-download body; the interface defaults to ``public``."""
    for key in ("glance_region", "glance_image_id"):
        if not isinstance(method.get(key), str) or not method[key]:
            raise ApiError(400, f"'{key}' needs to be set for glance-download import method")
    interface = method.setdefault("glance_service_interface", "public")
    if not isinstance(interface, str):
        raise ApiError(400, "'glance_service_interface' must be a string")


def _check_lock(image: Image) -> None:
    """One import at a time: the lock holds while its task may still run."""
    holder = _uuid(image.properties.get(import_state.IMPORT_TASK))
    if holder and CloudTask.objects.filter(pk=holder, status__in=LIVE).exists():
        raise ApiError(409, "Image has active task")


def _stores(request: CloudRequest, body: dict) -> list[str]:
    """The stores asked for (Glance's ``get_stores_from_request``), each one known."""
    header = request.headers.get(STORE_HEADER)
    if body.get("all_stores", False):
        if "stores" in body or header is not None:
            raise ApiError(
                400,
                "All_stores parameter can't be used with x-image-meta-store header or "
                "stores parameter",
            )
        return stores.store_ids()
    if "stores" in body:
        if header is not None:
            raise ApiError(
                400, "Stores parameter and x-image-meta-store header can't be both specified"
            )
        wanted = body["stores"]
        if not isinstance(wanted, list) or not all(isinstance(s, str) for s in wanted):
            raise ApiError(400, "'stores' must be a list of store names")
        if not wanted:
            raise ApiError(400, "'stores' must name at least one store")
    else:
        wanted = [header if header is not None else stores.default_store()]
    for store in wanted:
        if store not in stores.store_ids():
            raise ApiError(409, f"Unknown scheme '{store[:100]}' found in URI")
    return list(dict.fromkeys(wanted))


def _copy_targets(image: Image, wanted: list[str], *, all_stores: bool) -> list[str]:
    if all_stores:
        return [store for store in wanted if store not in image.stores]
    for store in wanted:
        if store in image.stores:
            raise ApiError(400, f"Image is already present at store '{store}'")
    return wanted


def _uuid(value: object) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
