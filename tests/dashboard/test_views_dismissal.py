"""Dismissing tasks that were dealt with: from a row, from the task page, all of a filter;
restoring them; who may, and which tasks never are."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses, tables
from imagetasks.dashboard.models import ImageTask
from tests.support.factories import make_cloud, make_task


@pytest.fixture(autouse=True)
def fixed_minute(monkeypatch):
    """The table's version includes the minute; a test must not straddle two."""
    monkeypatch.setattr(tables, "time_bucket", lambda: 1)


@pytest.fixture
def failed(cloud, owner):
    return make_task(
        cloud, owner, status=statuses.FAILURE, name="web-07", watching=False,
        message="Image cannot be imported. Error code: '721'",
    )  # fmt: skip


def table(client, query: str = "") -> str:
    return client.get(f"/{query}").content.decode()


def shown(html: str) -> list[str]:
    return re.findall(r'id="task-link-[^"]+" href="[^"]+">([^<]+)</a>', html)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("who", ["owner", "colleague"])
def test_an_operator_who_sees_the_cloud_dismisses_a_failed_task_from_its_row(
    request, client, failed, cloud, owner, who
):
    person = request.getfixturevalue(who)
    client.force_login(person)
    make_task(cloud, owner, status=statuses.SUCCESS, name="db-01")
    assert shown(table(client, "?status=failure&status=success")) == ["db-01", "web-07"]

    response = client.post(
        f"/tasks/{failed.pk}/dismiss/", {"table": "status=failure&status=success"}, follow=True
    )

    assert response.redirect_chain == [("/?status=failure&status=success", 302)]
    assert messages_of(response) == [
        "Dismissed “web-07”. It is kept under Dismissed, where it can be restored."
    ]
    assert shown(response.content.decode()) == ["db-01"]
    failed.refresh_from_db()
    assert failed.dismissed_by == person and failed.dismissed_at is not None
    assert failed.status == statuses.FAILURE and failed.message  # nothing else changed
    dismissed = table(client, "?dismissed=1")
    assert shown(dismissed) == ["web-07"]
    assert re.search(rf"Dismissed <time [^>]+>now</time> by {person.username}", dismissed)


def test_a_viewer_cannot_dismiss_or_restore_and_sees_no_such_buttons(client, viewer, failed):
    client.force_login(viewer)
    assert client.post(f"/tasks/{failed.pk}/dismiss/").status_code == 403
    ImageTask.objects.filter(pk=failed.pk).update(dismissed_at=timezone.now())
    assert client.post(f"/tasks/{failed.pk}/restore/").status_code == 403
    assert client.get("/tasks/dismiss/").status_code == 403
    assert client.post("/tasks/dismiss/").status_code == 403
    page = table(client, "?dismissed=1") + client.get(f"/tasks/{failed.pk}/").content.decode()
    assert "web-07" in page and "Dismissed" in page
    assert "/restore/" not in page and "/dismiss/" not in page
    failed.refresh_from_db()
    assert failed.dismissed_by is None and failed.dismissed_at is not None


def test_an_outsider_gets_a_404_and_the_task_stays(client, outsider, failed):
    client.force_login(outsider)
    assert client.post(f"/tasks/{failed.pk}/dismiss/").status_code == 404
    assert client.post(f"/tasks/{failed.pk}/restore/").status_code == 404
    failed.refresh_from_db()
    assert failed.dismissed_at is None


@pytest.mark.parametrize(
    "status", [statuses.PENDING, statuses.PROCESSING, statuses.SUBMITTING, statuses.UNCONFIRMED]
)
def test_a_task_in_flight_is_never_dismissed_even_when_the_request_names_it(
    owner_client, cloud, owner, status
):
    running = make_task(cloud, owner, status=status, name="web-08")
    assert "/dismiss/" not in owner_client.get(f"/tasks/{running.pk}/").content.decode()

    response = owner_client.post(f"/tasks/{running.pk}/dismiss/", follow=True)

    assert response.redirect_chain == [(f"/tasks/{running.pk}/", 302)]
    (message,) = messages_of(response)
    assert message.startswith("This task is still in flight")
    running.refresh_from_db()
    assert running.dismissed_at is None
    assert shown(table(owner_client)) == ["web-08"]


def test_a_task_that_succeeded_is_not_dismissed(owner_client, cloud, owner):
    done = make_task(cloud, owner, status=statuses.SUCCESS)
    response = owner_client.post(f"/tasks/{done.pk}/dismiss/", follow=True)
    assert messages_of(response)[0].startswith("This task succeeded")
    done.refresh_from_db()
    assert done.dismissed_at is None


@pytest.mark.parametrize("status", [statuses.REJECTED, statuses.LOST, statuses.VANISHED])
def test_rejected_unsubmitted_and_vanished_tasks_can_be_dismissed(
    owner_client, cloud, owner, status
):
    task = make_task(cloud, owner, status=status)
    owner_client.post(f"/tasks/{task.pk}/dismiss/")
    task.refresh_from_db()
    assert task.dismissed_at is not None


