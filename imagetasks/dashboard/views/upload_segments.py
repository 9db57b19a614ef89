"""Uploading a file larger than one segment from the browser, as a Swift static large object.

The page asks for a plan first (``upload_plan``): the effective segment size, and the
segments of this file already stored with their MD5s. It then sends each missing
segment as the raw body of a PUT of its own (``upload_segment``), streamed into
``<container>_segments``. Where nothing is stored at that index (the usual case) the
page hashes the segment while it is being sent and compares its MD5 with the one the
store computed, removing the segment (a DELETE of ``upload_segment``) when they differ;
where a segment is stored (a resume) it hashes first, skips the segment when the MD5s
match, and otherwise sends it with its MD5 as the ETag the store must match. The view
never hashes: the store does. Last the page asks for the manifest (``upload_manifest``),
written only once every segment is stored with the size and MD5 the browser computed.
Each request carries one segment at most, so a stalled browser holds no more of the site
than a small upload does.

Segment names come from the object's name and the file's size and modification time
(``largeobjects.segment_prefix``), so an upload that dropped resumes when the same file
is chosen again: the plan lists what is stored, the page sends the rest. Cancel
(``upload_cancel``) removes the segments of this file and a manifest joining them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms as django_forms
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imagetasks.dashboard import forms
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.views.common import Request
from imagetasks.dashboard.views.upload import (
    EMPTY,
    BodyReader,
    Refused,
    UploadCutShort,
    announced_length,
    answers_refusals,
    ensure_container,
    file_size,
    refused_by_store,
    stored_answer,
    upload_cloud,
)
from imagetasks.openstack import CloudError, NotFound
from imagetasks.openstack.largeobjects import (
    Segment,
    SegmentRef,
    choose_segment_size,
    plan_segments,
    segment_name,
    segment_prefix,
    segments_container,
)
from imagetasks.openstack.objects import ObjectStore
from imagetasks.openstack.types import ObjectInfo

log = logging.getLogger("imagetasks.upload")

# A file's modification time as the page sends it (File.lastModified, in milliseconds);
# swiftclient's seconds with a fraction are taken too. It becomes part of object names.
MTIME = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,9})?")
MD5 = re.compile(r"[0-9a-f]{32}")
# The manifest request's body: the file's MD5 and one per segment (1000 at most on Swift).
MANIFEST_REQUEST_LIMIT = 64 * 1024


def joined_etag(etags: list[str]) -> str:
    """The ETag Swift gives a manifest: the MD5 of its segments' MD5s, in order."""
    return hashlib.md5("".join(etags).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class LargeUpload:
    """One file's upload in segments: where they go and how the file is cut."""

    cloud: Cloud
    objects: ObjectStore
    container: str
    name: str
    size: int
    mtime: str
    segment_size: int

    @property
    def single(self) -> bool:
        """Whether the file goes up whole, as one PUT of ``upload_object``."""
        return self.size <= self.segment_size

    @property
    def segments_container(self) -> str:
        return segments_container(self.container)

    @property
    def prefix(self) -> str:
        return segment_prefix(self.name, self.mtime, self.size, self.segment_size)

    @property
    def segments(self) -> list[Segment]:
        return plan_segments(self.size, self.segment_size)

    def segment_name(self, index: int) -> str:
        return segment_name(self.prefix, index)

    def stored(self) -> dict[int, ObjectInfo]:
        """The segments of this file the store holds, by index."""
        return self.objects.stored_segments(self.container, self.prefix)

    def matching(self, stored: dict[int, ObjectInfo]) -> list[str] | None:
        """The MD5s of all the segments, when every one is stored whole; else None."""
        etags = []
        for segment in self.segments:
            info = stored.get(segment.index)
            if info is None or info.bytes != segment.length:
                return None
            etags.append(info.hash)
        return etags

    def manifest_is_ours(self, stored: dict[int, ObjectInfo]) -> bool:
        """Whether ``container/name`` is the manifest joining this file's stored segments."""
        etags = self.matching(stored)
        if etags is None:
            return False
        try:
            etag = self.objects.head_object(self.container, self.name).etag
        except NotFound:
            return False
        return (etag or "").strip('"') == joined_etag(etags)

    def url(self, view: str) -> str:
        query = urlencode({"size": self.size, "mtime": self.mtime})
        return f"{reverse(view, args=[self.cloud.name, self.container, self.name])}?{query}"


def _large_upload(request: Request, cloud_name: str, container: str, name: str) -> LargeUpload:
    """The upload the request is about, checked: access, names, size and segment size."""
    cloud = upload_cloud(request, cloud_name, container, name)
    size = file_size(request.GET.get("size"))
    if size is None:
        raise Refused(400, "Say the file's size in bytes (size=…).")
    if size == 0:
        raise Refused(400, EMPTY)
    mtime = request.GET.get("mtime", "")
    if not MTIME.fullmatch(mtime):
        raise Refused(400, "Say when the file was last modified, as a number (mtime=…).")
    objects = client_for(cloud).objects
    limits = objects.limits()
    try:
        segment_size = choose_segment_size(size, cloud.segment_size, limits)
    except ValueError:
        raise Refused(
            400,
            f"The file is too large for {cloud.name}: it takes at most "
            f"{limits.max_manifest_segments} segments of {limits.max_file_size} bytes.",
        ) from None
    upload = LargeUpload(cloud, objects, container, name, size, mtime, segment_size)
    if upload.single:
        return upload
    if not limits.slo:
        raise Refused(
            400,
            f"The file is larger than {cloud.name} stores in one object "
            f"({limits.max_file_size} bytes) and its object storage takes no large objects.",
        )
    try:
        forms.validate_container_name(upload.segments_container)
        forms.validate_object_name(upload.segment_name(len(upload.segments) - 1))
    except django_forms.ValidationError as error:
        raise Refused(400, "With its segments' names: " + " ".join(error.messages)) from None
    return upload


def _index(request: Request, upload: LargeUpload) -> Segment:
    text = request.GET.get("index", "")
    index = file_size(text)
    segments = upload.segments
    if index is None or index >= len(segments):
        raise Refused(
            400,
            f"There is no segment “{text[:40]}”: the file is cut into {len(segments)} segments, "
            f"numbered from 0.",
        )
    return segments[index]


@require_GET
@answers_refusals
def upload_plan(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """How a file of ``size`` bytes goes up, and the segments of it already stored.

    A file up to the segment size goes whole to ``upload_url``; a larger one is cut
    every ``segment_size`` bytes, and each segment lists the MD5 the store holds for it
    (``etag``, null when none is stored whole), so the page sends only the others.
    """
    upload = _large_upload(request, cloud_name, container, name)
    if upload.single:
        url = reverse("dashboard:upload", args=[upload.cloud.name, container, name])
        return JsonResponse(
            {"single": True, "segment_size": upload.segment_size, "upload_url": url}
        )
    try:
        stored = upload.stored()
        complete = upload.manifest_is_ours(stored)
    except CloudError as error:
        raise refused_by_store(upload.cloud, error, f"{container}/{name}") from None
    segments = []
    for segment in upload.segments:
        info = stored.get(segment.index)
        etag = info.hash if info is not None and info.bytes == segment.length else None
        segments.append({"index": segment.index, "length": segment.length, "etag": etag})
    return JsonResponse(
        {
            "single": False,
            "segment_size": upload.segment_size,
            "segments_container": upload.segments_container,
            "prefix": upload.prefix,
            "segments": segments,
            "complete": complete,
            "segment_url": upload.url("dashboard:upload_segment"),
            "manifest_url": upload.url("dashboard:upload_manifest"),
            "cancel_url": upload.url("dashboard:upload_cancel"),
        }
    )


@require_http_methods(["PUT", "DELETE"])
@answers_refusals
def upload_segment(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """PUT one segment's bytes (``index``), or DELETE the segment stored at ``index``.

    With ``md5`` (the page hashed the segment before sending it) the store keeps the bytes
    only if their MD5 is that one, and the answer says ``"verified": true``. Without it
    (the page hashes while sending) the store keeps what arrived, and ``etag`` is the MD5
    it computed, for the page to compare with its own and DELETE the segment when they
    differ. A store that answers no ETag leaves ``etag`` null: stored, not verified (the
    manifest step still compares the listed MD5s with the page's).
    """
    upload = _large_upload(request, cloud_name, container, name)
    if upload.single:
        raise Refused(400, "A file this small goes up whole, not in segments.")
    segment = _index(request, upload)
    if request.method == "DELETE":
        return _delete_segment(upload, segment)
    md5 = request.GET.get("md5")
    if md5 is not None and not MD5.fullmatch(md5):
        raise Refused(400, "Say the segment's MD5 as 32 lowercase hex digits (md5=…).")
    length = announced_length(request)
    if length != segment.length:
        raise Refused(
            400,
            f"Segment {segment.index} is {segment.length} bytes of the file; this request "
            f"announces {length}.",
        )
    where = f"{upload.segments_container}/{upload.segment_name(segment.index)}"
    try:
        ensure_container(upload.objects, upload.segments_container)
        etag = upload.objects.put_object(
            upload.segments_container,
            upload.segment_name(segment.index),
            BodyReader(request, length),
            content_length=length,
            etag=md5,
        )
    except UploadCutShort as error:
        raise Refused(
            400, f"Segment {segment.index} was interrupted ({error}); it was not stored."
        ) from None
    except CloudError as error:
        if error.status == 422:
            raise Refused(
                400,
                f"Segment {segment.index} arrived different from the file (its MD5 is not "
                "the one the page computed); it was not stored.",
            ) from None
        raise refused_by_store(upload.cloud, error, where) from None
    verified = bool(etag) and etag == md5
    log.info(
        "uploaded segment cloud=%s object=%s bytes=%d verified=%s",
        upload.cloud.name, where, length, verified,
    )  # fmt: skip
    return JsonResponse(
        {"index": segment.index, "bytes": length, "etag": etag or None, "verified": verified},
        status=201,
    )


def _delete_segment(upload: LargeUpload, segment: Segment) -> JsonResponse:
    """Remove the segment stored at this index (one that arrived different from the file).

    Answers ``{"removed": 1}``, or 0 when none was stored there.
    """
    where = f"{upload.segments_container}/{upload.segment_name(segment.index)}"
    try:
        upload.objects.delete_object(upload.segments_container, upload.segment_name(segment.index))
    except NotFound:
        return JsonResponse({"removed": 0})
    except CloudError as error:
        raise refused_by_store(upload.cloud, error, where) from None
    log.info("removed segment cloud=%s object=%s", upload.cloud.name, where)
    return JsonResponse({"removed": 1})


def _reported_md5s(request: Request, count: int) -> tuple[str, list[str]]:
    """The file's MD5 and its segments' MD5s, as the page computed them."""
    length = file_size(request.META.get("CONTENT_LENGTH"))
    if length is None or length > MANIFEST_REQUEST_LIMIT:
        raise Refused(400, "Send the checksums as a JSON body of at most 64 KiB.")
    try:
        sent = json.loads(request.body)
    except ValueError:
        raise Refused(400, "Send the checksums as JSON.") from None
    md5 = sent.get("md5") if isinstance(sent, dict) else None
    md5s = sent.get("segments") if isinstance(sent, dict) else None
    if not (
        isinstance(md5, str)
        and MD5.fullmatch(md5)
        and isinstance(md5s, list)
        and all(isinstance(one, str) and MD5.fullmatch(one) for one in md5s)
    ):
        raise Refused(400, "Send the file's MD5 and a list of its segments' MD5s, in hex.")
    if len(md5s) != count:
        were = "checksum was" if len(md5s) == 1 else "checksums were"
        raise Refused(400, f"The file has {count} segments; {len(md5s)} {were} sent.")
    return md5, md5s


def _which(indexes: list[int]) -> str:
    """``Segment 3``, ``Segments 1, 3``: the first ten, then how many more."""
    shown = ", ".join(str(index) for index in indexes[:10])
    more = f" and {len(indexes) - 10} more" if len(indexes) > 10 else ""
    return f"Segment{'s' if len(indexes) > 1 else ''} {shown}{more}"


@require_POST
@answers_refusals
def upload_manifest(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """Join the stored segments as ``container/name``, once each is there as the page hashed it.

    The body is JSON: ``{"md5": <the file's MD5>, "segments": [<each segment's MD5>, …]}``.
    Answers as ``upload_object`` does, with the number of segments.
    """
    upload = _large_upload(request, cloud_name, container, name)
    if upload.single:
        raise Refused(400, "A file this small goes up whole, not in segments.")
    segments = upload.segments
    md5, md5s = _reported_md5s(request, len(segments))
    try:
        stored = upload.stored()
    except CloudError as error:
        raise refused_by_store(upload.cloud, error, f"{container}/{name}") from None
    missing = [s.index for s in segments if s.index not in stored]
    if missing:
        are, them = ("are", "them") if len(missing) > 1 else ("is", "it")
        raise Refused(
            409,
            f"{_which(missing)} of {len(segments)} {are} not stored: choose the same file and "
            f"press Upload again to send {them}.",
        )
    different = [
        s.index
        for s in segments
        if stored[s.index].bytes != s.length or stored[s.index].hash != md5s[s.index]
    ]
    if different:
        differ, them = ("differ", "them") if len(different) > 1 else ("differs", "it")
        raise Refused(
            409,
            f"{_which(different)} as stored {differ} from the file: choose the same file and "
            f"press Upload again to send {them} anew.",
        )
    refs = [
        SegmentRef(
            f"/{upload.segments_container}/{upload.segment_name(s.index)}", md5s[s.index], s.length
        )
        for s in segments
    ]
    try:
        ensure_container(upload.objects, container)
        etag = upload.objects.put_manifest(container, name, refs).strip('"')
    except CloudError as error:
        raise refused_by_store(upload.cloud, error, f"{container}/{name}") from None
    if etag and etag != joined_etag(md5s):
        upload.objects.delete_object(container, name)
        raise Refused(502, "The stored object's checksum differs from the file; it was removed.")
    log.info(
        "uploaded cloud=%s object=%s/%s bytes=%d segments=%d verified=%s",
        upload.cloud.name, container, name, upload.size, len(segments), bool(etag),
    )  # fmt: skip
    return stored_answer(
        upload.cloud, container, name, upload.size, md5, verified=bool(etag), segments=len(segments)
    )


@require_POST
@answers_refusals
def upload_cancel(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """Remove every segment of this file, and ``container/name`` if it is their manifest.

    Answers ``{"removed": <segments removed>}``.
    """
    upload = _large_upload(request, cloud_name, container, name)
    if upload.single:
        return JsonResponse({"removed": 0})
    try:
        stored = upload.stored()
        if upload.manifest_is_ours(stored):
            upload.objects.delete_object(container, name)
        for index in sorted(stored):
            # Gone with its manifest already, or removed by a cancel in another tab.
            with contextlib.suppress(NotFound):
                upload.objects.delete_object(upload.segments_container, upload.segment_name(index))
    except CloudError as error:
        raise refused_by_store(upload.cloud, error, f"{container}/{name}") from None
    log.info(
        "cancelled upload cloud=%s object=%s/%s segments removed=%d",
        upload.cloud.name, container, name, len(stored),
    )  # fmt: skip
    return JsonResponse({"removed": len(stored)})
