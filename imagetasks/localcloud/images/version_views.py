"""The version document at the service root, which clients read to find ``/v2``.

Glance answers its root with 300 Multiple Choices and a list of versions
whose links are absolute; keystoneauth (openstacksdk) follows the link of the
highest version. The list is also served at ``/v2/`` for clients given the
v2.0 catalog's versioned URL, which try discovery there first.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse

from imagetasks.localcloud.api import NOT_FOUND, ApiError, api_view
from imagetasks.localcloud.images.errors import glance_api
from imagetasks.localcloud.images.links import service_root
from imagetasks.localcloud.images.methods import by_method

# Every minor version up to 2.12, the image's tasks (2.2 brought tasks, 2.6 the
# interoperable import, 2.8 stores); all share one URL. Later ones add caching and
# location APIs this cloud does not serve, so they are not claimed.
LATEST = 12
VERSIONS = tuple(
    (f"v2.{minor}", "CURRENT" if minor == LATEST else "SUPPORTED")
    for minor in range(LATEST, -1, -1)
)


@glance_api
def root(request: HttpRequest) -> HttpResponse:
    return by_method(request, {"GET": lambda request: _versions(request, status=300)})


@glance_api
def listing(request: HttpRequest) -> HttpResponse:
    """``GET /versions``: the same list with 200, as Glance answers it (glanceclient's
    shell reads it there and treats a 300 as an error)."""
    return by_method(request, {"GET": lambda request: _versions(request, status=200)})


@glance_api
def v2(request: HttpRequest) -> HttpResponse:
    return by_method(request, {"GET": lambda request: _versions(request, status=200)})


@api_view
def not_found(request: HttpRequest) -> HttpResponse:
    """What an extra region's endpoint answers where the main one has the tasks API."""
    raise ApiError(404, NOT_FOUND)


def _versions(request: HttpRequest, *, status: int) -> HttpResponse:
    href = f"{service_root(request)}/v2/"
    body = {
        "versions": [
            {"id": version, "status": state, "links": [{"rel": "self", "href": href}]}
            for version, state in VERSIONS
        ]
    }
    return JsonResponse(body, status=status)
