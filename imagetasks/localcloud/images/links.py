"""Absolute URLs of the image service, for the few places that need them (Location, versions)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from imagetasks.localcloud.catalog import base_url


def service_root(request: HttpRequest) -> str:
    """The unversioned root the v3 catalog names, e.g. ``http://host/localcloud/image``."""
    return base_url(request) + reverse("localcloud:image-versions").rstrip("/")
