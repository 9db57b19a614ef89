"""python-glanceclient, unchanged, against the live built-in cloud.

glanceclient builds warlock models from the served schemas and validates
every task it sends and receives, so these tests also prove the schemas
match the bodies (reference §7.2).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import glanceclient
import pytest
from django.conf import settings
from glanceclient import exc
from keystoneauth1 import session
from keystoneauth1.identity import v3

from imagetasks.localcloud import vhd_samples
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")


@pytest.fixture
def glance(live_server, account):
    return glanceclient.Client(
        "2", endpoint=live_server.url + "/localcloud/image", token=account.token()
    )


def wait(glance, task_id: str):
    """The task once it has ended; a task still running after the wait fails the test here,
    not later as a puzzling listing."""

    def ended():
        task = glance.tasks.get(task_id)
        return task if task.status in ("success", "failure") else None

    return wait_for(ended, interval=0.1, what=f"task {task_id} to end")


def test_glanceclient_imports_a_vhd_and_finds_the_image(glance, account, put_object):
    data = vhd_samples.fixed_vhd()
    put_object(account, "imports/fixed.vhd", data)

    created = glance.tasks.create(
        type="import",
        input={"import_from": "imports/fixed.vhd", "image_properties": {"name": "From glance"}},
    )
    task = wait(glance, created.id)

    assert created.status == "pending"
    assert task.status == "success"
    assert task.message == ""
    image = glance.images.get(task.result["image_id"])
    assert image.name == "From glance"
    assert image.status == "active"
    assert image.size == len(data)
    assert [listed.id for listed in glance.images.list()] == [image.id]
    assert b"".join(glance.images.data(image.id)) == data


def test_glanceclient_creates_an_export_task(glance, account, put_object):
    put_object(account, "exports", b"")

    created = glance.tasks.create(
        type="export",
        input={
            "image_uuid": "8e5b5a8e-2b1e-4bd2-a9c3-3ad3a9f4a0d1",
            "receiving_swift_container": "exports",
        },
    )
    task = wait(glance, created.id)

    assert task.type == "export"
    assert task.status == "failure"
    assert task.message == "An image may only be exported by the image owner."
    assert task.result is None


def test_glanceclient_pages_through_tasks_with_filters(glance):
    created = {
        glance.tasks.create(type="import", input={"import_from": f"imports/{i}.vhd"}).id
        for i in range(5)
    }
    for task_id in created:
        wait(glance, task_id)

    listed = list(glance.tasks.list(filters={"type": "import"}, page_size=2))
    failed = list(glance.tasks.list(filters={"status": "failure"}, page_size=2))
    exports = list(glance.tasks.list(filters={"type": "export"}))

    assert sorted(task.id for task in listed) == sorted(created)
    assert {task.status for task in failed} == {"failure"}
    assert len(failed) == 5
    assert exports == []


def test_glanceclient_reports_the_clouds_errors(glance):
    with pytest.raises(exc.HTTPNotFound, match="Could not find task 00000000-"):
        glance.tasks.get("00000000-0000-0000-0000-000000000000")
    with pytest.raises(exc.HTTPBadRequest, match="Invalid location: no-slash"):
        glance.tasks.create(type="import", input={"import_from": "no-slash"})


def test_glanceclient_finds_the_image_service_in_the_identity_catalog(live_server, account):
    auth = v3.Password(**account.keystone_v3_login(live_server.url))
    glance = glanceclient.Client("2", session=session.Session(auth=auth))

    assert list(glance.tasks.list()) == []
    assert list(glance.images.list()) == []


def test_the_glance_command_line_client_lists_tasks_through_keystone(live_server, cloud, account):
    """What the README shows: the `glance` shell with the usual OS_* variables."""
    created = cloud.post(
        "image/v2/tasks", json={"type": "import", "input": {"import_from": "images/none.vhd"}}
    ).json()
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
    shell = Path(sys.executable).parent / "glance"

    listed = subprocess.run(
        [str(shell), "task-list"], env=environment, capture_output=True, text=True, timeout=60
    )

    assert listed.returncode == 0, listed.stderr
    assert created["id"] in listed.stdout