def test_a_stale_task_can_be_dismissed_from_its_page_and_goes_on_being_watched(
    owner_client, cloud, owner
):
    stale = make_task(
        cloud, owner, status=statuses.PROCESSING, stale_since=timezone.now(), name="stuck"
    )
    page = owner_client.get(f"/tasks/{stale.pk}/").content.decode()
    assert f'action="/tasks/{stale.pk}/dismiss/"' in page

    response = owner_client.post(f"/tasks/{stale.pk}/dismiss/", follow=True)

    assert response.redirect_chain == [(f"/tasks/{stale.pk}/", 302)]
    stale.refresh_from_db()
    assert stale.dismissed_at is not None and stale.watching
    html = response.content.decode()
    assert "by owen: out of the table" in html and "Restore to the table" in html


def test_restoring_brings_a_task_back_into_the_table(owner_client, colleague, failed, client):
    owner_client.post(f"/tasks/{failed.pk}/dismiss/", follow=True)
    client.force_login(colleague)

    response = client.post(f"/tasks/{failed.pk}/restore/", {"table": "dismissed=1"}, follow=True)

    assert response.redirect_chain == [("/?dismissed=1", 302)]
    assert messages_of(response) == ["Restored “web-07” to the table."]
    assert "No dismissed task" in response.content.decode()
    failed.refresh_from_db()
    assert (failed.dismissed_at, failed.dismissed_by) == (None, None)
    assert shown(table(client)) == ["web-07"]


def test_dismissing_twice_or_restoring_what_is_not_dismissed_changes_nothing(owner_client, failed):
    owner_client.post(f"/tasks/{failed.pk}/dismiss/", follow=True)
    failed.refresh_from_db()
    first = (failed.dismissed_at, failed.version)
    again = owner_client.post(f"/tasks/{failed.pk}/dismiss/", follow=True)
    assert messages_of(again) == ["“web-07” was already dismissed."]
    failed.refresh_from_db()
    assert (failed.dismissed_at, failed.version) == first
    owner_client.post(f"/tasks/{failed.pk}/restore/", follow=True)
    twice = owner_client.post(f"/tasks/{failed.pk}/restore/", follow=True)
    assert messages_of(twice) == ["“web-07” was not dismissed."]


