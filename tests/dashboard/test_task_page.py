"""The task page says what is true for the task's state: finished reads as finished, a
failure that will repeat is not offered again first, times are exact."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from tests.support.factories import add_snapshot, make_task


def page_of(client, task) -> str:
    return client.get(f"/tasks/{task.pk}/").content.decode()


def test_a_finished_task_is_not_watched_and_offers_no_stop(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.SUCCESS, watching=False)
    html = page_of(owner_client, task)
    assert "Watching" not in html and "Stop watching" not in html
    assert "<dt>Took</dt>" in html
    assert "Resubmit with the same input" in html


def test_a_task_in_flight_offers_stop_watching_and_no_resubmit(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.PROCESSING)
    html = page_of(owner_client, task)
    assert "Stop watching" in html and "<dt>Running for</dt>" in html
    assert "Resubmit" not in html


def test_stopping_a_task_that_has_ended_says_so(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.FAILURE, watching=True)
    response = owner_client.post(f"/tasks/{task.pk}/stop/", follow=True)
    assert "This task has already ended (Failure)." in response.content.decode()
    task.refresh_from_db()
    assert task.watching is True  # nothing was changed


def test_the_result_is_named_after_the_image(owner_client, cloud, owner):
    task = make_task(
        cloud, owner, status=statuses.SUCCESS, name="web-01", result={"image_id": "i-1"}
    )
    html = page_of(owner_client, task)
    assert '<a href="/clouds/acme/images/i-1/">Image web-01</a>' in html
    assert "<h1>Import web-01</h1>" in html


def test_a_result_no_url_can_carry_is_shown_as_text(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.SUCCESS, name="", result={"image_id": "a/b<i>"})
    response = owner_client.get(f"/tasks/{task.pk}/")
    assert response.status_code == 200
    assert 'Image a/b&lt;i&gt; <span class="muted">(not a value' in response.content.decode()
    assert owner_client.get("/").status_code == 200


def test_how_the_task_came_here_is_said_once(owner_client, cloud, owner):
    html = page_of(owner_client, make_task(cloud, owner))
    assert re.search(r"<dt>Submitted</dt><dd><time [^>]+>[^<]+</time> by owen</dd>", html)
    assert "(Submitted)" not in html
    found = page_of(owner_client, make_task(cloud, None, origin="discovered"))
    assert "<dt>Found on the cloud</dt>" in found


def test_the_way_back_keeps_the_table_s_filters(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.FAILURE)
    owner_client.get("/?status=failure&q=web")
    html = page_of(owner_client, task)
    assert '<a href="/?status=failure&amp;q=web">← Tasks (as filtered)</a>' in html


def test_the_timeline_shows_seconds_and_how_long_each_status_lasted(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.SUCCESS)
    pending = add_snapshot(task, "pending")
    done = add_snapshot(task, "success")
    type(done).objects.filter(pk=done.pk).update(
        observed_at=pending.observed_at + timedelta(seconds=42)
    )
    html = page_of(owner_client, task)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>", html)
    assert "lasted 42 s" in html


@pytest.mark.parametrize(
    ("message", "source", "says"),
    [
        ("Image cannot be imported. Error code: '721'", "images/a.vhd", "depends on a parent"),
        ("Image cannot be imported. Error code: '111'", "images/a.vhd", "did not pass validation"),
        ("Image cannot be imported. Error code: '396'", "images/disk.img", "is not a VHD"),
    ],
)
def test_a_failure_that_will_repeat_is_not_offered_again_first(
    owner_client, cloud, owner, message, source, says
):
    task = make_task(
        cloud, owner, status=statuses.FAILURE, message=message,
        input={"import_from": source, "image_properties": {"name": "a"}},
    )  # fmt: skip
    html = page_of(owner_client, task)
    assert says in html
    assert "The same input will fail the same way" in html
    assert '<button type="submit" aria-describedby="resubmit-repeats">Resubmit anyway' in html


def test_a_passing_396_on_a_vhd_offers_resubmit_first(owner_client, cloud, owner):
    task = make_task(
        cloud, owner, status=statuses.FAILURE,
        message="Image cannot be imported. Error code: '396'",
    )  # fmt: skip
    html = page_of(owner_client, task)
    assert "often a passing problem" in html
    assert '<button type="submit" class="primary">Resubmit with the same input' in html
    assert ImageTask.objects.count() == 1
