"""Uploading a disk image from the person's computer into the cloud's object storage.

A file up to the cloud's segment size comes as the raw body of one PUT (with a progress
bar, see static/js/imagetasks.js; a larger one comes in segments, see
``upload_segments``); this view streams it on to the object store in chunks,
so neither memory nor the web server's disk ever holds the whole image. The MD5
of what arrived is compared with the ETag the store computed, and an upload cut
short is never stored: the PUT to the store claims the announced length, so a
body that ends early makes it fail rather than keep a truncated image.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django import forms as django_forms
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard import access, forms
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudError, NotFound
from imagetasks.openstack.objects import ObjectStore, ShortBody

log = logging.getLogger("imagetasks.upload")

CHUNK_SIZE = 1024 * 1024
EMPTY = "The file is empty: there is nothing to import."


class UploadCutShort(ShortBody):
    """The browser sent fewer bytes than it announced (a closed tab, a lost network).

    The client's ``ShortBody``, so whatever streams the body on (a submission staging
    it) knows the data ended early without knowing this view."""


class BodyReader:
    """The request body as a file of exactly ``length`` bytes."""

    def __init__(self, request, length: int):
        self._request = request
        self._left = length

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        if self._left <= 0:
            return b""
        chunk = self._request.read(min(size, self._left, CHUNK_SIZE))
        if not chunk:
            raise UploadCutShort(f"the upload ended {self._left} bytes early")
        self._left -= len(chunk)
        return chunk


class HashingReader(BodyReader):
    """The request body as a file of exactly ``length`` bytes, hashed as it is read."""

    def __init__(self, request, length: int):
        super().__init__(request, length)
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        chunk = super().read(size)
        self.md5.update(chunk)
        return chunk


class Refused(Exception):
    """A request an upload view turns away with ``status`` and a message for the page."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def answers_refusals(view: Callable[..., JsonResponse]) -> Callable[..., JsonResponse]:
    """The view, with each ``Refused`` it raises answered as ``{"error": …}`` JSON."""

    @wraps(view)
    def answer(request: Request, *args: str, **kwargs: str) -> JsonResponse:
        try:
            return view(request, *args, **kwargs)
        except Refused as refusal:
            return JsonResponse({"error": refusal.message}, status=refusal.status)

    return answer


def operator_cloud(request: Request, cloud_name: str) -> Cloud:
    """The cloud to upload to, for an operator granted it, and switched on.

    403 and 404 as every page answers them; a switched-off cloud is a ``Refused``.
    """
    access.require_operator(request)
    cloud = access.get_cloud_for_user(request, cloud_name)
    if not cloud.enabled:
        raise Refused(409, access.switched_off(cloud))
    return cloud


def upload_cloud(request: Request, cloud_name: str, container: str, name: str) -> Cloud:
    """``operator_cloud``, for an upload to ``container/name``; a name the store would
    refuse is a ``Refused`` too."""
    cloud = operator_cloud(request, cloud_name)
    try:
        forms.validate_container_name(container)
        forms.validate_object_name(name)
    except django_forms.ValidationError as error:
        raise Refused(400, " ".join(error.messages)) from None
    return cloud


# No file is larger (Swift's own limits are far below); a longer number is no size at all.
MAX_LENGTH = 2**63 - 1


def file_size(text: str | None) -> int | None:
    """A size a file can have, from a header or query; None for anything else."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    size = int(text)
    return size if size <= MAX_LENGTH else None


def announced_length(request: Request) -> int:
    """The request body's announced size (``Refused`` when there is none a file could have)."""
    length = file_size(request.META.get("CONTENT_LENGTH"))
    if length is None:
        if request.META.get("CONTENT_LENGTH"):
            raise Refused(400, "The announced size is not one a file can have.")
        raise Refused(411, "Send the file with a Content-Length header.")
    return length


def refused_by_store(cloud: Cloud, error: CloudError, what: str) -> Refused:
    """The store's refusal of ``what`` as the page says it.

    The store refusing this file or name (a 4xx but for credentials) is the person's to
    fix; a store that fails or cannot be reached is ours to report.
    """
    log.warning("upload failed cloud=%s object=%s: %s", cloud.name, what, error)
    status = 400 if error.status in range(400, 500) and error.status not in (401, 403) else 502
    return Refused(status, f"The cloud {cloud.name} refused the upload: {error.message}")


def ensure_container(objects: ObjectStore, container: str) -> None:
    try:
        objects.head_container(container)
    except NotFound:
        objects.create_container(container)


def stored_answer(
    cloud: Cloud, container: str, name: str, length: int, md5: str, *, verified: bool, **more: int
) -> JsonResponse:
    """What the page gets for a stored file: the object, and the import form filled in with it."""
    query = {"cloud": cloud.name, "container": container, "object": name}
    return JsonResponse(
        {
            "container": container,
            "object": name,
            "bytes": length,
            "md5": md5,
            "verified": verified,
            "import_url": f"{reverse('dashboard:import')}?{urlencode(query)}",
            **more,
        },
        status=201,
    )


@require_http_methods(["PUT"])
@answers_refusals
def upload_object(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """PUT a file's bytes: stored as ``container/name`` (the container is created if needed).

    Answers JSON: the stored object and the import form's URL with it filled in,
    or ``{"error": …}`` with a 4xx/5xx status that says what went wrong.
    """
    cloud = upload_cloud(request, cloud_name, container, name)
    length = announced_length(request)
    if length == 0:
        raise Refused(400, EMPTY)
    objects = client_for(cloud).objects
    body = HashingReader(request, length)
    try:
        ensure_container(objects, container)
        etag = objects.put_object(container, name, body, content_length=length)
    except UploadCutShort as error:
        raise Refused(400, f"The upload was interrupted ({error}); nothing was stored.") from None
    except CloudError as error:
        raise refused_by_store(cloud, error, f"{container}/{name}") from None
    if etag and etag != body.md5.hexdigest():
        objects.delete_object(container, name)
        raise Refused(502, "The stored object's checksum differs from the file; it was removed.")
    # Without an ETag the store said nothing about what it kept: stored, not verified.
    verified = bool(etag)
    log.info(
        "uploaded cloud=%s object=%s/%s bytes=%d verified=%s",
        cloud.name, container, name, length, verified,
    )  # fmt: skip
    return stored_answer(cloud, container, name, length, body.md5.hexdigest(), verified=verified)
