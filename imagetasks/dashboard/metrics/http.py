"""How long the dashboard takes to answer, measured in the web process that answered.

Served by gunicorn as the Procfile and docker compose serve it, every web process keeps
its histogram in a file of a directory the master names (``imagetasks/gunicorn_config.py``)
and a scrape adds them all up, whichever process answers it. Elsewhere (``runserver``, the
test client) it is kept in memory, the one process's own. Requests are labelled by the
view that answered (its URL name), never by the path, so ids in URLs cannot make a
series each; what no view answered is ``<unresolved>``. /metrics itself is left out, so
scrapes do not measure themselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from prometheus_client import Histogram

UNRESOLVED = "<unresolved>"
METRICS_VIEW = "metrics"
# Methods anyone can send: others are counted together, so a client cannot add labels.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "imagetasks_http_request_duration_seconds",
    "Seconds the web processes took to answer a request (until its headers), by view and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=None,  # registered by the endpoint, beside the database's families
)


class RequestLatencyMiddleware:
    """Times every request the dashboard's views (and Django's 404s) answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        view = match.view_name if match is not None else UNRESOLVED
        if view != METRICS_VIEW:
            method = request.method if request.method in METHODS else "other"
            REQUEST_SECONDS.labels(view, method).observe(time.perf_counter() - started)
        return response
