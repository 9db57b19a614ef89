"""POST /api/v1/tasks/{id}/dismiss and /restore, and the list's dismissed filter: the
table's rules (operators on the tasks they see; never a task in flight), in JSON."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from tests.support.api import Api
from tests.support.factories import make_task

TASKS = "/api/v1/tasks"


def body(response) -> dict:
    return json.loads(response.content)


def names(response) -> list[str]:
    return [item["name"] for item in body(response)["items"]]


@pytest.fixture
def failed(cloud, owner):
    return make_task(cloud, owner, status=statuses.FAILURE, name="web-07")


@pytest.mark.parametrize("who", ["owner", "colleague"])
def test_an_operator_who_sees_the_cloud_dismisses_and_restores_a_failed_task(
    request, api, token_for, failed, who
):
    person = request.getfixturevalue(who)
    token = token_for(person)

    dismissed = api.post(f"{TASKS}/{failed.pk}/dismiss", token=token)

    assert dismissed.status_code == 200
    seen = body(dismissed)
    assert seen["id"] == str(failed.pk) and seen["status"] == "failure"
    assert seen["dismissed_by"] == person.username and seen["dismissed_at"]
    assert names(api.get(TASKS, token=token)) == []
    listed = api.get(TASKS, {"dismissed": "true"}, token=token)
    assert [item["dismissed_by"] for item in body(listed)["items"]] == [person.username]

    restored = api.post(f"{TASKS}/{failed.pk}/restore", token=token)

    assert restored.status_code == 200
    assert (body(restored)["dismissed_at"], body(restored)["dismissed_by"]) == (None, None)
    assert names(api.get(TASKS, token=token)) == ["web-07"]
    assert names(api.get(TASKS, {"dismissed": "true"}, token=token)) == []


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("outsider", 404)])
@pytest.mark.parametrize("action", ["dismiss", "restore"])
def test_a_viewer_gets_a_403_and_an_outsider_a_404(
    request, api, token_for, failed, who, status, action
):
    token = token_for(request.getfixturevalue(who))
    response = api.post(f"{TASKS}/{failed.pk}/{action}", token=token)
    assert response.status_code == status
    assert isinstance(body(response)["detail"], str)
    failed.refresh_from_db()
    assert failed.dismissed_at is None


@pytest.mark.parametrize("status", [statuses.PENDING, statuses.PROCESSING])
def test_a_running_task_is_a_409_and_stays(api, token_for, cloud, owner, status):
    running = make_task(cloud, owner, status=status)

    response = api.post(f"{TASKS}/{running.pk}/dismiss", token=token_for(owner))

    assert response.status_code == 409
    assert body(response)["detail"].startswith("This task is still in flight")
    running.refresh_from_db()
    assert running.dismissed_at is None


def test_a_succeeded_task_is_a_409_and_a_stale_one_is_dismissed(api, token_for, cloud, owner):
    done = make_task(cloud, owner, status=statuses.SUCCESS)
    stale = make_task(cloud, owner, status=statuses.PROCESSING, stale_since=timezone.now())
    token = token_for(owner)

    assert api.post(f"{TASKS}/{done.pk}/dismiss", token=token).status_code == 409
    assert api.post(f"{TASKS}/{stale.pk}/dismiss", token=token).status_code == 200
    assert set(ImageTask.objects.filter(dismissed_at__isnull=False)) == {stale}


def test_dismissing_twice_keeps_the_first_dismissal(api, token_for, failed, owner, colleague):
    first = body(api.post(f"{TASKS}/{failed.pk}/dismiss", token=token_for(owner)))
    again = api.post(f"{TASKS}/{failed.pk}/dismiss", token=token_for(colleague))
    assert again.status_code == 200
    assert body(again)["dismissed_by"] == "owen"
    assert body(again)["dismissed_at"] == first["dismissed_at"]
    assert body(again)["version"] == first["version"]


def test_the_list_pages_the_dismissed_tasks_by_cursor_too(api, token_for, cloud, owner):
    for n in range(3):
        make_task(cloud, owner, status=statuses.FAILURE, name=f"web-{n}")
    ImageTask.objects.update(dismissed_at=timezone.now(), dismissed_by=owner)
    token = token_for(owner)

    first = api.get(TASKS, {"dismissed": "true", "size": 2}, token=token)
    following = api.get(body(first)["next"], token=token)

    assert names(first) == ["web-2", "web-1"] and names(following) == ["web-0"]
    assert "dismissed=1" in body(first)["next"]


def test_a_session_must_send_the_csrf_token_to_dismiss(owner, failed):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    response = Api(browser).post(f"{TASKS}/{failed.pk}/dismiss")
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.dismissed_at is None
