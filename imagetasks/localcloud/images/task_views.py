"""The tasks API: /v2/tasks and /v2/tasks/<id> (reference §1)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpResponse, JsonResponse

from imagetasks.localcloud.api import ApiError, CloudRequest, authenticated
from imagetasks.localcloud.executors.lifecycle import submit, visible_tasks
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.links import service_root
from imagetasks.localcloud.images.lookup import visible_by_id
from imagetasks.localcloud.images.methods import by_method
from imagetasks.localcloud.images.serialize import task_detail
from imagetasks.localcloud.images.task_input import parse_task_request
from imagetasks.localcloud.images.task_listing import list_tasks
from imagetasks.localcloud.models import CloudTask, Project

DELETE_EXPLANATION = (
    "This operation is currently not permitted on Glance Tasks. They are auto deleted after "
    "reaching the time based on their expires_at property."
)


# Stock Glance's answer to a member when the tasks API is admin-only (policy tasks_api_access).
NOT_PERMITTED = "You are not authorized to complete tasks_api_access action."


@glance_api
@authenticated
def tasks(request: CloudRequest) -> HttpResponse:
    return by_method(request, {"GET": _permitted(_list), "POST": _permitted(_create)})


@glance_api
@authenticated
def task(request: CloudRequest, task_id: str) -> HttpResponse:
    return by_method(
        request, {"GET": _permitted(_show), "DELETE": _permitted(_refuse_delete)}, task_id
    )


def _permitted(handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The project's flavour decides before anything else is read, as Glance's policy does."""

    def checked(request: CloudRequest, *args: str) -> HttpResponse:
        if request.project.tasks_api == Project.TasksApi.ADMIN:
            raise ApiError(403, NOT_PERMITTED)
        return handler(request, *args)

    return checked


def _list(request: CloudRequest) -> HttpResponse:
    return JsonResponse(list_tasks(request.project, request.GET))


def _create(request: CloudRequest) -> HttpResponse:
    wanted = parse_task_request(request)
    created = submit(request.project, wanted.type, wanted.input)
    response = JsonResponse(task_detail(created), status=201)
    response["Location"] = f"{service_root(request)}/v2/tasks/{created.id}"
    return response


def _show(request: CloudRequest, task_id: str) -> HttpResponse:
    return JsonResponse(task_detail(_visible_task(request, task_id)))


def _refuse_delete(request: CloudRequest, task_id: str) -> HttpResponse:
    """Tasks are never deleted by clients; they expire (reference §1.5). The task is untouched."""
    raise ApiError(405, DELETE_EXPLANATION, {"Allow": "GET"})


def _visible_task(request: CloudRequest, task_id: str) -> CloudTask:
    """The caller's live task; unknown, malformed, expired and other projects' ids all 404."""
    return visible_by_id(visible_tasks(request.project), task_id, f"Could not find task {task_id}")
