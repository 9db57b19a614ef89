"""The JSON API: version 1 under /api/v1/, its OpenAPI document and its docs page.

Every operation takes a bearer token or the browser's session (``auth.py``), is
throttled per person, and answers errors as JSON (``errors.py``). The docs page is
Swagger UI from django-ninja's own static files, served from this site, so it passes
the site's Content-Security-Policy; the document and the page need no login (they
describe the API, nothing in it).
"""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.urls import URLPattern, URLResolver, path, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI, Swagger

from imagetasks.dashboard.api import (
    auth,
    browse,
    clouds,
    copies,
    dismissals,
    errors,
    submissions,
    tasks,
    uploads,
)

api = NinjaAPI(
    title="imagetasks API",
    version="1",
    description=(
        "The image tasks of your clouds, as the dashboard shows them. Authenticate with "
        "`Authorization: Bearer <token>` (make a token on your profile page), or with "
        "the dashboard's session and its CSRF token."
    ),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    # Swagger UI's validator badge would load an image from another site.
    docs=Swagger(settings={"validatorUrl": None, "persistAuthorization": False}),
    auth=auth.AUTH,
    throttle=auth.THROTTLE,
)
errors.install(api)
api.add_router("/v1/clouds", clouds.router)
api.add_router("/v1/clouds", browse.router)
api.add_router("/v1/tasks", tasks.router)
api.add_router("/v1/tasks", submissions.router)
api.add_router("/v1/tasks", uploads.router)
api.add_router("/v1/tasks", dismissals.router)
api.add_router("/v1/copies", copies.router)


def _json_405(view):
    """ninja answers a method an address does not take in plain text: JSON here too."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            answer = JsonResponse({"detail": "Method not allowed."}, status=405)
            answer["Allow"] = response.get("Allow", "")
            return answer
        return response

    return wrapper


def _public(patterns: list) -> list:
    """The API's URLs, let past the site's login requirement: each operation
    authenticates on its own (and answers 401 in JSON, never a redirect to a form)."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _public(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(_json_405(pattern.callback))
    return patterns


# Changes nothing, so no CSRF token is asked for: a POST anywhere gets the same JSON 404.
_unknown = csrf_exempt(login_not_required(errors.unknown_path))


def urlpatterns() -> list:
    patterns, app_name, namespace = api.urls
    patterns = _public(list(patterns))
    for pattern in patterns:
        # ninja's root answers with Django's HTML 404 page (its name places the document).
        if getattr(pattern, "name", "") == "api-root":
            pattern.callback = _unknown
    return [
        path("", (patterns, app_name, namespace)),
        re_path(r"", _unknown),
    ]
