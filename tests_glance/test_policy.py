"""Glance ships the tasks API admin-only; a member must get a clear refusal, not a crash."""

from __future__ import annotations

import pytest

from imagetasks.openstack import TasksForbidden
from tests_glance.support import wait_for_task

GLANCE_REFUSAL = "You are not authorized to complete tasks_api_access action."


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda c: list(c.images.list_tasks()), id="list"),
        pytest.param(lambda c: c.images.get_task("00000000-0000-4000-8000-000000000000"), id="get"),
        pytest.param(
            lambda c: c.images.create_task("import", {"import_from": "http://127.0.0.1/x"}),
            id="create",
        ),
    ],
)
def test_a_member_of_a_default_glance_may_not_use_the_tasks_api(
    glance_admin_only, connect, project, call
):
    client = connect(glance_admin_only, project)

    with pytest.raises(TasksForbidden) as refused:
        call(client)

    assert refused.value.status == 403
    assert refused.value.message == f"this account may not use the tasks API: {GLANCE_REFUSAL}"


def test_an_admin_of_a_default_glance_may_use_the_tasks_api(glance_admin_only, connect):
    """The member's 403 above comes from the policy, not from a broken instance."""
    admin = connect(glance_admin_only, roles="admin,member,reader")
    task_input = {
        "import_from": glance_admin_only.file_server.missing_url(),
        "image_properties": {},
    }

    created = admin.images.create_task("import", task_input)

    assert admin.images.get_task(created.id).owner == admin.project_id
    assert created.id in {task.id for task in admin.images.list_tasks()}


def test_a_restart_with_the_default_policy_closes_the_api_but_keeps_the_tasks(
    glance_factory, connect, project
):
    """A cloud can tighten its policy under the dashboard; tasks stay for admins to see."""
    glance = glance_factory(private=True)
    member = connect(glance, project)
    created = member.images.create_task(
        "import", {"import_from": glance.file_server.missing_url(), "image_properties": {}}
    )
    wait_for_task(member, created.id)

    glance.restart(policy="default")

    with pytest.raises(TasksForbidden):
        member.images.get_task(created.id)
    admin = connect(glance, project, roles="admin")
    assert admin.images.get_task(created.id).status == "failure"
