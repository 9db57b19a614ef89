"""What every API view of the built-in cloud shares: JSON answers, Glance-shaped
errors, token authentication, and exemption from the dashboard's login and CSRF.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus
from typing import cast

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from imagetasks.bearer import hash_token
from imagetasks.localcloud import blobstore
from imagetasks.localcloud.models import Project, Token

# webob's answer to a URL no route serves, as Glance gives it.
NOT_FOUND = "The resource could not be found."


class CloudRequest(HttpRequest):
    """A request that passed ``authenticated``: the token it carried and its project, and
    the region whose endpoint it came to ("" for the main region, set by ``api_view``)."""

    token: Token
    project: Project
    region: str


class ApiError(Exception):
    """Raised anywhere inside an API view to answer with an error status and message."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None):
    """Glance's JSON error shape: {"message", "code": "404 Not Found", "title"}."""
    phrase = HTTPStatus(status).phrase
    response = JsonResponse(
        {"message": message, "code": f"{status} {phrase}", "title": phrase}, status=status
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def api_view(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Mark a view as a cloud API: no dashboard login, no CSRF, ApiError → error answer.

    A view mounted under an extra region's URL gets the region from the ``region`` URL
    argument as ``request.region``; every other view sees "" (the main region).
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        cast(CloudRequest, request).region = kwargs.pop("region", "")
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            return error_response(error.status, error.message, error.headers)
        except blobstore.StoreFull:
            return error_response(507, "Insufficient Storage: the store has no room left.", {})

    return csrf_exempt(login_not_required(wrapper))


def authenticated(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Require a valid ``X-Auth-Token``; sets ``request.project`` and ``request.token``.

    Missing, unknown and expired tokens all get the same 401, so a caller
    learns nothing about which tokens exist. A request to an extra region that is not
    in the token's catalog is a 404, as a URL its catalog never named.
    """

    @functools.wraps(view)
    def wrapper(request: CloudRequest, *args, **kwargs) -> HttpResponseBase:
        value = request.headers.get("X-Auth-Token", "")
        token = None
        if value:
            token = (
                Token.objects.select_related("project")
                .filter(
                    key_hash=hash_token(value),
                    expires_at__gt=timezone.now(),
                    user__enabled=True,
                )
                .first()
            )
        if token is None:
            raise ApiError(
                401,
                "The request you have made requires authentication.",
                {"WWW-Authenticate": 'Keystone uri="/localcloud/identity"'},
            )
        request.token = token
        request.project = token.project
        if request.region and request.region not in token.project.regions()[1:]:
            raise ApiError(404, NOT_FOUND)
        return view(request, *args, **kwargs)

    return wrapper
