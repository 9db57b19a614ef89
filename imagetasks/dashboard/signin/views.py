"""The login page, signing in with the provider, logging out, and "no access yet".

The login page offers "Sign in with …" when ``OIDC_ISSUER`` is set, beside the password
form unless ``PASSWORD_LOGIN`` is off (then the form is gone from this page and the
admin's, and a password POST is refused before any password is checked). A sign-in that
fails comes back to the login page with the reason, never an error page.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin, auth
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from imagetasks.dashboard.clouds import secretbox
from imagetasks.dashboard.signin import discovery
from imagetasks.dashboard.signin.backend import LOGOUT_HINT_KEY, SignInRefused

log = logging.getLogger(__name__)

FORM_SWITCHED_OFF = (
    "Logging in with a password is switched off on this site: sign in with {provider}."
)


def _login_context(request: HttpRequest) -> dict[str, object]:
    return {
        "provider_name": discovery.provider_name() if settings.OIDC_ISSUER else "",
        "password_login": settings.PASSWORD_LOGIN,
    }


def _refuse(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    """The login page again, saying why the sign-in did not happen."""
    context = {**_login_context(request), "signin_error": message, "next": ""}
    return render(request, "registration/login.html", context, status=status)


class LoginPage(LoginView):
    """Django's login view, with the provider's button, and its POST refused when
    password logins are off."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_login_context(self.request)}

    def post(self, request, *args, **kwargs):
        if not settings.PASSWORD_LOGIN:
            return _refuse(request, FORM_SWITCHED_OFF.format(provider=discovery.provider_name()))
        return super().post(request, *args, **kwargs)


@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def admin_login(request: HttpRequest) -> HttpResponse:
    """The admin's own login form, unless password logins are off: then its page sends
    people to the login page (where the provider's button is) and its POST is refused."""
    if settings.PASSWORD_LOGIN:
        return admin.site.login(request)
    if request.method == "POST":
        return _refuse(request, FORM_SWITCHED_OFF.format(provider=discovery.provider_name()))
    query = urlencode({"next": request.GET.get("next") or resolve_url("admin:index")})
    return HttpResponseRedirect(f"{resolve_url(settings.LOGIN_URL)}?{query}")


@method_decorator(login_not_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class SignInStart(OIDCAuthenticationRequestView):
    """Sends the person to the provider's sign-in page (state, nonce, PKCE in the session)."""

    def __init__(self, *args, **kwargs):
        # The library reads the endpoint from settings here; ours comes from discovery.
        super(OIDCAuthenticationRequestView, self).__init__(*args, **kwargs)

    def get(self, request):
        if not settings.OIDC_ISSUER:
            raise Http404("Signing in with a provider is not configured.")
        try:
            provider = discovery.endpoints()
        except discovery.ProviderUnavailable as error:
            log.warning("Sign-in could not start: %s", error)
            return _refuse(request, f"Signing in is not possible right now. {error}", 503)
        self.OIDC_OP_AUTH_ENDPOINT = provider.authorization
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response = super().get(request)
        if "?" in provider.authorization:  # the library adds its query with another "?"
            response["Location"] = response["Location"].replace(
                f"{provider.authorization}?", f"{provider.authorization}&", 1
            )
        return response


@method_decorator(login_not_required, name="dispatch")
@method_decorator(never_cache, name="dispatch")
class SignInCallback(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back: signed in, or the login page saying why."""

    def get(self, request):
        if not settings.OIDC_ISSUER:
            raise Http404("Signing in with a provider is not configured.")
        provider = discovery.provider_name()
        # Each state is spent on its first use, whatever happens next (no replay).
        states = request.session.get("oidc_states")
        states = states if isinstance(states, dict) else {}
        state = request.GET.get("state", "")
        entry = states.pop(state, None)
        request.session["oidc_states"] = states
        request.session.save()
        if request.GET.get("error"):
            if not isinstance(entry, dict):  # anyone can make such a link: their words stay out
                return _refuse(request, f"{provider} did not sign you in. Start again.", 400)
            said = request.GET.get("error_description") or request.GET["error"]
            return _refuse(request, f"{provider} did not sign you in: {said[:300]}")
        if not isinstance(entry, dict) or not request.GET.get("code"):
            return _refuse(
                request,
                "This sign-in has expired or was already used. Start again with the button.",
                400,
            )
        # Read the session afresh after the slow requests to the provider, as the library
        # does, so as not to write back over what another tab changed meanwhile.
        request.session = request.session.__class__(request.session.session_key)
        try:
            user = auth.authenticate(
                request=request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier")
            )
        except SignInRefused as refusal:
            log.warning("Sign-in with %s refused: %s", provider, refusal)
            return _refuse(request, f"Signing in with {provider} failed. {refusal}")
        if user is None:
            return _refuse(request, f"Signing in with {provider} failed. Try again.")
        if not user.is_active:
            return _refuse(
                request, "Your account on this site is switched off: ask an administrator."
            )
        self.user = user
        return self.login_success()


@login_not_required
@require_POST
def log_out(request: HttpRequest) -> HttpResponse:
    """Ends this site's session, then the provider's when it offers RP-initiated logout.

    The provider gets the ID token as ``id_token_hint`` and is asked to send the person
    back to the login page (``post_logout_redirect_uri``, to be registered with the
    client). Without a provider session, or when the provider cannot be asked, the
    logout is this site's only; it never fails.
    """
    target = resolve_url(settings.LOGOUT_REDIRECT_URL)
    end_session = _end_session_url(request, target)
    auth.logout(request)
    return HttpResponseRedirect(end_session or target)


def _end_session_url(request: HttpRequest, back_to: str) -> str:
    sealed = request.session.get(LOGOUT_HINT_KEY)
    if not settings.OIDC_ISSUER or not isinstance(sealed, str) or not sealed:
        return ""
    try:
        endpoint = discovery.endpoints().end_session
        id_token = secretbox.decrypt(sealed)
    except (discovery.ProviderUnavailable, secretbox.SecretUnreadable) as error:
        log.warning("Logged out here only, not at the provider: %s", error)
        return ""
    if not endpoint:
        return ""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": request.build_absolute_uri(back_to),
            "client_id": settings.OIDC_RP_CLIENT_ID,
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def no_access(request: HttpRequest) -> HttpResponse:
    """What a person sees who signed in but was granted nothing yet."""
    context = {"provider_name": discovery.provider_name() if settings.OIDC_ISSUER else ""}
    return render(request, "registration/no_access.html", context)
