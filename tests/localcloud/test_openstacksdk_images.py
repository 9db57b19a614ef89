"""openstacksdk, unchanged, against the live built-in cloud: it logs in through the built-in
Identity, finds the image service in the catalog, discovers /v2 from the version
document, and drives tasks the way the Rackspace profile does (reference §7.1)."""

from __future__ import annotations

import openstack
import pytest
from django.conf import settings
from openstack import exceptions

from imagetasks.localcloud import vhd_samples

pytestmark = pytest.mark.usefixtures("fast_hashing", "task_worker")


@pytest.fixture(params=["catalog", "endpoint override"])
def conn(request, live_server, account):
    """Logged in through the built-in Identity; the image service found through the
    catalog's version discovery, or named by ``image_endpoint_override`` as a
    clouds.yaml can."""
    overrides = {}
    if request.param == "endpoint override":
        overrides["image_endpoint_override"] = live_server.url + "/localcloud/image/v2/"
    connection = openstack.connect(
        **account.keystone_v3_login(live_server.url),
        region_name=settings.LOCALCLOUD_REGION,
        load_yaml_config=False,
        load_envvars=False,
        **overrides,
    )
    yield connection
    connection.close()


def test_openstacksdk_imports_and_waits_for_a_task(conn, account, put_object):
    data = vhd_samples.fixed_vhd()
    put_object(account, "imports/fixed.vhd", data)

    task = conn.image.create_task(
        type="import",
        input={"import_from": "imports/fixed.vhd", "image_properties": {"name": "From the SDK"}},
    )
    assert task.status == "pending"
    done = conn.image.wait_for_task(task, status="success", interval=0.2, wait=30)

    assert done.result["image_id"]
    assert done.owner_id == account.project.id
    image = conn.image.get_image(done.result["image_id"])
    assert (image.name, image.status, image.size) == ("From the SDK", "active", len(data))
    assert [listed.id for listed in conn.image.images()] == [image.id]
    assert [listed.id for listed in conn.image.tasks()] == [done.id]


def test_openstacksdk_sees_a_failed_task_as_a_resource_failure(conn):
    task = conn.image.create_task(type="import", input={"import_from": "imports/missing.vhd"})

    with pytest.raises(exceptions.ResourceFailure):
        conn.image.wait_for_task(task, status="success", interval=0.2, wait=30)

    failed = conn.image.get_task(task.id)
    assert failed.message == "Image not found for import. Possible invalid location"


def test_openstacksdk_pages_through_tasks_with_filters(conn):
    created = {conn.image.create_task(type="export", input=_export_input(i)).id for i in range(5)}
    for task_id in created:
        conn.image.wait_for_task(conn.image.get_task(task_id), status="failure", wait=30)

    listed = list(conn.image.tasks(type="export", status="failure", limit=2))

    assert sorted(task.id for task in listed) == sorted(created)


def test_openstacksdk_reports_a_rejected_task(conn):
    with pytest.raises(exceptions.BadRequestException, match="Invalid location: no-slash"):
        conn.image.create_task(type="import", input={"import_from": "no-slash"})


def test_openstacksdk_raises_not_found_for_an_unknown_task(conn):
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_task("00000000-0000-4000-8000-000000000000")


def _export_input(i: int) -> dict:
    return {
        "image_uuid": f"00000000-0000-4000-8000-00000000000{i}",
        "receiving_swift_container": "x",
    }
