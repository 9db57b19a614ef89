"""Container requests: list (GET), usage (HEAD), create (PUT), metadata (POST), DELETE."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.models import Container, Project
from imagetasks.localcloud.objectstore import headers, listing, service
from imagetasks.localcloud.objectstore.listing import Subdir


def container_or_404(project: Project, name: str) -> Container:
    container = service.find_container(project, name)
    if container is None:
        raise ApiError(404, f"Container {name} not found.")
    return container


def get(request: HttpRequest, project: Project, name: str) -> HttpResponse:
    container = container_or_404(project, name)
    query = listing.parse_query(request)
    service.purge_expired(service.objects_in(container))
    entries = listing.page(service.live_objects(container), query)
    for entry in entries:
        if not isinstance(entry, Subdir):
            service.ensure_etag(entry)
    return listing.respond(entries, query, _object_entry, _container_headers(container))


def head(request: HttpRequest, project: Project, name: str) -> HttpResponse:
    container = container_or_404(project, name)
    service.purge_expired(service.objects_in(container))
    return headers.apply(HttpResponse(status=204), _container_headers(container))


def put(request: HttpRequest, project: Project, name: str) -> HttpResponse:
    metadata = headers.metadata_from(request, headers.CONTAINER_META)
    _, created = service.create_container(project, name, metadata)
    return HttpResponse(status=201 if created else 202)


def post(request: HttpRequest, project: Project, name: str) -> HttpResponse:
    container = container_or_404(project, name)
    service.update_container_metadata(
        container, headers.metadata_from(request, headers.CONTAINER_META)
    )
    return HttpResponse(status=204)


def delete(request: HttpRequest, project: Project, name: str) -> HttpResponse:
    container = container_or_404(project, name)
    if not service.delete_container(container):
        raise ApiError(409, "There was a conflict when trying to complete your request.")
    return HttpResponse(status=204)


METHODS = {"GET": get, "HEAD": head, "PUT": put, "POST": post, "DELETE": delete}


def _container_headers(container: Container) -> dict[str, str]:
    count, used = service.container_usage(container)
    return {
        "X-Container-Object-Count": str(count),
        "X-Container-Bytes-Used": str(used),
        "X-Timestamp": headers.x_timestamp(container.created_at),
        **headers.metadata_headers(container.metadata, headers.CONTAINER_META),
    }


def _object_entry(obj) -> dict:
    """A listing entry; a static large object shows its whole size and, as Swift's
    ``slo_etag``, its quoted ETag."""
    entry = {
        "hash": obj.etag,
        "last_modified": headers.listing_time(obj.last_modified),
        "bytes": obj.size,
        "name": obj.name,
        "content_type": obj.content_type,
    }
    if obj.is_static_large_object:
        entry["slo_etag"] = f'"{obj.etag}"'
    return entry
