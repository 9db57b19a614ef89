"""Helpers the Glance tests share: the project's client on a Glance, and waiting on it.

Tests talk to Glance through ``imagetasks.openstack`` as the dashboard does. The only raw
HTTP here sets up state the client has no call for: an image made through Glance's
interoperable import, which is what creates Glance's own ``api_image_import`` tasks.
"""

from __future__ import annotations

import time

import pytest
import requests

from imagetasks.openstack import CloudClient, CloudConfig, Task
from tests_glance.harness.server import GlanceServer

FINISHED = ("success", "failure")
RAW_TIMEOUT = 10.0


def client_for(
    server: GlanceServer, project: str | None = None, roles: str | None = None
) -> CloudClient:
    """The project's client acting on ``server`` as ``project`` with ``roles``.

    No retries: a test should see Glance's first answer, not the one after a backoff.
    """
    config = CloudConfig(
        auth_type="token",
        secret=server.token(project, roles),
        project_id=project or server.project_id,
        endpoint_overrides={"image": server.url},
        retries=0,
    )
    return CloudClient(config)


def wait_for_task(client: CloudClient, task_id: str, timeout: float = 60.0) -> Task:
    """Poll a task until it ends; fail the test with its last state if it does not."""
    deadline = time.monotonic() + timeout
    task = client.images.get_task(task_id)
    while task.status not in FINISHED:
        if time.monotonic() > deadline:
            pytest.fail(f"task {task_id} still {task.status!r} after {timeout:g} s")
        time.sleep(0.1)
        task = client.images.get_task(task_id)
    return task


def import_through_glance_direct(server: GlanceServer, project: str, data: bytes) -> str:
    """Make an image the interoperable way (create, stage, import with ``glance-direct``).

    Glance records that import as a task of type ``api_image_import`` owned by the
    project. Returns the image id.
    """
    headers = server.token_headers(project)
    images = f"{server.url}/v2/images"
    created = requests.post(
        images,
        json={"name": "staged", "disk_format": "raw", "container_format": "bare"},
        headers=headers,
        timeout=RAW_TIMEOUT,
    )
    created.raise_for_status()
    image_id = created.json()["id"]
    staged = requests.put(
        f"{images}/{image_id}/stage",
        data=data,
        headers={**headers, "Content-Type": "application/octet-stream"},
        timeout=RAW_TIMEOUT,
    )
    staged.raise_for_status()
    imported = requests.post(
        f"{images}/{image_id}/import",
        json={"method": {"name": "glance-direct"}},
        headers=headers,
        timeout=RAW_TIMEOUT,
    )
    imported.raise_for_status()
    return image_id
