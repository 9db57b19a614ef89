"""The Object Storage API: one entry point that splits ``/v1/<account>/<container>/<object>``.

The account must be the token's own (``AUTH_<project id>``). Any other account
is a 403, as Swift answers a valid token that has no rights on an account: a
401 would tell the client to authenticate again, which cannot help. The
caller's own account never shows another project's containers.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from imagetasks.localcloud.api import ApiError, CloudRequest, api_view, authenticated
from imagetasks.localcloud.catalog import account_name
from imagetasks.localcloud.models import Project, StoredObject
from imagetasks.localcloud.objectstore import (
    container_views,
    headers,
    listing,
    names,
    object_views,
    service,
)


@api_view
@authenticated
def dispatch(request: CloudRequest, rest: str) -> HttpResponse:
    path = names.split_path(request, rest)
    if path.account != account_name(request.project).encode():
        raise ApiError(403, "This account is not the token's project.")
    if not path.container and not path.object:
        return _by_method(request, ACCOUNT_METHODS, request.project)
    container = names.container_name(path.container)
    if not path.object:
        return _by_method(request, container_views.METHODS, request.project, container)
    name = names.object_name(path.object)
    return _by_method(request, object_views.METHODS, request.project, container, name)


def _by_method(request: HttpRequest, methods: dict, *args) -> HttpResponse:
    handler = methods.get(request.method)
    if handler is None:
        return HttpResponseNotAllowed(sorted(methods))
    return handler(request, *args)


def account_get(request: HttpRequest, project: Project) -> HttpResponse:
    query = listing.parse_query(request)
    service.purge_expired(StoredObject.objects.filter(container__project=project))
    entries = listing.page(service.containers_with_usage(project), query)
    return listing.respond(entries, query, _container_entry, _account_headers(project))


def account_head(request: HttpRequest, project: Project) -> HttpResponse:
    service.purge_expired(StoredObject.objects.filter(container__project=project))
    return headers.apply(HttpResponse(status=204), _account_headers(project))


ACCOUNT_METHODS = {"GET": account_get, "HEAD": account_head}


def _account_headers(project: Project) -> dict[str, str]:
    containers, objects, used = service.account_usage(project)
    return {
        "X-Account-Container-Count": str(containers),
        "X-Account-Object-Count": str(objects),
        "X-Account-Bytes-Used": str(used),
        "X-Timestamp": headers.x_timestamp(project.created_at),
    }


def _container_entry(container) -> dict:
    return {
        "name": container.name,
        "count": container.object_count,
        "bytes": container.bytes_used,
        "last_modified": headers.listing_time(container.created_at),
    }
