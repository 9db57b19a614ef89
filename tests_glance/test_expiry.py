"""What an expired task looks like on a real Glance (``task_time_to_live = 0``).

Glance deletes expired tasks lazily: only a task list by the owning project sweeps them.
Until then a GET still answers; after it, the GET is a 404. The imported image stays.
"""

from __future__ import annotations

import pytest

from imagetasks.openstack import NotFound
from tests_glance.support import wait_for_task


def test_an_expired_task_answers_until_its_project_lists_tasks_then_is_not_found(
    glance_expiring, connect, project, disk_image
):
    client = connect(glance_expiring, project)
    outsider = connect(glance_expiring, "p-outsider")
    created = client.images.create_task(
        "import",
        client.import_input(
            source=glance_expiring.serve_file(disk_image), name="short-lived", disk_format="raw"
        ),
    )
    finished = wait_for_task(client, created.id)
    assert finished.status == "success", glance_expiring.log_tail()
    assert finished.expires_at is not None
    assert finished.expires_at <= finished.updated_at

    # Another project's list sweeps only that project's expired tasks.
    list(outsider.images.list_tasks())
    still_there = client.images.get_task(created.id)
    assert [task.id for task in client.images.list_tasks()] == []

    with pytest.raises(NotFound) as gone:
        client.images.get_task(created.id)

    assert still_there.status == "success"
    assert gone.value.message == f"Could not find task {created.id}"
    assert client.images.get_image(finished.result["image_id"]).status == "active"
