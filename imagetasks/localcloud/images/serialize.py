"""The JSON bodies of tasks and images, with exactly the keys of reference §2 and §6.1.

Links are relative (``/v2/tasks/<id>``) as Glance writes them; clients join them
to the endpoint they used. Nothing Glance-only (``request_id``, ``user_id``) is
sent (§8.1.7), except on the tasks of an image import, which only Glance has.
"""

from __future__ import annotations

from datetime import UTC, datetime

from imagetasks.localcloud.executors.import_state import HIDDEN
from imagetasks.localcloud.models import CloudTask, Image


def isotime(moment: datetime) -> str:
    """UTC, whole seconds, ``Z``: the only timestamp form of the API (§2)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def task_list_entry(task: CloudTask) -> dict:
    """The sparse view used in lists: no input, result or message."""
    view = {
        "id": str(task.id),
        "type": task.type,
        "status": task.status,
        "owner": task.project_id,
        "created_at": isotime(task.created_at),
        "updated_at": isotime(task.updated_at),
        "self": f"/v2/tasks/{task.id}",
        "schema": "/v2/schemas/task",
    }
    if task.expires_at is not None:
        view["expires_at"] = isotime(task.expires_at)
    return view


def task_detail(task: CloudTask) -> dict:
    """The full view: ``message`` is "" unless failed, ``result`` null until success (§8.1)."""
    view = task_list_entry(task)
    view["input"] = task.input
    view["result"] = task.result if task.status == CloudTask.Status.SUCCESS else None
    view["message"] = task.message if task.status == CloudTask.Status.FAILURE else ""
    if task.type == CloudTask.Type.API_IMAGE_IMPORT:
        view.update(_glance_fields(task))
    return view


def image_task_entry(task: CloudTask) -> dict:
    """A task of ``GET /v2/images/<id>/tasks``: Glance's database row as it serialises it
    (timestamps with microseconds and no zone, ``deleted`` flags, input, result, message)."""
    return {
        "id": str(task.id),
        "type": task.type,
        "status": task.status,
        "owner": task.project_id,
        "expires_at": _glance_time(task.expires_at),
        "created_at": _glance_time(task.created_at),
        "updated_at": _glance_time(task.updated_at),
        "deleted_at": None,
        "deleted": False,
        **_glance_fields(task),
        "input": task.input,
        "result": task.result if task.status == CloudTask.Status.SUCCESS else None,
        "message": task.message,
    }


def _glance_fields(task: CloudTask) -> dict:
    return {
        "image_id": str(task.image_id) if task.image_id else None,
        "request_id": task.request_id,
        "user_id": task.user_id,
    }


def _glance_time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def image_detail(image: Image) -> dict:
    view = {
        "id": str(image.id),
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": False,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "owner": image.project_id,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "container_format": image.container_format,
        "disk_format": image.disk_format,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "tags": list(image.tags),
        "created_at": isotime(image.created_at),
        "updated_at": isotime(image.updated_at),
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    if image.stores:
        view["stores"] = ",".join(image.stores)
    # Extra properties are top-level string keys (the schema is permissive for strings only).
    for key, value in image.properties.items():
        if key not in view and key not in HIDDEN:
            view[key] = str(value)
    return view
