"""A real Celery worker runs jobs through the configured broker.

The embedded run uses kombu's filesystem transport; the services run
(CELERY_BROKER_URL=redis://…) goes through Redis. Nothing here is mocked.
"""

import time

from celery.signals import task_postrun
from django.conf import settings
from django.db import connection

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


def test_a_worker_keeps_its_connection_between_jobs_for_conn_max_age_and_no_longer(real_worker):
    """Celery alone closes every connection after each job: a worker then paid for a new
    PostgreSQL backend per poll job, one a second per cloud. Kept for CONN_MAX_AGE (60 s
    there), one connection serves job after job; SQLite's is 0, so its connection still
    ends with each job."""
    kept = []

    def after_job(**kwargs):
        kept.append(connection.connection)  # the worker's own: connections are per thread

    task_postrun.connect(after_job, weak=False)
    try:
        heartbeat.delay()
        assert wait_for(lambda: len(kept) == 1), "the worker ran no heartbeat job"
        heartbeat.delay()
        assert wait_for(lambda: len(kept) == 2), "the worker ran no second heartbeat job"
    finally:
        task_postrun.disconnect(after_job)

    if settings.DATABASES["default"]["CONN_MAX_AGE"]:
        assert kept[0] is not None and kept[1] is kept[0]
    else:
        assert kept == [None, None]
