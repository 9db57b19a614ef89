"""Requests on large objects: a manifest's PUT, the whole read as one (GET, HEAD, with
Range), the manifest itself (``?multipart-manifest=get``) and a delete with the segments.

Answers follow Swift's SLO middleware: a large object's ETag is quoted (it is
no MD5 of the bytes sent), manifests are refused with Swift's messages, and
the problems with segments, like a delete's report, come in Swift's bulk
form, as JSON for ``Accept: application/json`` and as text otherwise.
"""

from __future__ import annotations

import json
from datetime import datetime

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.models import Container, Project, StoredObject
from imagetasks.localcloud.objectstore import headers, manifests, names, segments, service
from imagetasks.localcloud.objectstore.segments import Part, SegmentError
from imagetasks.localcloud.objectstore.transfer import requested_range

CONFLICT = "There was a conflict when trying to complete your request."
_REPORT_TYPES = ["text/plain", "application/json"]


def manifest_param(request: HttpRequest) -> str:
    """The ``multipart-manifest`` query parameter: "put", "get", "delete" or ""."""
    return names.query_params(request).get("multipart-manifest", "")


def put_manifest(
    request: HttpRequest,
    target: Container,
    name: str,
    *,
    content_type: str | None,
    metadata: dict[str, str],
    delete_at: datetime | None,
) -> HttpResponse:
    if "X-Copy-From" in request.headers:
        raise ApiError(405, "Multipart Manifest PUTs cannot be COPY requests")
    entries = manifests.parse(manifests.read_body(request), target.name, name)
    checked = manifests.check(target.project, entries)
    if checked.problems:
        return _report(request, 400, {}, checked.problems)
    sent_etag = request.headers.get("ETag", "").strip('"').lower()
    if sent_etag and sent_etag != checked.etag:
        raise ApiError(422, "The ETag sent is not the MD5 of the segments' ETags.")
    try:
        obj = service.save_manifest(
            target,
            name,
            checked.stored,
            checked.size,
            checked.etag,
            content_type=content_type,
            metadata=metadata,
            delete_at=delete_at,
        )
    except service.ContainerGone:
        raise ApiError(404, f"Container {target.name} not found.") from None
    response = HttpResponse(status=201)
    return headers.apply(
        response,
        {
            "ETag": quoted(obj.etag),
            "Last-Modified": headers.last_modified(obj.last_modified),
            "X-Timestamp": headers.x_timestamp(obj.last_modified),
        },
    )


def whole_headers(obj: StoredObject, parts: list[Part], values: dict[str, str]) -> dict[str, str]:
    """``values`` (the object's own headers) as the whole shows them: a DLO's ETag is
    that of the parts found now."""
    if obj.is_static_large_object:
        return values
    return {**values, "ETag": quoted(segments.etag_of(parts))}


def head(project: Project, obj: StoredObject, values: dict[str, str]) -> HttpResponse:
    parts = segments.parts(project, obj)
    response = HttpResponse()
    response["Content-Length"] = str(sum(part.size for part in parts))
    return headers.apply(response, whole_headers(obj, parts, values))


def get(
    request: HttpRequest, project: Project, obj: StoredObject, values: dict[str, str]
) -> StreamingHttpResponse:
    """The segments one after the other, or one range across them; 409 before the first
    byte when a segment it needs is gone or changed."""
    parts = segments.parts(project, obj)
    size = sum(part.size for part in parts)
    byte_range = requested_range(request.headers.get("Range"), size)
    first, last = byte_range or (0, size - 1)
    try:
        pieces = segments.pieces(project, parts, first, last)
    except SegmentError:
        raise ApiError(409, CONFLICT) from None
    response = StreamingHttpResponse(
        segments.read(pieces, label=f"{obj.container.name}/{obj.name}"),
        status=206 if byte_range else 200,
    )
    response["Content-Length"] = str(max(last - first + 1, 0))
    if byte_range:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    return headers.apply(response, whole_headers(obj, parts, values))


def manifest_document(obj: StoredObject, values: dict[str, str]) -> HttpResponse:
    """``?multipart-manifest=get``: the stored manifest as JSON, as Swift returns it."""
    response = HttpResponse(
        json.dumps(obj.manifest), content_type="application/json; charset=utf-8"
    )
    values = {key: value for key, value in values.items() if key != "Content-Type"}
    return headers.apply(response, values)


def delete(request: HttpRequest, obj: StoredObject) -> HttpResponse:
    """``?multipart-manifest=delete`` of a static large object: it and its segments."""
    paths = [(part.container, part.name) for part in segments.slo_parts(obj)]
    deleted, not_found = service.delete_with_segments(obj, paths)
    report = {
        "Number Deleted": deleted,
        "Number Not Found": not_found,
        "Response Status": "200 OK",
        "Response Body": "",
    }
    return _report(request, 200, report, [])


def copy_whole(
    project: Project,
    source: StoredObject,
    target: Container,
    name: str,
    *,
    max_size: int,
    metadata: dict[str, str],
    delete_at: datetime | None,
) -> StoredObject:
    """A copy of a large object is a plain object of its bytes (as in Swift): 413 when
    those are more than one object may hold, 409 when a segment is gone or changes."""
    parts = segments.parts(project, source)
    size = sum(part.size for part in parts)
    if size > max_size:
        raise ApiError(413, "Your request is too large.")
    try:
        pieces = segments.pieces(project, parts, 0, size - 1)
        return service.put_object(
            target,
            name,
            segments.read(pieces, label=f"{source.container.name}/{source.name}"),
            source.content_type,
            metadata=metadata,
            delete_at=delete_at,
        )
    except SegmentError:
        raise ApiError(409, CONFLICT) from None


def copy_manifest(
    source: StoredObject,
    target: Container,
    name: str,
    *,
    metadata: dict[str, str],
    delete_at: datetime | None,
) -> StoredObject:
    """``X-Copy-From`` with ``?multipart-manifest=get``: a second manifest of the same segments."""
    return service.save_manifest(
        target,
        name,
        source.manifest or [],
        source.size,
        source.etag,
        content_type=source.content_type,
        metadata=metadata,
        delete_at=delete_at,
    )


def quoted(etag: str) -> str:
    return f'"{etag}"'


def _report(
    request: HttpRequest, status: int, values: dict[str, object], errors: list[list[str]]
) -> HttpResponse:
    """Swift's bulk answer: the values and the errors as JSON, or as ``Key: value`` lines."""
    if request.get_preferred_type(_REPORT_TYPES) == "application/json":
        body = json.dumps({**values, "Errors": errors})
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    lines = [f"{key}: {values[key]}\n" for key in sorted(values)]
    lines.append("Errors:\n")
    lines.extend(f"{path}, {reason}\n" for path, reason in errors)
    return HttpResponse("".join(lines), status=status, content_type="text/plain; charset=utf-8")
