"""Requests to the OpenID Connect provider: bounded in time and size, errors in words.

Whatever the provider sends is read as hostile: at most ``MAX_BODY`` bytes, JSON that
cannot be read is a ``ProviderError``, and no request follows a redirect. Messages
name the address and what went wrong, never a token or the client's secret (which
travel in headers and bodies, not in the addresses named).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from imagetasks.openstack import jsonbody

MAX_BODY = 1024 * 1024


class ProviderError(Exception):
    """The provider gave no usable answer; the message says which request and why."""


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes

    def json(self, what: str) -> Any:
        try:
            return jsonbody.parse(self.body)
        except ValueError:
            raise ProviderError(f"{what} is not JSON.") from None


def request(method: str, url: str, *, what: str, **kwargs: Any) -> Answer:
    """One request to the provider, its body read to at most ``MAX_BODY`` bytes."""
    try:
        with requests.request(
            method,
            url,
            timeout=settings.OIDC_TIMEOUT,
            allow_redirects=False,
            stream=True,
            **kwargs,
        ) as response:
            body = response.raw.read(MAX_BODY + 1, decode_content=True)
            content_type = response.headers.get("Content-Type", "")
            status = response.status_code
    except requests.Timeout:
        raise ProviderError(f"{what} ({url}) did not answer in time.") from None
    except requests.RequestException as error:
        raise ProviderError(f"{what} ({url}) could not be reached: {_reason(error)}.") from None
    if len(body) > MAX_BODY:
        raise ProviderError(f"{what} ({url}) sent more than {MAX_BODY // 1024} KiB.")
    return Answer(status, content_type.split(";")[0].strip().lower(), body)


def _reason(error: requests.RequestException) -> str:
    """What went wrong, in a few words (urllib3's messages repeat the whole address)."""
    if isinstance(error, requests.exceptions.SSLError):
        return "its TLS certificate was refused"
    if isinstance(error, requests.ConnectionError):
        return "the connection failed"
    return type(error).__name__
