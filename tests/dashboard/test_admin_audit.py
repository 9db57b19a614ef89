"""The audit admin: exports with history (no secrets, cells escaped), resubmission, and
snapshots nobody can add, change or delete."""

from __future__ import annotations

import json

import pytest

from imagetasks.dashboard.models import ImageTask, TaskSnapshot
from tests.support.factories import add_snapshot, make_cloud, make_task

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def auditor(django_user_model, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return django_user_model.objects.create_superuser("audra", password="pw-audra-123")


@pytest.fixture
def failed_task(db):
    cloud = make_cloud()
    cloud.set_secret("top-secret-api-key")
    cloud.save()
    task = make_task(cloud, status="failure", message="=1+1 " + SCRIPT)
    add_snapshot(task, "pending")
    add_snapshot(task, "failure", task.message)
    return task


def run_action(client, action: str, task: ImageTask):
    return client.post(
        "/admin/dashboard/imagetask/",
        {"action": action, "_selected_action": [str(task.pk)]},
    )


def test_the_csv_export_has_the_history_escaped_and_no_secret(client, auditor, failed_task):
    client.force_login(auditor)
    response = run_action(client, "export_csv", failed_task)
    body = b"".join(response.streaming_content).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 3  # header + one line per snapshot
    assert "'=1+1 " + SCRIPT in body
    assert "top-secret-api-key" not in body and failed_task.cloud.secret_encrypted not in body


def test_the_json_export_has_each_task_with_its_snapshots(client, auditor, failed_task):
    client.force_login(auditor)
    response = run_action(client, "export_json", failed_task)
    data = json.loads(b"".join(response.streaming_content))
    assert [s["status"] for s in data[0]["snapshots"]] == ["pending", "failure"]
    assert "top-secret-api-key" not in json.dumps(data)


def test_the_admin_shows_a_cloud_message_escaped(client, auditor, failed_task):
    client.force_login(auditor)
    html = client.get(f"/admin/dashboard/imagetask/{failed_task.pk}/change/").content.decode()
    assert SCRIPT not in html and "&lt;script&gt;" in html


def test_resubmit_selected_makes_a_linked_new_task(client, auditor, failed_task):
    client.force_login(auditor)
    run_action(client, "resubmit_selected", failed_task)
    new = ImageTask.objects.exclude(pk=failed_task.pk).get()
    assert new.resubmitted_from == failed_task and new.input == failed_task.input


@pytest.mark.parametrize("how", ["add", "change", "delete"])
def test_nobody_adds_changes_or_deletes_snapshots_in_the_admin(client, auditor, failed_task, how):
    client.force_login(auditor)
    snapshot = failed_task.snapshots.first()
    url = {
        "add": "/admin/dashboard/tasksnapshot/add/",
        "change": f"/admin/dashboard/tasksnapshot/{snapshot.pk}/change/",
        "delete": f"/admin/dashboard/tasksnapshot/{snapshot.pk}/delete/",
    }[how]
    response = client.post(url, {"status": "success"})
    assert response.status_code == 403
    assert TaskSnapshot.objects.filter(pk=snapshot.pk, status="pending").exists()
