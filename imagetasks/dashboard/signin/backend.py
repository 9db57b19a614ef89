"""Signing a person in from the provider's answer: mozilla-django-oidc, made strict.

mozilla-django-oidc does the code flow (state, nonce, PKCE, the token request, the
session). Its checks stop short of what OpenID Connect requires and of what a hostile
provider can send, so these parts are ours:

- the ID token must be signed by one of the provider's keys with the configured
  algorithm, be meant for this client (``aud``, ``azp``), come from the issuer, carry
  this sign-in's nonce, and not have expired; each failure is a ``SignInRefused``
  whose message says which, never a 500 (the library lets an expired token crash);
- people are found by the provider's ``sub`` (``ProviderIdentity``), never by an
  email address or user name, which the provider may let anyone choose; a new person
  gets a new account, never an existing one with the same name;
- the user info must be about the same ``sub``, and every request to the provider is
  bounded in time and size (``signin/http.py``);
- roles and cloud grants follow the groups claim at every sign-in (``grants.py``).

The ID token is kept in the session encrypted (the cloud secrets' box), only to name
the session when logging out at the provider.
"""

from __future__ import annotations

import logging
from typing import Any

import jwt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import IntegrityError, transaction
from django.utils import timezone
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from imagetasks.dashboard.clouds import secretbox
from imagetasks.dashboard.models import ProviderIdentity
from imagetasks.dashboard.signin import claims as claim
from imagetasks.dashboard.signin import discovery, grants, http

log = logging.getLogger(__name__)

LOGOUT_HINT_KEY = "signin_id_token"  # the session's encrypted ID token, for logging out
MAX_TOKEN = 64 * 1024
MAX_SUBJECT = 255
LEEWAY = 30  # seconds of clock difference allowed with the provider


class SignInRefused(Exception):
    """The provider's answer cannot sign this person in; the message says why."""


