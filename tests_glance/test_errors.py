"""Glance's error bodies reach the caller as plain sentences, without Glance's markup."""

from __future__ import annotations

import uuid

import pytest

from imagetasks.openstack import NotFound


def test_an_unknown_task_is_not_found_with_glances_message_and_no_markup(glance, connect, project):
    task_id = str(uuid.uuid4())

    with pytest.raises(NotFound) as missing:
        connect(glance, project).images.get_task(task_id)

    assert missing.value.status == 404
    assert missing.value.message == f"Could not find task {task_id}"
    assert "<br />" in missing.value.body
    assert missing.value.request_id.startswith("req-")


def test_another_projects_task_is_not_found_rather_than_forbidden(glance, connect, project):
    owner = connect(glance, project)
    created = owner.images.create_task(
        "import", {"import_from": glance.file_server.missing_url(), "image_properties": {}}
    )

    with pytest.raises(NotFound):
        connect(glance, "p-colleague").images.get_task(created.id)
