"""Error bodies of the image service, negotiated on ``Accept`` as Glance's are (reference §1.7).

Glance's errors come from webob, which offers ``text/html`` then
``application/json``: a client asking for JSON gets the flat JSON shape of
``api.error_response``; ``*/*`` or no ``Accept`` gets an HTML page; anything
else plain text. The real clients depend on it: python-glanceclient and
openstacksdk send no JSON ``Accept`` on most calls, read a JSON error as
nested objects (glanceclient crashes on the flat shape, openstacksdk drops
the message) and take the message out of an HTML page line by line.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.html import escape

from imagetasks.localcloud.api import ApiError, api_view

OFFERS = ("text/html", "application/json")
# webob's page, so clients that strip the tags line by line read "<status>: <message>".
_HTML = """<html>
 <head>
  <title>{status}</title>
 </head>
 <body>
  <h1>{status}</h1>
  {message}<br /><br />



 </body>
</html>"""


def glance_api(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """``api.api_view`` with Glance's negotiation of error bodies; wrap ``authenticated`` in it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except ApiError as error:
            offer = best_offer(request.headers.get("Accept", ""))
            if offer == "application/json":
                raise  # api_view answers with the JSON shape
            return _render(error, html=offer == "text/html")

    return api_view(wrapper)


def best_offer(accept: str) -> str | None:
    """The offer the ``Accept`` header ranks highest (ties go to the earlier offer), or None."""
    if not accept.strip():
        return OFFERS[0]
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    best, best_quality = None, 0.0
    for offer in OFFERS:
        quality = _quality(offer, ranges)
        if quality > best_quality:
            best, best_quality = offer, quality
    return best


def _media_range(part: str) -> tuple[str, float]:
    media, *params = part.split(";")
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                quality = 0.0
    return media.strip().lower(), quality


def _quality(offer: str, ranges: list[tuple[str, float]]) -> float:
    """The quality of the most specific range matching ``offer`` (RFC 9110 §12.5.1)."""
    specificity = {offer: 3, offer.split("/")[0] + "/*": 2, "*/*": 1}
    matches = [(specificity[media], quality) for media, quality in ranges if media in specificity]
    return max(matches)[1] if matches else 0.0


def _render(error: ApiError, *, html: bool) -> HttpResponse:
    status = f"{error.status} {HTTPStatus(error.status).phrase}"
    if html:
        body = _HTML.format(status=status, message=escape(error.message))
        response = HttpResponse(body, status=error.status, content_type="text/html; charset=UTF-8")
    else:
        body = f"{status}\n\n{error.message}\n"
        response = HttpResponse(body, status=error.status, content_type="text/plain; charset=UTF-8")
    for name, value in error.headers.items():
        response[name] = value
    return response