class ProviderBackend(OIDCAuthenticationBackend):
    """Signs in from the provider's callback only; any other login goes past it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The library reads the provider's endpoints here, and Django makes every backend
        # for every login, the password ones included: they are read when a sign-in
        # needs them (``authenticate``).
        self.UserModel = get_user_model()

    def get_user(self, user_id):
        """As Django's own backend: a switched-off account's sessions end at once (the
        library's would keep them going)."""
        return ModelBackend.get_user(self, user_id)

    def authenticate(self, request, **kwargs):
        """The person of the provider's callback, or a ``SignInRefused`` saying why not.

        Only the callback view passes a ``nonce`` (None when the library's nonce is off):
        a password login's request carrying ``code`` and ``state`` is not a sign-in.
        """
        if request is None or "nonce" not in kwargs or not settings.OIDC_ISSUER:
            return None
        try:
            provider = discovery.endpoints()
        except discovery.ProviderUnavailable as error:
            raise SignInRefused(str(error)) from None
        self.provider = provider
        self.OIDC_OP_TOKEN_ENDPOINT = provider.token
        self.OIDC_OP_USER_ENDPOINT = provider.userinfo
        self.OIDC_OP_JWKS_ENDPOINT = provider.jwks
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None
        return super().authenticate(request, **kwargs)

    def get_token(self, payload):
        """The token response for the code: a JSON object with an ID token in it."""
        client = (payload.pop("client_id"), payload.pop("client_secret"))
        what = "The provider's token endpoint"
        try:
            answer = http.request(
                "POST", self.OIDC_OP_TOKEN_ENDPOINT, what=what, data=payload, auth=client
            )
            body = answer.json(what)
        except http.ProviderError as error:
            raise SignInRefused(f"{error} Try signing in again.") from None
        if answer.status != 200 or not isinstance(body, dict):
            raise SignInRefused(
                f"The provider refused to finish the sign-in (HTTP {answer.status}"
                f"{_provider_words(body)}). Try signing in again."
            )
        if not isinstance(body.get("id_token"), str):
            raise SignInRefused("The provider's token response has no ID token.")
        if not isinstance(body.get("access_token"), str):
            body["access_token"] = ""
        return body

    def verify_token(self, token, **kwargs):
        """The ID token's claims, once every check OpenID Connect asks for has passed."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
            raise SignInRefused("The provider's ID token is missing or too long.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise SignInRefused("The provider's ID token cannot be read.") from None
        algorithm = header.get("alg")
        if algorithm != self.OIDC_RP_SIGN_ALGO:
            shown = repr(algorithm)[:40] if isinstance(algorithm, str) else "no algorithm"
            raise SignInRefused(
                f"The provider's ID token is signed with {shown}, not "
                f"{self.OIDC_RP_SIGN_ALGO} (OIDC_SIGN_ALGO): it was refused."
            )
        key = self.retrieve_matching_jwk(token)
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=settings.OIDC_ISSUER,
                leeway=LEEWAY,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise SignInRefused(
                "The provider's ID token has expired: it was refused. Sign in again; if this "
                "keeps happening, the clocks of this site and of the provider disagree."
            ) from None
        except jwt.InvalidSignatureError:
            raise SignInRefused(
                "The ID token's signature does not match the provider's keys: it was refused."
            ) from None
        except jwt.InvalidAudienceError:
            raise SignInRefused(
                "The ID token was issued to another client, not to this site: it was refused."
            ) from None
        except jwt.InvalidIssuerError:
            raise SignInRefused(
                "The ID token was issued by another provider than OIDC_ISSUER: it was refused."
            ) from None
        except jwt.ImmatureSignatureError:
            raise SignInRefused(
                "The ID token claims to be issued in the future: it was refused. The clocks "
                "of this site and of the provider disagree."
            ) from None
        except jwt.PyJWTError as error:
            raise SignInRefused(
                f"The provider's ID token is not valid ({type(error).__name__}): it was refused."
            ) from None
        self._check_claims(payload, kwargs.get("nonce"))
        return payload

    def _check_claims(self, payload: dict[str, Any], nonce: str | None) -> None:
        audience = payload.get("aud")
        several = isinstance(audience, list) and len(audience) > 1
        if several and payload.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SignInRefused("The ID token names another client as its party (azp).")
        if self.get_settings("OIDC_USE_NONCE", True) and payload.get("nonce") != nonce:
            raise SignInRefused(
                "The ID token does not belong to this sign-in (its nonce differs): it was "
                "refused. Start again from the login page."
            )
        subject = payload.get("sub")
        if (
            not isinstance(subject, str)
            or not subject
            or len(subject) > MAX_SUBJECT
            or any(ord(c) < 32 or ord(c) == 127 for c in subject)  # PostgreSQL refuses NUL
        ):
            raise SignInRefused(
                "The ID token names nobody (its sub is missing, too long or not text)."
            )

    def retrieve_matching_jwk(self, token):
        """The provider's public key that the ID token names (by ``kid`` and algorithm)."""
        what = "The provider's signing keys (jwks_uri)"
        try:
            answer = http.request("GET", self.OIDC_OP_JWKS_ENDPOINT, what=what)
            if answer.status != 200:
                raise http.ProviderError(f"{what} answered HTTP {answer.status}.")
            document = answer.json(what)
        except http.ProviderError as error:
            raise SignInRefused(f"{error} Try signing in again.") from None
        keys = document.get("keys") if isinstance(document, dict) else None
        header = jwt.get_unverified_header(token)
        kid, algorithm = header.get("kid"), header.get("alg")
        usable = []
        for entry in keys if isinstance(keys, list) else []:
            if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
                continue
            if kid is not None and entry.get("kid") != kid:
                continue
            if entry.get("alg", algorithm) != algorithm:
                continue
            try:
                usable.append(jwt.PyJWK(entry, algorithm=algorithm))
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                continue  # a key of a kind or shape we cannot use
        if len(usable) != 1:
            raise SignInRefused(
                "None of the provider's signing keys matches the ID token: it was refused."
                if not usable
                else "Several of the provider's signing keys match the ID token, which names "
                "none (no kid): it was refused."
            )
        return usable[0]

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims, with the provider's user info over them when it has some.

        The user info must be about the ID token's ``sub``. Signed user info
        (``application/jwt``) is not read: the ID token's claims stand alone then.
        """
        claims = dict(payload)
        if not self.OIDC_OP_USER_ENDPOINT or not access_token:
            return claims
        what = "The provider's user info"
        try:
            answer = http.request(
                "GET",
                self.OIDC_OP_USER_ENDPOINT,
                what=what,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
            )
            if answer.status != 200:
                raise http.ProviderError(f"{what} answered HTTP {answer.status}.")
            if answer.content_type == "application/jwt":
                return claims
            info = answer.json(what)
        except http.ProviderError as error:
            raise SignInRefused(f"{error} Try signing in again.") from None
        if not isinstance(info, dict):
            raise SignInRefused(f"{what} is not a JSON object.")
        if info.get("sub") != payload["sub"]:
            raise SignInRefused(f"{what} is about someone else than the ID token: refused.")
        kept = {name: payload[name] for name in ("iss", "aud", "sub") if name in payload}
        claims.update(info)
        claims.update(kept)
        return claims

    def store_tokens(self, access_token, id_token):
        """Only the ID token is kept, encrypted, to name the session at logout."""
        self.request.session[LOGOUT_HINT_KEY] = secretbox.encrypt(id_token)

    def get_or_create_user(self, access_token, id_token, payload):
        """The person with this ``sub``: made on their first sign-in, kept in step after."""
        info = self.get_userinfo(access_token, id_token, payload)
        for attempt in range(2):
            try:
                with transaction.atomic():
                    return self._sign_in(info, payload["sub"])
            except IntegrityError:
                # Two first sign-ins of one person at once: the other made the account.
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _sign_in(self, info: dict[str, Any], subject: str):
        identity = (
            ProviderIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=settings.OIDC_ISSUER, subject=subject)
            .first()
        )
        if identity is None:
            user = self.create_user(info)
            identity = ProviderIdentity.objects.create(
                user=user, issuer=settings.OIDC_ISSUER, subject=subject
            )
            log.info("Signed in %s for the first time from the provider", user.get_username())
        else:
            user = self.update_user(identity.user, info)
        identity.signed_in_at = timezone.now()
        identity.save(update_fields=["signed_in_at"])
        grants.sync(identity, claim.granted(info))
        return user

    def create_user(self, claims):
        """A new account with a free user name and no password (it signs in here only)."""
        user = self.UserModel.objects.create_user(_free_username(claim.username(claims)))
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        """Name and email follow the provider; the user name never changes."""
        fields = {
            "email": claim.email(claims),
            "first_name": claim.text(claims, "given_name", 150),
            "last_name": claim.text(claims, "family_name", 150),
        }
        changed = [name for name, value in fields.items() if getattr(user, name) != value]
        for name in changed:
            setattr(user, name, fields[name])
        if changed:
            user.save(update_fields=changed)
        return user


def _free_username(wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… if someone has it (in any case of letters)."""
    users = get_user_model().objects
    for number in range(1, 1000):
        name = wanted if number == 1 else f"{wanted}-{number}"
        if not users.filter(username__iexact=name).exists():
            return name
    raise SignInRefused("No free user name could be found for this person; ask an administrator.")


def _provider_words(body: object) -> str:
    """The provider's own error code and description, short, for the message."""
    if not isinstance(body, dict):
        return ""
    words = [
        "".join(c for c in value[:200] if c.isprintable())  # no line breaks into the log
        for value in (body.get("error"), body.get("error_description"))
        if isinstance(value, str)
    ]
    return ": " + ", ".join(words) if words else ""
