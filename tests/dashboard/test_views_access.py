"""Who gets what: every page and fragment for the owner, a colleague, a viewer, an
outsider and an anonymous visitor."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.models import ImageTask
from tests.support.factories import client_for_user, make_task

PEOPLE = ["owner", "colleague", "viewer", "outsider", "anonymous"]


def person(request, who):
    return None if who == "anonymous" else request.getfixturevalue(who)


def url_for(path: str, task: ImageTask) -> str:
    return path.format(task=task.pk, cloud=task.cloud.name)


def assert_answered_as_allowed(response, who: str, expected: dict[str, int]) -> None:
    """An anonymous visitor is sent to log in; anyone else gets the status ``expected``
    gives for them."""
    if who == "anonymous":
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    else:
        assert response.status_code == expected[who]


# (path, {person: expected status}) for GETs.
READS = [
    ("/", {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 200}),
    ("/tasks/rows/", {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 200}),
    ("/tasks/{task}/", {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 404}),
    (
        "/tasks/{task}/?v=1",
        {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 404},
    ),
    ("/tasks/new/import/", {"owner": 200, "colleague": 200, "viewer": 403, "outsider": 200}),
    (
        "/tasks/new/import/?cloud={cloud}",
        {"owner": 200, "colleague": 200, "viewer": 403, "outsider": 404},
    ),
    (
        "/tasks/new/export/?cloud={cloud}",
        {"owner": 200, "colleague": 200, "viewer": 403, "outsider": 404},
    ),
    (
        "/clouds/{cloud}/browse/?container=images",
        {"owner": 200, "colleague": 200, "viewer": 403, "outsider": 404},
    ),
    # The cloud is down in these tests: the result pages say so instead of failing.
    (
        "/clouds/{cloud}/images/abc/",
        {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 404},
    ),
    (
        "/clouds/{cloud}/objects/exports/abc.vhd",
        {"owner": 200, "colleague": 200, "viewer": 200, "outsider": 404},
    ),
    (
        "/clouds/{cloud}/download/exports/abc.vhd",
        {"owner": 502, "colleague": 502, "viewer": 502, "outsider": 404},
    ),
    ("/tasks/dismiss/", {"owner": 200, "colleague": 200, "viewer": 403, "outsider": 200}),
]

WRITES = [
    ("/tasks/{task}/resubmit/", {"owner": 302, "colleague": 302, "viewer": 403, "outsider": 404}),
    ("/tasks/{task}/stop/", {"owner": 302, "colleague": 302, "viewer": 403, "outsider": 404}),
    ("/tasks/{task}/dismiss/", {"owner": 302, "colleague": 302, "viewer": 403, "outsider": 404}),
    ("/tasks/{task}/restore/", {"owner": 302, "colleague": 302, "viewer": 403, "outsider": 404}),
    # All of a filter: an outsider sees no task, so there is nothing to dismiss.
    ("/tasks/dismiss/", {"owner": 302, "colleague": 302, "viewer": 403, "outsider": 302}),
]


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize(("path", "expected"), READS, ids=[p for p, _ in READS])
def test_each_page_answers_each_person_as_their_access_allows(
    request, client, task, who, path, expected
):
    response = client_for_user(client, person(request, who)).get(url_for(path, task))
    assert_answered_as_allowed(response, who, expected)


@pytest.mark.parametrize("who", PEOPLE)
@pytest.mark.parametrize(("path", "expected"), WRITES, ids=[p for p, _ in WRITES])
def test_each_action_answers_each_person_as_their_access_allows(
    request, client, task, who, path, expected
):
    response = client_for_user(client, person(request, who)).post(url_for(path, task))
    assert_answered_as_allowed(response, who, expected)


@pytest.mark.parametrize(
    "path", ["/tasks/new/import/?cloud={cloud}", "/tasks/new/export/?cloud={cloud}"]
)
def test_a_viewer_cannot_post_a_form(client, viewer, task, path):
    client.force_login(viewer)
    response = client.post(url_for(path, task), {"cloud": task.cloud.name})
    assert response.status_code == 403
    assert ImageTask.objects.count() == 1


def test_an_outsider_does_not_see_the_tasks_of_a_cloud_not_granted(client, outsider, task):
    client.force_login(outsider)
    page = client.get("/").content.decode()
    assert str(task.pk) not in page
    assert "No tasks yet" in page


def test_a_colleague_sees_the_tasks_of_the_owner_through_the_group(client, colleague, task):
    client.force_login(colleague)
    assert str(task.pk) in client.get("/").content.decode()


def test_a_viewer_sees_no_submit_buttons(client, viewer, task):
    client.force_login(viewer)
    table = client.get("/").content.decode()
    detail = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "New import" not in table and "/tasks/new/import/" not in table
    assert "Resubmit" not in detail and "Stop watching" not in detail
    assert "/dismiss/" not in table and "/dismiss/" not in detail
    filtered = client.get("/?status=pending").content.decode()
    assert "Dismiss all" not in filtered


def test_a_superuser_sees_every_cloud(client, django_user_model, task):
    admin = django_user_model.objects.create_superuser("root", password="x-root-pass")
    client.force_login(admin)
    assert client.get(f"/tasks/{task.pk}/").status_code == 200


def test_the_groups_exist_after_migrating(db):
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {"operators", "viewers"}


def test_every_post_needs_the_csrf_token(task, owner):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    for path in ("resubmit", "stop", "dismiss", "restore"):
        assert strict.post(f"/tasks/{task.pk}/{path}/").status_code == 403
    assert strict.post("/tasks/dismiss/").status_code == 403
    for form in ("import", "export"):
        response = strict.post(f"/tasks/new/{form}/?cloud={task.cloud.name}", {})
        assert response.status_code == 403
    assert ImageTask.objects.count() == 1


def test_stop_watching_ends_polling_and_says_tasks_cannot_be_cancelled(client, owner, task):
    client.force_login(owner)
    response = client.post(f"/tasks/{task.pk}/stop/", follow=True)
    task.refresh_from_db()
    assert (task.watching, task.next_poll_at) == (False, None)
    assert "cannot be cancelled" in response.content.decode()


def test_resubmitting_links_the_new_task_to_the_old_one_both_ways(client, owner, task):
    client.force_login(owner)
    response = client.post(f"/tasks/{task.pk}/resubmit/")
    new = ImageTask.objects.exclude(pk=task.pk).get()
    assert response["Location"] == f"/tasks/{new.pk}/"
    assert new.resubmitted_from == task and new.origin == "resubmitted"
    assert new.input == task.input and new.submitted_by == owner
    old_page = client.get(f"/tasks/{task.pk}/").content.decode()
    new_page = client.get(f"/tasks/{new.pk}/").content.decode()
    assert str(new.pk) in old_page and str(task.pk) in new_page


def test_another_cloud_s_task_is_a_404_even_for_an_operator(client, owner, db):
    from tests.support.factories import make_cloud

    other = make_task(make_cloud("globex"))
    client.force_login(owner)
    assert client.get(f"/tasks/{other.pk}/").status_code == 404
