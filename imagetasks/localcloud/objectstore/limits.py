"""Swift's limits as this store applies them, and ``GET /info``, which reports them.

Clients read ``/info`` (no token needed, as in Swift) to learn the largest
object they may upload in one request and how to split a larger one into a
static large object; the numbers come from the LOCALCLOUD_* settings.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from imagetasks.localcloud.api import api_view
from imagetasks.localcloud.objectstore import headers, listing, names

# The Swift release whose behaviour this subset follows.
SWIFT_VERSION = "2.35.0"


def max_object_size() -> int:
    return settings.LOCALCLOUD_MAX_OBJECT_SIZE


def max_manifest_segments() -> int:
    return settings.LOCALCLOUD_SLO_MAX_MANIFEST_SEGMENTS


def max_manifest_size() -> int:
    return settings.LOCALCLOUD_SLO_MAX_MANIFEST_SIZE


def min_segment_size() -> int:
    return settings.LOCALCLOUD_SLO_MIN_SEGMENT_SIZE


@api_view
@require_GET
def info(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "swift": {
                "version": SWIFT_VERSION,
                "max_file_size": max_object_size(),
                "max_object_name_length": names.MAX_OBJECT_NAME_LENGTH,
                "max_container_name_length": names.MAX_CONTAINER_NAME_LENGTH,
                "container_listing_limit": listing.LISTING_LIMIT,
                "account_listing_limit": listing.LISTING_LIMIT,
                "max_meta_count": headers.MAX_META_COUNT,
                "max_meta_name_length": headers.MAX_META_NAME_LENGTH,
                "max_meta_value_length": headers.MAX_META_VALUE_LENGTH,
                "max_meta_overall_size": headers.MAX_META_OVERALL_SIZE,
            },
            "slo": {
                "max_manifest_segments": max_manifest_segments(),
                "max_manifest_size": max_manifest_size(),
                "min_segment_size": min_segment_size(),
            },
            "dlo": {},
        }
    )
