"""Who is calling the API: a bearer token, or the browser's session with its CSRF token.

A request that carries ``Authorization: Bearer …`` is judged on that token alone: an
unknown or revoked one is a 401 even when a session cookie comes along, so a script
never acts on a login it did not know it had. Without that header, the session of a
person logged in to the dashboard is accepted, and a request that changes something
must carry the CSRF token, as the dashboard's own forms do.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import SessionAuth
from ninja.security.http import HttpBearer
from ninja.throttling import BaseThrottle, UserRateThrottle

from imagetasks.dashboard.api import tokens

REFUSED = "The API token is unknown or revoked. Make a new one on your profile page."


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        # ninja's own reader logs a header it does not understand, token and all.
        scheme, _, value = request.headers.get(self.header, "").partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, value.strip())

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = tokens.authenticate(token)
        if found is None:
            raise AuthenticationError(message=REFUSED)
        # The access rules (access.py) read the person from the request, as for pages.
        request.user = found.user
        return found.user


class PersonRate(UserRateThrottle):
    """API_RATE_LIMIT requests per person (or per address before login), counted in each
    process's cache; read at each request, so a changed setting applies at once."""

    def allow_request(self, request: HttpRequest) -> bool:
        self.rate = settings.API_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


AUTH = [TokenAuth(), SessionAuth(csrf=True)]
THROTTLE: list[BaseThrottle] = [PersonRate()]
