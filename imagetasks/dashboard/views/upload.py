"""Uploading a disk image from the person's computer into the cloud's object storage.

The browser sends the file as the raw body of a PUT (with a progress bar, see
static/js/imagetasks.js); this view streams it on to the object store in chunks,
so neither memory nor the web server's disk ever holds the whole image. The MD5
of what arrived is compared with the ETag the store computed, and an upload cut
short is never stored: the PUT to the store claims the announced length, so a
body that ends early makes it fail rather than keep a truncated image.
"""

from __future__ import annotations

import hashlib
import logging
from urllib.parse import urlencode

from django import forms as django_forms
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from imagetasks.dashboard import access, forms
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.views.common import Request
from imagetasks.openstack import CloudError, NotFound

log = logging.getLogger("imagetasks.upload")

CHUNK_SIZE = 1024 * 1024


class UploadCutShort(Exception):
    """The browser sent fewer bytes than it announced (a closed tab, a lost network)."""


class _HashingReader:
    """The request body as a file of exactly ``length`` bytes, hashed as it is read."""

    def __init__(self, request, length: int):
        self._request = request
        self._left = length
        self.md5 = hashlib.md5(usedforsecurity=False)

    def read(self, size: int = CHUNK_SIZE) -> bytes:
        if self._left <= 0:
            return b""
        chunk = self._request.read(min(size, self._left, CHUNK_SIZE))
        if not chunk:
            raise UploadCutShort(f"the upload ended {self._left} bytes early")
        self._left -= len(chunk)
        self.md5.update(chunk)
        return chunk


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


# No file is larger (Swift's own limits are far below); a longer number is no size at all.
MAX_LENGTH = 2**63 - 1


def _content_length(request: Request) -> int | None:
    """The announced size, or None when there is none a file could have."""
    announced = (request.META.get("CONTENT_LENGTH") or "").strip()
    if not (announced.isascii() and announced.isdigit()) or len(announced) > 19:
        return None
    length = int(announced)
    return length if length <= MAX_LENGTH else None


@require_http_methods(["PUT"])
def upload_object(request: Request, cloud_name: str, container: str, name: str) -> JsonResponse:
    """PUT a file's bytes: stored as ``container/name`` (the container is created if needed).

    Answers JSON: the stored object and the import form's URL with it filled in,
    or ``{"error": …}`` with a 4xx/5xx status that says what went wrong.
    """
    access.require_operator(request)
    cloud = access.get_cloud_for_user(request, cloud_name)
    if not cloud.enabled:
        return _error(409, access.switched_off(cloud))
    try:
        forms.validate_container_name(container)
        forms.validate_object_name(name)
    except django_forms.ValidationError as error:
        return _error(400, " ".join(error.messages))
    length = _content_length(request)
    if length is None:
        announced = request.META.get("CONTENT_LENGTH")
        if announced:
            return _error(400, "The announced size is not one a file can have.")
        return _error(411, "Send the file with a Content-Length header.")
    if length == 0:
        return _error(400, "The file is empty: there is nothing to import.")
    objects = client_for(cloud).objects
    body = _HashingReader(request, length)
    try:
        try:
            objects.head_container(container)
        except NotFound:
            objects.create_container(container)
        etag = objects.put_object(container, name, body, content_length=length)
    except UploadCutShort as error:
        return _error(400, f"The upload was interrupted ({error}); nothing was stored.")
    except CloudError as error:
        log.warning("upload failed cloud=%s object=%s/%s: %s", cloud.name, container, name, error)
        # The store refusing this file or name (a 4xx but for credentials) is the
        # person's to fix; a store that fails or cannot be reached is ours to report.
        status = 400 if error.status in range(400, 500) and error.status not in (401, 403) else 502
        return _error(status, f"The cloud {cloud.name} refused the upload: {error.message}")
    if etag and etag != body.md5.hexdigest():
        objects.delete_object(container, name)
        return _error(502, "The stored object's checksum differs from the file; it was removed.")
    # Without an ETag the store said nothing about what it kept: stored, not verified.
    verified = bool(etag)
    log.info(
        "uploaded cloud=%s object=%s/%s bytes=%d verified=%s",
        cloud.name, container, name, length, verified,
    )  # fmt: skip
    query = {"cloud": cloud.name, "container": container, "object": name}
    return JsonResponse(
        {
            "container": container,
            "object": name,
            "bytes": length,
            "md5": body.md5.hexdigest(),
            "verified": verified,
            "import_url": f"{reverse('dashboard:import')}?{urlencode(query)}",
        },
        status=201,
    )
