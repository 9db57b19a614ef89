"""Object requests: download (GET, with Range), facts (HEAD), upload or copy (PUT),
metadata (POST), DELETE. Large objects (SLO, DLO) are answered by ``large_views``."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote, unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.models import Container, Project, StoredObject
from imagetasks.localcloud.objectstore import (
    headers,
    large_views,
    limits,
    names,
    segments,
    service,
    transfer,
)
from imagetasks.localcloud.objectstore.container_views import container_or_404

MAX_CONTENT_TYPE_LENGTH = 255


def get(request: HttpRequest, project: Project, container: str, name: str) -> HttpResponseBase:
    obj = _object_or_404(project, container, name)
    as_stored = large_views.manifest_param(request) == "get"
    if obj.is_static_large_object and as_stored:
        return large_views.manifest_document(obj, _object_headers(obj))
    if segments.is_large(obj) and not as_stored:
        return large_views.get(request, project, obj, _object_headers(obj))
    byte_range = transfer.requested_range(request.headers.get("Range"), obj.size)
    response = transfer.stream_blob(obj.blob_id, obj.size, byte_range)
    return headers.apply(response, _object_headers(obj))


def head(request: HttpRequest, project: Project, container: str, name: str) -> HttpResponse:
    obj = _object_or_404(project, container, name)
    if segments.is_large(obj) and large_views.manifest_param(request) != "get":
        return large_views.head(project, obj, _object_headers(obj))
    response = HttpResponse()
    response["Content-Length"] = str(obj.size)
    return headers.apply(response, _object_headers(obj))


def put(request: HttpRequest, project: Project, container: str, name: str) -> HttpResponse:
    target = container_or_404(project, container)
    metadata = headers.metadata_from(request, headers.OBJECT_META)
    delete_at = headers.delete_at_from(request)
    content_type = request.headers.get("Content-Type") or None
    if content_type is not None and len(content_type) > MAX_CONTENT_TYPE_LENGTH:
        raise ApiError(400, f"Content-Type longer than {MAX_CONTENT_TYPE_LENGTH}")
    if large_views.manifest_param(request) == "put":
        return large_views.put_manifest(
            request,
            target,
            name,
            content_type=content_type,
            metadata=metadata,
            delete_at=delete_at,
        )
    if "X-Copy-From" in request.headers:
        return _copy(request, project, target, name, metadata, delete_at)
    object_manifest = _object_manifest(request)
    chunks = transfer.body_chunks(request, limits.max_object_size())
    try:
        obj = service.put_object(
            target,
            name,
            chunks,
            content_type,
            metadata=metadata,
            delete_at=delete_at,
            expected_etag=request.headers.get("ETag") or None,
            object_manifest=object_manifest,
        )
    except service.ChecksumMismatch:
        raise ApiError(422, "The MD5 of the body does not match the ETag sent.") from None
    except service.ContainerGone:
        raise ApiError(404, f"Container {container} not found.") from None
    return _created(obj)


def post(request: HttpRequest, project: Project, container: str, name: str) -> HttpResponse:
    """Replace the object's metadata; like Swift, an expiry not sent again is removed."""
    obj = _object_or_404(project, container, name)
    service.set_object_metadata(
        obj,
        headers.metadata_from(request, headers.OBJECT_META),
        headers.delete_at_from(request),
    )
    return HttpResponse(status=202)


def delete(request: HttpRequest, project: Project, container: str, name: str) -> HttpResponse:
    """Delete the object; with ``?multipart-manifest=delete`` a static large object goes
    with its segments (anything else is deleted as usual)."""
    obj = _object_or_404(project, container, name)
    if obj.is_static_large_object and large_views.manifest_param(request) == "delete":
        return large_views.delete(request, obj)
    service.delete_object(obj)
    return HttpResponse(status=204)


METHODS = {"GET": get, "HEAD": head, "PUT": put, "POST": post, "DELETE": delete}


def _copy(
    request: HttpRequest,
    project: Project,
    target: Container,
    name: str,
    metadata: dict[str, str],
    delete_at: datetime | None,
) -> HttpResponse:
    """``X-Copy-From: /<container>/<object>`` (URL-encoded): a server-side copy.

    The copy keeps the source's Content-Type. Swift lets a Content-Type on the
    copy request override it, but wsgiref-based servers (runserver, the test
    server) report ``text/plain`` for a request that sent none, so here an
    override could not be told from its absence.
    """
    if transfer.declared_length(request):
        raise ApiError(400, "Copy requests require a zero byte body")
    raw = unquote_to_bytes(request.headers["X-Copy-From"].encode("latin-1")).removeprefix(b"/")
    source_container, _, source_name = raw.partition(b"/")
    if not source_container or not source_name:
        raise ApiError(412, "X-Copy-From header must be of the form <container name>/<object name>")
    source = _object_or_404(
        project, names.container_name(source_container), names.object_name(source_name)
    )
    fresh = request.headers.get("X-Fresh-Metadata", "").lower() in {"true", "1", "yes", "on"}
    metadata = metadata if fresh else {**source.metadata, **metadata}
    as_stored = large_views.manifest_param(request) == "get"
    if source.is_static_large_object and as_stored:
        obj = large_views.copy_manifest(
            source, target, name, metadata=metadata, delete_at=delete_at
        )
    elif segments.is_large(source) and not as_stored:
        obj = large_views.copy_whole(
            project,
            source,
            target,
            name,
            max_size=limits.max_object_size(),
            metadata=metadata,
            delete_at=delete_at,
        )
    else:
        obj = service.copy_object(source, target, name, metadata=metadata, delete_at=delete_at)
    response = _created(obj)
    response["X-Copied-From"] = quote(f"{source.container.name}/{source.name}")
    response["X-Copied-From-Last-Modified"] = headers.last_modified(source.last_modified)
    return response


def _object_manifest(request: HttpRequest) -> str:
    """``X-Object-Manifest: <container>/<prefix>``, which makes the object a DLO; or ""."""
    value = request.headers.get("X-Object-Manifest")
    if value is None:
        return ""
    container, slash, _ = value.partition("/")
    if not container or not slash:
        raise ApiError(400, "X-Object-Manifest must be in the format container/prefix")
    return headers.utf8_value(value, "X-Object-Manifest")


def _object_or_404(project: Project, container: str, name: str) -> StoredObject:
    obj = service.find_object(container_or_404(project, container), name)
    if obj is None:
        raise ApiError(404, "The resource could not be found.")
    return obj


def _object_headers(obj: StoredObject) -> dict[str, str]:
    values = {
        "Content-Type": obj.content_type,
        "ETag": service.ensure_etag(obj),
        "Last-Modified": headers.last_modified(obj.last_modified),
        "X-Timestamp": headers.x_timestamp(obj.last_modified),
        "Accept-Ranges": "bytes",
        **headers.metadata_headers(obj.metadata, headers.OBJECT_META),
    }
    if obj.delete_at is not None:
        values["X-Delete-At"] = str(int(obj.delete_at.timestamp()))
    if obj.is_static_large_object:
        values["ETag"] = large_views.quoted(obj.etag)
        values["X-Static-Large-Object"] = "True"
    if obj.object_manifest:
        values["X-Object-Manifest"] = headers.wire_value(obj.object_manifest)
    return values


def _created(obj: StoredObject) -> HttpResponse:
    response = HttpResponse(status=201)
    return headers.apply(
        response,
        {
            "ETag": service.ensure_etag(obj),
            "Last-Modified": headers.last_modified(obj.last_modified),
            "X-Timestamp": headers.x_timestamp(obj.last_modified),
        },
    )
