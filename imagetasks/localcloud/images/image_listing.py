"""Which images a project sees, and GET /v2/images (reference §6.1, a subset of Glance's).

A project sees its own images and public or community ones; the default list
shows its own and public ones, as Glance's does. Filters: ``name``,
``status``, ``owner``, ``visibility``; sort by ``sort_key``/``sort_dir``.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import QueryDict

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.images import paging
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


def visible_images(project: Project) -> QuerySet[Image]:
    return Image.objects.filter(Q(project=project) | Q(visibility__in=("public", "community")))


def list_images(project: Project, params: QueryDict) -> dict:
    descending = paging.parse_sort_dir(params)
    queryset = _filtered(project, params)
    marker = paging.parse_marker(params)
    limit = paging.parse_limit(params)
    sort_key = params.get("sort_key", "created_at")
    if sort_key not in SORT_KEYS:
        raise ApiError(
            400,
            f"Invalid sort key: {sort_key}. It must be one of the following: "
            + ", ".join(SORT_KEYS)
            + ".",
        )
    column = "project" if sort_key == "owner" else sort_key
    try:
        images = paging.keyset_page(
            queryset,
            keys=paging.sort_keys(column),
            descending=descending,
            marker=marker,
            limit=limit,
        )
    except paging.MarkerNotFound:
        raise ApiError(400, f"No image found with ID {marker}") from None
    full_page = len(images) == limit and limit > 0
    body = {"images": [image_detail(image) for image in images], "schema": "/v2/schemas/images"}
    body.update(paging.links("/v2/images", params, str(images[-1].id) if full_page else None))
    return body


def _filtered(project: Project, params: QueryDict) -> QuerySet[Image]:
    visibility = params.get("visibility")
    if visibility is not None and visibility not in VISIBILITIES:
        raise ApiError(400, f"Invalid visibility value: {visibility}")
    queryset = visible_images(project)
    if visibility in (None, ""):
        queryset = queryset.filter(Q(project=project) | Q(visibility="public"))
    elif visibility != "all":
        queryset = queryset.filter(visibility=visibility)
    status = params.get("status")
    if status:
        if status not in IMAGE_STATUSES:
            raise ApiError(400, f"Invalid status value: {status}")
        queryset = queryset.filter(status=status)
    for name, column in (("name", "name"), ("owner", "project_id")):
        if name in params:
            value = params[name]
            # PostgreSQL refuses NUL in text: such a value matches nothing, without an error.
            queryset = (
                queryset.filter(**{column: value}) if "\x00" not in value else queryset.none()
            )
    return queryset
