"""/metrics: the Prometheus text format, for a scraper that proves who it is.

No login (a scraper has no session). With ``IMAGETASKS_METRICS_TOKEN`` set, a request
must carry it as ``Authorization: Bearer <token>``, compared in constant time; anything
else is a 401. Without a token, only this host may scrape (``REMOTE_ADDR`` on loopback),
others get a 403: behind a reverse proxy on the same host every request comes from
loopback, so such a deployment sets a token.
"""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from imagetasks.dashboard.metrics import http
from imagetasks.dashboard.metrics.collector import DatabaseCollector
from imagetasks.gunicorn_config import MULTIPROCESS_ENV

LOOPBACK = frozenset({"127.0.0.1", "::1"})

REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(DatabaseCollector())
if os.environ.get(MULTIPROCESS_ENV):
    # Served by gunicorn's processes (imagetasks/gunicorn_config.py): every process's
    # requests, added up from their files.
    multiprocess.MultiProcessCollector(REGISTRY)
else:
    REGISTRY.register(http.REQUEST_SECONDS)


def refusal(request: HttpRequest) -> HttpResponse | None:
    """The answer to a scraper that may not read the metrics, or None when it may."""
    token = settings.IMAGETASKS_METRICS_TOKEN
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), token.encode()
        ):
            return None
        response = HttpResponse(
            "A bearer token is needed to read the metrics.\n",
            status=401,
            content_type="text/plain; charset=utf-8",
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if request.META.get("REMOTE_ADDR") in LOOPBACK:
        return None
    return HttpResponse(
        "Metrics are served to this host only; set IMAGETASKS_METRICS_TOKEN to scrape "
        "from elsewhere.\n",
        status=403,
        content_type="text/plain; charset=utf-8",
    )


@never_cache
@require_GET
@login_not_required
def metrics(request: HttpRequest) -> HttpResponse:
    refused = refusal(request)
    if refused is not None:
        return refused
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_PLAIN_0_0_4)
