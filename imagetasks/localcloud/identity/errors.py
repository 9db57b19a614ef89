"""Failed authentication, answered in the shape each identity API uses.

Keystone v3 clients read ``{"error": {"code", "title", "message"}}``; Rackspace
v2.0 clients read a fault named after the status (``{"unauthorized": {...}}``).
The same failure therefore renders differently depending on the endpoint.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import JsonResponse

KEYSTONE_UNAUTHORIZED = "The request you have made requires authentication."
RACKSPACE_UNAUTHORIZED = "Unable to authenticate user with credentials provided."
RACKSPACE_BAD_BODY = (
    "Invalid request body: unable to parse Auth data. Please review XML or JSON formatting"
)

_RACKSPACE_FAULTS = {
    400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
    429: "overLimit",
}  # fmt: skip


class AuthFailure(Exception):
    """Raised while authenticating; the view renders it in its API's error shape."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def keystone_error(failure: AuthFailure) -> JsonResponse:
    body = {
        "error": {
            "code": failure.status,
            "title": HTTPStatus(failure.status).phrase,
            "message": failure.message,
        }
    }
    response = JsonResponse(body, status=failure.status)
    if failure.status == 401:
        response["WWW-Authenticate"] = 'Keystone uri="/localcloud/identity"'
    for name, value in failure.headers.items():
        response[name] = value
    return response


def rackspace_error(failure: AuthFailure) -> JsonResponse:
    fault = _RACKSPACE_FAULTS.get(failure.status, "identityFault")
    body = {fault: {"code": failure.status, "message": failure.message}}
    response = JsonResponse(body, status=failure.status)
    for name, value in failure.headers.items():
        response[name] = value
    return response
