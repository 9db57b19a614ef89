"""The legacy ``import`` task, as the dashboard submits it, against a real Glance.

The input comes from the client's own ``import_input`` so these tests prove that what the
dashboard sends is what Glance needs (URL, formats and the caller's project as owner).
"""

from __future__ import annotations

import pytest

from imagetasks.openstack import BadRequest
from tests_glance.support import wait_for_task


def test_an_import_from_a_loopback_url_succeeds_with_an_active_image_of_the_same_size(
    glance, connect, project, disk_image
):
    client = connect(glance, project)
    source = glance.serve_file(disk_image)

    created = client.images.create_task(
        "import", client.import_input(source=source, name="imported", disk_format="raw")
    )
    task = wait_for_task(client, created.id)

    assert task.status == "success", glance.log_tail()
    assert task.message == ""
    assert task.expires_at is not None
    image = client.images.get_image(task.result["image_id"])
    assert image.status == "active"
    assert image.size == disk_image.stat().st_size
    assert image.owner == project
    assert image.name == "imported"


def test_an_import_whose_url_answers_404_fails_with_glances_generic_message(
    glance, connect, project
):
    """Glance hides the cause (it is only in its log): the client keeps what Glance says."""
    client = connect(glance, project)
    source = glance.file_server.missing_url("gone.raw")

    created = client.images.create_task(
        "import", client.import_input(source=source, name="gone", disk_format="raw")
    )
    task = wait_for_task(client, created.id)

    assert task.status == "failure"
    assert task.message == "Task failed due to Internal Error"
    assert task.result is None
    assert "gone.raw" in glance.file_server.requests


def test_an_import_without_import_from_format_fails_after_being_accepted(
    glance, connect, project, disk_image
):
    """Glance checks the input's keys in the flow, not at POST: a 201, then a failure."""
    client = connect(glance, project)
    task_input = client.import_input(
        source=glance.serve_file(disk_image), name="no-format", disk_format="raw"
    )
    del task_input["import_from_format"]

    created = client.images.create_task("import", task_input)
    task = wait_for_task(client, created.id)

    assert created.status == "pending"
    assert task.status == "failure"
    assert task.message == "Input does not contain 'import_from_format' field"


def test_an_import_from_a_port_outside_the_import_filter_is_refused_at_post(
    glance, connect, project
):
    client = connect(glance, project)
    source = f"http://127.0.0.1:{glance.port}/v2/images"

    with pytest.raises(BadRequest) as refused:
        client.images.create_task(
            "import", client.import_input(source=source, name="x", disk_format="raw")
        )

    assert refused.value.message == (
        f"URI for legacy import task does not pass filtering: {source}"
    )
    assert list(client.images.list_tasks()) == []
