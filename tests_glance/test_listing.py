"""Glance's own ``api_image_import`` tasks show up in a project's task list.

The interoperable image import records its work as tasks of the project; the dashboard
only ever submits ``import`` tasks, so it must be able to leave Glance's own out.
"""

from __future__ import annotations

import os

from tests_glance.support import import_through_glance_direct, wait_for_task


def test_the_task_list_shows_glances_own_import_tasks_and_the_type_filter_leaves_them_out(
    glance, connect, project, disk_image
):
    client = connect(glance, project)
    image_id = import_through_glance_direct(glance, project, os.urandom(4096))
    ours = client.images.create_task(
        "import",
        client.import_input(source=glance.serve_file(disk_image), name="ours", disk_format="raw"),
    )
    wait_for_task(client, ours.id)

    listed = {task.id: task.type for task in client.images.list_tasks()}
    filtered = [task.id for task in client.images.list_tasks(type="import")]

    glances = [task_id for task_id, type in listed.items() if type == "api_image_import"]
    assert len(glances) == 1
    assert listed[ours.id] == "import"
    assert filtered == [ours.id]
    assert client.images.get_task(glances[0]).input["image_id"] == image_id


def test_glances_own_import_task_ends_in_success_with_a_progress_note_as_message(
    glance, connect, project
):
    """The dashboard may meet these in lists, and reading one in full must not break it.
    Unlike a legacy import, a finished one keeps its last progress note as ``message``, so
    a message alone does not mean a failure."""
    client = connect(glance, project)
    image_id = import_through_glance_direct(glance, project, os.urandom(4096))
    (listed,) = client.images.list_tasks()

    task = wait_for_task(client, listed.id)

    assert task.type == "api_image_import"
    assert task.owner == project
    assert task.image_id == image_id
    assert task.status == "success", glance.log_tail()
    assert task.message.startswith("Copied ")
    assert task.result == {"image_id": image_id}
    assert client.images.get_image(image_id).status == "active"
