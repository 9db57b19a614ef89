"""HTTP views of the built-in Identity: version documents, v3 and v2.0 tokens.

Identity is never subject to fault injection (it lives outside the paths
``faults`` acts on), so a client can always authenticate again.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from imagetasks.localcloud.api import api_view
from imagetasks.localcloud.identity import keystone, rackspace, throttle, tokens, versions
from imagetasks.localcloud.identity.errors import (
    KEYSTONE_UNAUTHORIZED,
    RACKSPACE_BAD_BODY,
    AuthFailure,
    keystone_error,
    rackspace_error,
)
from imagetasks.localcloud.models import Token


def _answers(render: Callable[[AuthFailure], HttpResponse]):
    """An identity API view whose AuthFailures are rendered by ``render``."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
            try:
                return view(request, *args, **kwargs)
            except AuthFailure as failure:
                return render(failure)

        return api_view(wrapper)

    return decorator


def _json(request: HttpRequest, bad_body_message: str) -> object:
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise AuthFailure(400, bad_body_message) from None


@api_view
@require_GET
def version_list(request: HttpRequest) -> JsonResponse:
    """Both versions; 300 Multiple Choices like Keystone's root, which clients accept."""
    values = [versions.describe(request, version) for version in versions.VERSIONS]
    return JsonResponse({"versions": {"values": values}}, status=300)


@api_view
@require_GET
def version_v3(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": versions.describe(request, versions.V3)})


@api_view
@require_GET
def version_v2(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": versions.describe(request, versions.V2)})


@_answers(keystone_error)
@require_http_methods(["POST", "GET", "HEAD", "DELETE"])
def v3_tokens(request: HttpRequest) -> HttpResponse:
    """``/v3/auth/tokens``: POST issues, GET/HEAD validate ``X-Subject-Token``, DELETE revokes."""
    if request.method == "POST":
        return _issue_v3(request)
    subject = _validated_subject(request)
    if request.method == "DELETE":
        subject.delete()
        return HttpResponse(status=204)
    # The token row does not record how it was obtained; validation reports "password".
    body = keystone.token_body(
        request, subject, "password", with_catalog="nocatalog" not in request.GET
    )
    response = JsonResponse(body) if request.method == "GET" else HttpResponse()
    response["X-Subject-Token"] = request.headers["X-Subject-Token"]
    return response


def _throttled(authenticate: Callable[[object], object], request: HttpRequest, body: object):
    """``authenticate(body)``, counting failures per client and account (throttle.py)."""
    throttle.check(request, body)
    try:
        authentication = authenticate(body)
    except AuthFailure as failure:
        if failure.status == 401:
            throttle.failed(request, body)
        raise
    throttle.succeeded(request, body)
    return authentication


def _issue_v3(request: HttpRequest) -> JsonResponse:
    body = _json(request, "Malformed JSON in request body.")
    authentication = _throttled(keystone.authenticate, request, body)
    value, token = tokens.issue(authentication.user)
    response = JsonResponse(keystone.token_body(request, token, authentication.method), status=201)
    response["X-Subject-Token"] = value
    return response


def _validated_subject(request: HttpRequest) -> Token:
    """The token named by ``X-Subject-Token``, if the caller's own token may see it.

    A user may validate or revoke only its own tokens; anything else is "not
    found", as Keystone answers for a token it does not know.
    """
    caller = tokens.find_live(request.headers.get("X-Auth-Token", ""))
    if caller is None:
        raise AuthFailure(401, KEYSTONE_UNAUTHORIZED)
    subject = tokens.find_live(request.headers.get("X-Subject-Token", ""))
    if subject is None or subject.user_id != caller.user_id:
        raise AuthFailure(404, "Could not find token.")
    return subject


@_answers(rackspace_error)
@require_POST
def v2_tokens(request: HttpRequest) -> JsonResponse:
    body = _json(request, RACKSPACE_BAD_BODY)
    authentication = _throttled(rackspace.authenticate, request, body)
    value, token = tokens.issue(authentication.user)
    return JsonResponse(
        rackspace.access_body(request, value, token, authentication.authenticated_by)
    )
