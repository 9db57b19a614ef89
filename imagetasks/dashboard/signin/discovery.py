"""Where the provider's endpoints are: its discovery document, fetched once and kept.

A deployment configures only ``OIDC_ISSUER``; ``/.well-known/openid-configuration``
under it says where to send people to sign in, where to exchange the code, where the
signing keys and the person's details are, and where the provider's session ends.
Each process fetches it when a sign-in first needs it and keeps it for ``KEEP_FOR``
seconds; a failure is not kept, so the next sign-in asks again, and it says what went
wrong in words a person can act on.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from imagetasks.dashboard.signin import http

KEEP_FOR = 3600.0
MAX_URL = 2000
HOST_AND_PORT = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class ProviderUnavailable(Exception):
    """The discovery document could not be had or read; the message says why."""


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    authorization: str
    token: str
    jwks: str
    userinfo: str  # "": the provider has none; the ID token's claims are all there is
    end_session: str  # "": no RP-initiated logout; logging out ends only this site's session


_kept: dict[str, tuple[float, Endpoints]] = {}


def provider_name() -> str:
    """The name on the "Sign in with …" button: OIDC_PROVIDER_NAME, else the issuer's host."""
    return settings.OIDC_PROVIDER_NAME or urlsplit(settings.OIDC_ISSUER).hostname or ""


def endpoints() -> Endpoints:
    """The configured provider's endpoints, from this process's copy while it is fresh."""
    issuer = settings.OIDC_ISSUER
    kept = _kept.get(issuer)
    now = time.monotonic()
    if kept is not None and now - kept[0] < KEEP_FOR:
        return kept[1]
    found = _discover(issuer)
    _kept[issuer] = (now, found)
    return found


def known_origins() -> list[str]:
    """The provider's origins this process knows without asking: the issuer's, and its
    end-session endpoint's once discovered (where logging out sends the browser)."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        return []
    urls = [issuer]
    kept = _kept.get(issuer)
    if kept is not None and kept[1].end_session:
        urls.append(kept[1].end_session)
    return sorted({origin for url in urls if (origin := _origin(url))})


def _origin(url: str) -> str:
    """The URL's origin, or "" if its host part could be read as more of a header."""
    parts = urlsplit(url)
    if not HOST_AND_PORT.fullmatch(parts.netloc):
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def forget() -> None:
    """Fetch the document again at the next sign-in (tests; a provider that moved)."""
    _kept.clear()


def _discover(issuer: str) -> Endpoints:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    what = "The provider's discovery document"
    try:
        answer = http.request("GET", url, what=what, headers={"Accept": "application/json"})
        if answer.status != 200:
            raise http.ProviderError(f"{what} ({url}) answered HTTP {answer.status}.")
        document = answer.json(what)
    except http.ProviderError as error:
        raise ProviderUnavailable(f"{error} Check OIDC_ISSUER, or try again later.") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"{what} ({url}) is not a JSON object.")
    if document.get("issuer") != issuer:
        said = document.get("issuer")
        shown = repr(said[:200]) if isinstance(said, str) else "nothing"
        raise ProviderUnavailable(
            f"The provider at {url} names {shown} as its issuer, not {issuer!r}: OIDC_ISSUER "
            "must be exactly the provider's issuer."
        )
    secure = issuer.startswith("https://")

    def address(field: str, *, required: bool) -> str:
        value = document.get(field)
        if _is_address(value, secure=secure):
            return str(value)
        if required:
            raise ProviderUnavailable(
                f"{what} ({url}) has no usable {field}: sign-in cannot work with this provider."
            )
        return ""

    return Endpoints(
        issuer=issuer,
        authorization=address("authorization_endpoint", required=True),
        token=address("token_endpoint", required=True),
        jwks=address("jwks_uri", required=True),
        userinfo=address("userinfo_endpoint", required=False),
        end_session=address("end_session_endpoint", required=False),
    )


def _is_address(value: object, *, secure: bool) -> bool:
    """An http(s) URL with a host (https only for an https issuer), of a sane length."""
    if not isinstance(value, str) or len(value) > MAX_URL or any(c in value for c in "\0\r\n "):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    schemes = ("https",) if secure else ("https", "http")
    return parts.scheme in schemes and bool(parts.hostname) and not parts.fragment
