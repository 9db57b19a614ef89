"""Absolute URLs of the image service, for the few places that need them (Location, versions)."""

from __future__ import annotations

from django.http import HttpRequest

from imagetasks.localcloud.catalog import image_url


def service_root(request: HttpRequest) -> str:
    """The unversioned root the v3 catalog names for the request's region, e.g.
    ``http://host/localcloud/image`` or ``http://host/localcloud/regions/LOCAL2/image``."""
    return image_url(request, getattr(request, "region", ""))
