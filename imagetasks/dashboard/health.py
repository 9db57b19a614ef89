"""/healthz: is every part of the deployment able to do its job right now?

Each check returns a problem in words, or None. The endpoint answers 200 when
all are fine and 503 naming what is not, so a load balancer or a container
runtime can act on it and a person can read it.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu import Connection


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down"; its text says why
        return f"database unreachable: {exc.__class__.__name__}: {exc}"
    return None


def check_broker() -> str | None:
    url = settings.CELERY_BROKER_URL
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    if url.startswith("filesystem"):
        folder = options.get("data_folder_in", "")
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            return f"broker folder {folder} is missing or not writable"
        return None
    try:
        with Connection(url, transport_options=options, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # kombu wraps every transport error differently
        return f"broker unreachable: {exc.__class__.__name__}: {exc}"
    return None


def check_heartbeat(part: str) -> str | None:
    from imagetasks.dashboard.models import Heartbeat

    try:
        pulse = Heartbeat.objects.filter(part=part).first()
    except Exception as exc:
        return f"{part} heartbeat unreadable: {exc.__class__.__name__}"
    if pulse is None:
        return f"{part} has never reported"
    age = timezone.now() - pulse.last_seen
    if age > timedelta(seconds=settings.HEARTBEAT_MAX_AGE):
        return f"{part} silent for {int(age.total_seconds())} s"
    return None


CHECKS = {
    "database": check_database,
    "broker": check_broker,
    "worker": lambda: check_heartbeat("worker"),
    "beat": lambda: check_heartbeat("beat"),
    "dispatcher": lambda: check_heartbeat("dispatcher"),
}


@never_cache
@require_GET
@login_not_required
def healthz(request: HttpRequest) -> JsonResponse:
    results = {}
    failing = []
    for name, check in CHECKS.items():
        problem = check()
        results[name] = {"ok": problem is None, "problem": problem}
        if problem:
            failing.append(name)
    body = {"status": "ok" if not failing else "failing", "failing": failing, "checks": results}
    return JsonResponse(body, status=200 if not failing else 503)