def test_the_row_forms_carry_no_csrf_token_of_their_own_and_one_form_holds_it(owner_client, failed):
    html = table(owner_client, "?status=failure")
    assert html.count("csrfmiddlewaretoken") == 2  # the log-out form and the rows' form
    form = re.search(r'<form id="row-actions"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'name="table" value="status=failure"' in form
    button = re.search(r"<button[^>]*>Dismiss</button>", html).group(0)
    assert 'form="row-actions"' in button
    assert f'formaction="/tasks/{failed.pk}/dismiss/"' in button
    assert f'hx-post="/tasks/{failed.pk}/dismiss/"' in button


def test_rows_drawn_for_an_operator_show_no_buttons_to_a_viewer(
    owner_client, client, viewer, failed
):
    assert "Dismiss web-07" in table(owner_client)
    client.force_login(viewer)
    html = table(client)
    assert "web-07" in html and "Dismiss web-07" not in html


def test_a_dismissal_elsewhere_changes_what_the_live_table_shows(owner_client, failed, cloud):
    make_task(cloud, None, status=statuses.SUCCESS, name="db-01")
    html = table(owner_client)
    version = re.search(r'data-version="([0-9a-f]+)"', html).group(1)
    assert owner_client.get(f"/tasks/rows/?v={version}").status_code == 204

    owner_client.post(f"/tasks/{failed.pk}/dismiss/")

    rows = owner_client.get(f"/tasks/rows/?v={version}", HTTP_HX_REQUEST="true")
    assert rows.status_code == 200 and shown(rows.content.decode()) == ["db-01"]


def test_the_counters_leave_dismissed_tasks_out(owner_client, failed, cloud, owner):
    make_task(cloud, owner, status=statuses.FAILURE, name="web-09")
    assert "<strong>2</strong> failed in the last 24 h" in table(owner_client)
    owner_client.post(f"/tasks/{failed.pk}/dismiss/")
    assert "<strong>1</strong> failed in the last 24 h" in table(owner_client)


# Dismissing all of a filter ---------------------------------------------------------


@pytest.fixture
def mixed(cloud, owner, colleague):
    """On ``cloud``: three failures (one of them colleague's, one an export), a rejected
    import, a stale one, one running, one that succeeded, one already dismissed; and a
    failure on a cloud the owner does not see."""
    now = timezone.now()
    tasks = {
        "f1": make_task(cloud, owner, status=statuses.FAILURE, name="f1"),
        "f2": make_task(cloud, colleague, status=statuses.FAILURE, name="f2"),
        "f3": make_task(cloud, owner, status=statuses.FAILURE, name="f3", type="export"),
        "rejected": make_task(cloud, owner, status=statuses.REJECTED, name="rejected"),
        "stale": make_task(cloud, owner, status=statuses.PROCESSING, name="stale",
                           stale_since=now),
        "running": make_task(cloud, owner, status=statuses.PROCESSING, name="running"),
        "done": make_task(cloud, owner, status=statuses.SUCCESS, name="done"),
        "gone": make_task(cloud, owner, status=statuses.FAILURE, name="gone",
                          dismissed_at=now - timedelta(days=1)),
        "elsewhere": make_task(make_cloud("globex"), None, status=statuses.FAILURE,
                               name="elsewhere"),
    }  # fmt: skip
    return tasks


def dismissed_names() -> set[str]:
    return set(ImageTask.objects.filter(dismissed_at__isnull=False).values_list("name", flat=True))


def test_the_table_offers_to_dismiss_all_it_shows_when_all_it_shows_failed(owner_client, mixed):
    html = table(owner_client, "?status=failure&status=rejected")
    assert "Dismiss all 4 shown" in html
    assert 'href="/tasks/dismiss/?status=failure&amp;status=rejected"' in html
    for mixed_or_none in ("", "?status=failure&status=processing", "?status=success"):
        assert "Dismiss all" not in table(owner_client, mixed_or_none)
    assert "Dismiss all" not in table(owner_client, "?status=failure&dismissed=1")
    assert "Dismiss all" not in table(owner_client, "?status=failure&q=nothing-like-it")


def test_the_confirmation_says_how_many_and_what_stays(owner_client, mixed):
    html = " ".join(owner_client.get("/tasks/dismiss/?type=import").content.decode().split())
    assert "<h1" in html and "Dismiss 4 tasks?" in html
    assert "4 of the 6 tasks of this filter (type import), on every page, failed" in html
    assert "The others, in flight or succeeded, stay." in html
    assert '<button type="submit" class="primary">Dismiss 4 tasks</button>' in html


def test_dismissing_all_takes_only_the_ended_tasks_of_the_filter_the_person_may_act_on(
    owner_client, mixed
):
    page = owner_client.get("/tasks/dismiss/?type=import").content.decode()
    shown_at = re.search(r'name="shown_at" value="([^"]+)"', page).group(1)

    response = owner_client.post(
        "/tasks/dismiss/?type=import&page=2", {"shown_at": shown_at}, follow=True
    )

    assert response.redirect_chain == [("/?type=import", 302)]
    assert messages_of(response) == ["Dismissed 4 tasks."]
    assert dismissed_names() == {"f1", "f2", "rejected", "stale", "gone"}
    assert shown(response.content.decode()) == ["done", "running"]
    assert ImageTask.objects.get(name="f1").dismissed_by.username == "owen"


def test_dismissing_all_leaves_a_task_that_failed_after_the_count_was_shown(
    owner_client, cloud, owner
):
    make_task(cloud, owner, status=statuses.FAILURE, name="seen")
    page = owner_client.get("/tasks/dismiss/").content.decode()
    shown_at = re.search(r'name="shown_at" value="([^"]+)"', page).group(1)
    assert "Dismiss 1 task?" in page
    make_task(cloud, owner, status=statuses.FAILURE, name="new")

    response = owner_client.post("/tasks/dismiss/", {"shown_at": shown_at}, follow=True)

    assert messages_of(response) == ["Dismissed 1 task."]
    assert dismissed_names() == {"seen"}


def test_nothing_to_dismiss_says_so(owner_client, cloud, owner):
    make_task(cloud, owner, status=statuses.PENDING)
    html = owner_client.get("/tasks/dismiss/").content.decode()
    assert "Nothing to dismiss" in html and "<form method" not in html.split("<main")[1]
    response = owner_client.post("/tasks/dismiss/", follow=True)
    assert messages_of(response) == ["Nothing was dismissed: no task of this filter could be."]


@pytest.mark.parametrize("shown_at", ["yesterday", "2026-01-01T10:00:00"])
def test_a_time_the_page_did_not_write_is_a_400(owner_client, mixed, shown_at):
    response = owner_client.post("/tasks/dismiss/", {"shown_at": shown_at})
    assert response.status_code == 400
    assert dismissed_names() == {"gone"}


def test_a_filter_carried_by_a_row_form_is_read_as_the_table_reads_it(owner_client, failed):
    response = owner_client.post(
        f"/tasks/{failed.pk}/dismiss/", {"table": "status=nope&cloud=a\x00b&page=x&next=//evil"}
    )
    assert response["Location"] == "/?cloud=ab"


def test_past_ten_thousand_the_button_says_more_than(owner_client, mixed, monkeypatch):
    monkeypatch.setattr(tables, "COUNT_CAP", 3)
    html = table(owner_client, "?status=failure&status=rejected&size=2")
    assert "Dismiss all (more than 3) shown" in html
