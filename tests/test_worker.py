"""A real Celery worker runs jobs through the configured broker.

The embedded run uses kombu's filesystem transport; the services run
(CELERY_BROKER_URL=redis://…) goes through Redis. Nothing here is mocked.
"""

import time

from django.conf import settings

from imagetasks.dashboard.jobs import heartbeat
from imagetasks.dashboard.models import Heartbeat


def wait_for(predicate, timeout=20.0, interval=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def test_a_worker_runs_the_heartbeat_job_sent_through_the_broker(real_worker):
    assert not Heartbeat.objects.filter(part="worker").exists()

    heartbeat.delay()

    assert wait_for(lambda: Heartbeat.objects.filter(part="worker").exists()), (
        f"no worker heartbeat through {settings.CELERY_BROKER_URL}"
    )
