"""Which images a project sees, and GET /v2/images (reference §6.1, a subset of Glance's).

A project sees its own images and public or community ones; the default list
shows its own and public ones, as Glance's does. Each region's endpoint has images of
its own (``Image.region``), as separate Glance services would. Filters: ``name``,
``status``, ``owner``, ``visibility``, ``id`` (``in:``), ``created_at`` and ``updated_at``
(``gte:<time>`` and Glance's other comparisons); sort by ``sort_key``/``sort_dir``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.images import filters, paging
from imagetasks.localcloud.images.schemas import IMAGE_STATUSES
from imagetasks.localcloud.images.serialize import image_detail
from imagetasks.localcloud.models import Image, Project

SORT_KEYS = (
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "virtual_size",
    "id",
    "created_at",
    "updated_at",
    "visibility",
    "owner",
    "protected",
    "min_disk",
    "min_ram",
)
VISIBILITIES = ("public", "private", "shared", "community", "all")
_COLUMN_FILTERS = {"name": "name", "owner": "project_id"}


def visible_images(project: Project, region: str) -> QuerySet[Image]:
    """The images ``project`` sees at the Images endpoint of ``region`` ("": the main one)."""
    return Image.objects.filter(
        Q(project=project) | Q(visibility__in=("public", "community")), region=region
    )


LISTING = paging.Listing(
    collection="images",
    sort_keys=SORT_KEYS,
    invalid_sort_key="Invalid sort key: {sort_key}. It must be one of the following: "
    + ", ".join(SORT_KEYS)
    + ".",
    marker_not_found="No image found with ID {marker}",
    entry=image_detail,
)


def list_images(project: Project, region: str, params: QueryDict) -> dict:
    """The body of GET /v2/images for ``project`` at the endpoint of ``region``."""
    return paging.list_body(LISTING, params, lambda: _filtered(project, region, params))


def _filtered(project: Project, region: str, params: QueryDict) -> QuerySet[Image]:
    visibility = params.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise ApiError(400, f"Invalid visibility value: {visibility}")
    queryset = visible_images(project, region)
    if visibility in (None, ""):
        queryset = queryset.filter(Q(project=project) | Q(visibility="public"))
    elif visibility != "all":
        queryset = queryset.filter(visibility=visibility)
    queryset = filters.by_choice(queryset, params, "status", IMAGE_STATUSES)
    queryset = filters.by_ids(queryset, params)
    queryset = filters.by_times(queryset, params, ("created_at", "updated_at"))
    return filters.by_columns(queryset, params, _COLUMN_FILTERS)
