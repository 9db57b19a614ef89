"""GET /v2/schemas/{task,tasks,image,images} (reference §1.6)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from imagetasks.localcloud.api import authenticated
from imagetasks.localcloud.images import schemas
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.methods import by_method

SCHEMAS: dict[str, Callable[[], dict]] = {
    "task": schemas.task_schema,
    "tasks": schemas.tasks_schema,
    "image": schemas.image_schema,
    "images": schemas.images_schema,
}


@glance_api
@authenticated
def schema(request: HttpRequest, name: str) -> HttpResponse:
    return by_method(request, {"GET": lambda request: JsonResponse(SCHEMAS[name]())})
