"""Every error of the API is JSON, ``{"detail": …}``, never a page of HTML.

``detail`` is a sentence for a person, or for 422 the list of what did not validate.
Bad input is a 4xx: a body that is not JSON is a 400, a value of the wrong type a 422.
A cloud that fails or answers nonsense is a 502 with its words.
A bug is a 500 that says nothing of it; the error is logged for the administrator.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import BaseModel

if TYPE_CHECKING:
    from ninja import NinjaAPI

log = logging.getLogger("imagetasks.api")

NOT_FOUND = "Not found."
NOT_AUTHENTICATED = (
    "Send an API token as 'Authorization: Bearer <token>' (make one on your profile page), "
    "or log in to the dashboard."
)
INTERNAL = "The server failed to answer this request; the error is logged for the administrator."


class Error(BaseModel):
    """An error: what went wrong, in a sentence."""

    detail: str


class Invalid(BaseModel):
    """A request whose parameters or body did not validate: each problem and where."""

    detail: list[dict[str, Any]]


# What every operation may answer besides its success.
ERRORS: dict[int, type[BaseModel]] = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    422: Invalid,
    429: Error,
}
# What an operation that asks a cloud may answer besides: the cloud failed to answer, or
# answered what cannot be read (never the cloud's own 401 or 403, which are not the
# caller's: those would read as the API refusing them).
ASKS_CLOUD: dict[int, type[BaseModel]] = {**ERRORS, 502: Error}


def install(api: NinjaAPI) -> None:
    """Give ``api`` these handlers in place of ninja's (which leave some errors to Django)."""

    def answer(request: HttpRequest, detail: object, status: int) -> HttpResponse:
        return api.create_response(request, {"detail": detail}, status=status)

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        message = exc.message
        if isinstance(exc, AuthenticationError) and message == "Unauthorized":
            message = NOT_AUTHENTICATED  # ninja's word when no way of logging in was sent
        response = answer(request, message, exc.status_code)
        if isinstance(exc, AuthenticationError):
            response["WWW-Authenticate"] = 'Bearer realm="imagetasks"'
        return response

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return answer(request, [_readable(error) for error in exc.errors], 422)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return answer(request, NOT_FOUND, 404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return answer(request, str(exc) or "Forbidden.", 403)

    @api.exception_handler(Exception)
    def failed(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.error("API request failed: %s %s", request.method, request.path, exc_info=exc)
        return answer(request, INTERNAL, 500)


def _readable(error: dict[str, Any]) -> dict[str, Any]:
    """A validation error as JSON can carry it: pydantic's ``ctx`` may hold an exception,
    and ``input`` echoes what was sent (which may be long or a secret) — both left out."""
    return {key: value for key, value in error.items() if key in ("type", "loc", "msg")}


def unknown_path(request: HttpRequest) -> JsonResponse:
    """Any other address under /api/, whatever the method: a JSON 404 rather than the
    site's HTML page."""
    return JsonResponse({"detail": NOT_FOUND}, status=404)
