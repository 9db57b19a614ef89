"""The tracker against the built-in cloud: a live server, a real worker, a beat.

The dashboard reaches the cloud only over HTTP, through the same client as in
production. The built-in cloud's accounts are set up through its models,
because it is the peer under test's control, not the code under test.
"""

from __future__ import annotations

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from imagetasks.celery import app as celery_app
from imagetasks.dashboard.clouds.clients import forget_clients
from imagetasks.dashboard.jobs import dispatch_polls
from imagetasks.dashboard.models import Cloud
from tests.localcloud.conftest import (  # noqa: F401  (fixtures shared with the cloud's tests)
    Account,
    account,
    make_account,
    other_account,
    route_jobs,
    store_dir,
)
from tests.openstack.scripted import ScriptedCloud
from tests.support.beat import ticking


def register_cloud(live_server, owner: Account, name: str = "local", **fields) -> Cloud:
    cloud = Cloud(
        name=name,
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{live_server.url}/localcloud/identity/v3",
        username=owner.user.name,
        project_name=owner.project.name,
        region=settings.LOCALCLOUD_REGION,
        poll_min_interval=0.3,
        poll_max_interval=2.0,
        timeout=10.0,
        **fields,
    )
    cloud.set_secret(owner.password)
    cloud.save()
    return cloud


@pytest.fixture
def local_cloud(live_server, account) -> Cloud:  # noqa: F811
    """A dashboard ``Cloud`` for ``account`` on the live built-in cloud (Keystone v3)."""
    forget_clients()
    yield register_cloud(live_server, account)
    forget_clients()


@pytest.fixture
def workers(transactional_db, store_dir):  # noqa: F811
    """One real worker thread consuming both the dashboard's and the cloud's jobs.

    Both go to queues of this test's own, so nothing else on the broker interferes.
    """
    suffix = uuid.uuid4().hex[:10]
    dashboard_queue, cloud_queue = f"dashboard-{suffix}", f"localcloud-{suffix}"
    previous_routes = celery_app.conf.task_routes
    route_jobs(
        {
            "imagetasks.localcloud.*": {"queue": cloud_queue},
            "imagetasks.dashboard.*": {"queue": dashboard_queue},
        }
    )
    try:
        with start_worker(
            celery_app,
            pool="threads",
            concurrency=4,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
            queues=[dashboard_queue, cloud_queue],
        ) as worker:
            yield worker
    finally:
        route_jobs(previous_routes)


@pytest.fixture
def beat(workers):
    """Sends the dispatcher job every half second through the broker, as beat does."""
    with ticking(dispatch_polls.delay):
        yield


def wait_for(predicate, timeout: float = 120.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def scripted():
    """A scripted cloud on 127.0.0.1 for this test: it answers what the test tells it to."""
    server = ScriptedCloud().start()
    forget_clients()
    yield server
    server.stop()
    forget_clients()


@pytest.fixture
def cloud(scripted) -> Cloud:
    """A dashboard ``Cloud`` whose image endpoint is ``scripted`` (no identity service)."""
    return Cloud.objects.create(
        name="scripted", auth_type=Cloud.AuthType.NONE, image_endpoint=f"{scripted.url}/image"
    )
