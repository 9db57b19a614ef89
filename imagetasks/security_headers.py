"""Headers every answer of the site carries: a strict Content-Security-Policy, and
``Cache-Control: private`` on what a logged-in person sees.

The pages load scripts and styles from this site only and run no inline script: htmx
runs without eval (``htmx-config`` in base.html) and our own script is a file. Styles
allow inline attributes, which Django's admin writes. A page a person sees when logged
in is theirs: no shared cache (a proxy, a CDN) may keep it for the next person.

Forms post to this site only, with one exception: logging out redirects the form's POST
to the OpenID Connect provider to end its session there, and browsers hold redirects
of a form to ``form-action`` too, so the provider's origins are allowed there.
"""

from __future__ import annotations

from django.utils.cache import patch_cache_control

from imagetasks.dashboard.signin import discovery

POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", _policy())
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            patch_cache_control(response, private=True)
        return response


def _policy() -> str:
    origins = discovery.known_origins()
    if not origins:
        return POLICY
    return POLICY.replace("form-action 'self'", " ".join(["form-action 'self'", *origins]))
