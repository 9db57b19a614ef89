"""An import started elsewhere, with python-glanceclient's `glance image-create-via-import`,
found by discovery on the built-in cloud and followed to its end by the poller.

Real HTTP throughout: the `glance` shell in a process of its own, a real Celery worker for
the dashboard's poll jobs and the cloud's import jobs, a beat thread sending the
dispatcher job, and the URL served by a scripted server on loopback.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking import discovery
from tests.openstack.scripted import Reply
from tests.support.tracking import finished, timeline
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

DATA = b"a raw disk image " * 4096
# The file server answers this late, so the import is still running when it is found.
DOWNLOAD_DELAY = 4.0


def glance_shell(live_server, account, *arguments: str) -> subprocess.CompletedProcess:
    """`glance` as a person runs it, logged in to the built-in cloud through its Keystone."""
    environment = {
        "PATH": os.environ["PATH"],
        "OS_AUTH_URL": f"{live_server.url}/localcloud/identity/v3",
        "OS_USERNAME": account.user.name,
        "OS_PASSWORD": account.password,
        "OS_PROJECT_NAME": account.project.name,
        "OS_USER_DOMAIN_NAME": "Default",
        "OS_PROJECT_DOMAIN_NAME": "Default",
        "OS_REGION_NAME": settings.LOCALCLOUD_REGION,
    }
    command = [str(Path(sys.executable).parent / "glance"), "--os-image-api-version", "2"]
    # A terminal on stdin: glance reads a piped stdin as image data.
    terminal, other_end = pty.openpty()
    try:
        return subprocess.run(
            [*command, *arguments],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=other_end,
        )
    finally:
        os.close(terminal)
        os.close(other_end)


def test_an_import_started_with_the_glance_shell_is_adopted_and_followed_to_success(
    local_cloud, account, live_server, beat, files
):
    files.on("GET", "/disk.raw", Reply(body=DATA, delay=DOWNLOAD_DELAY))
    local_cloud.discover_tasks = True
    local_cloud.save()

    created = glance_shell(
        live_server, account, "image-create-via-import", "--name", "from-elsewhere",
        "--disk-format", "raw", "--container-format", "bare",
        "--import-method", "web-download", "--uri", f"{files.url}/disk.raw",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    assert discovery.discover(local_cloud) == 1
    task = ImageTask.objects.get(origin=ImageTask.Origin.DISCOVERED)
    assert task.status == statuses.PROCESSING  # found while its data was on its way
    assert (task.type, task.method, task.name) == ("import", "web-download", "from-elsewhere")
    assert task.input["uri"] == f"{files.url}/disk.raw"

    wait_for(lambda: finished(task), what="the adopted import to finish")
    assert task.status == statuses.SUCCESS, task.message
    assert task.result["stores"] == ["fast"] and task.result["image_status"] == "active"
    assert timeline(task) == ["processing", "success"]
    assert discovery.discover(local_cloud) == 0  # never adopted twice
    assert ImageTask.objects.count() == 1
    local_cloud.refresh_from_db()
    assert local_cloud.discovery_error == ""
