"""Dismissing tasks that were dealt with, as an operator does: one from its row, the
Dismissed view with who and when, restoring; all of a filter after a confirmation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.support.factories import make_cloud, make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def acme(db):
    """A failed import, one that succeeded and one still running, newest first."""
    cloud = make_cloud("acme")
    now = timezone.now()
    for minutes, status, name in [
        (1, statuses.FAILURE, "web-07"),
        (2, statuses.SUCCESS, "db-01"),
        (3, statuses.PROCESSING, "build-02"),
    ]:
        task = make_task(
            cloud, None, status=status, name=name, watching=status == statuses.PROCESSING,
            message="Image cannot be imported. Error code: '721'" if status == "failure" else "",
        )  # fmt: skip
        ImageTask.objects.filter(pk=task.pk).update(submitted_at=now - timedelta(minutes=minutes))
    return cloud


def names_shown(page) -> list[str]:
    return page.locator("#task-rows td.name > a").all_inner_texts()


def test_a_failed_task_dismissed_from_its_row_leaves_the_table_and_is_restored_from_dismissed(
    page, django_user_model, acme
):
    make_person(django_user_model, acme, "dora", "operators")
    log_in(page, "dora")
    expect(page.get_by_role("link", name="web-07")).to_be_visible()
    expect(page.get_by_role("button", name="Dismiss build-02")).to_have_count(0)  # running
    expect(page.get_by_role("button", name="Dismiss db-01")).to_have_count(0)  # succeeded
    look_at(page, "tasks-with-dismiss")

    page.get_by_role("button", name="Dismiss web-07").click()

    expect(page.get_by_role("status")).to_contain_text("Dismissed “web-07”")
    expect(page.get_by_role("link", name="web-07")).to_have_count(0)
    assert names_shown(page) == ["db-01", "build-02"]
    expect(page.get_by_text("0 failed in the last 24 h")).to_be_visible()

    page.get_by_role("link", name="Dismissed tasks").click()

    expect(page.get_by_role("heading", name="Dismissed tasks")).to_be_visible()
    expect(page.get_by_text("failed in the last 24 h")).to_have_count(0)  # counts the others
    assert names_shown(page) == ["web-07"]
    who_and_when = re.compile(r"Dismissed (now|.* ago) by dora")
    expect(page.locator("#task-rows")).to_contain_text(who_and_when)
    expect(page.get_by_label("Dismissed", exact=True)).to_be_checked()
    look_at(page, "tasks-dismissed-view")

    page.get_by_role("link", name="web-07").click()
    expect(page.locator("#dismissed")).to_contain_text("by dora")
    expect(page.get_by_role("button", name="Restore to the table")).to_be_visible()
    look_at(page, "task-dismissed")
    page.go_back()

    page.get_by_role("button", name="Restore web-07").click()

    expect(page.get_by_role("status")).to_contain_text("Restored “web-07” to the table.")
    expect(page.get_by_text("No dismissed task")).to_be_visible()
    page.get_by_role("link", name="Back to the tasks").first.click()
    expect(page.get_by_role("link", name="web-07")).to_be_visible()
    assert names_shown(page) == ["web-07", "db-01", "build-02"]
    assert ImageTask.objects.get(name="web-07").dismissed_at is None


def test_dismissing_all_the_failures_of_a_filter_asks_first_and_says_how_many(
    page, django_user_model, acme
):
    for n in range(1, 4):
        make_task(acme, None, status=statuses.REJECTED, name=f"refused-{n}")
    make_person(django_user_model, acme, "dina", "operators")
    log_in(page, "dina")

    page.get_by_role("link", name=re.compile("4 failed in the last 24 h")).click()
    expect(page.get_by_text("1–4 of 4")).to_be_visible()
    look_at(page, "tasks-failed-dismiss-all")
    page.get_by_role("link", name="Dismiss all 4 shown").click()

    expect(page.get_by_role("heading", name="Dismiss 4 tasks?")).to_be_visible()
    expect(page.get_by_text("All 4 tasks of this filter")).to_be_visible()
    look_at(page, "dismiss-all-confirm")
    page.get_by_role("button", name="Dismiss 4 tasks").click()

    expect(page.get_by_role("status")).to_contain_text("Dismissed 4 tasks.")
    expect(page.get_by_text("No task matches these filters")).to_be_visible()
    expect(page.get_by_text("0 failed in the last 24 h")).to_be_visible()
    page.get_by_role("link", name="Show all").click()
    assert names_shown(page) == ["db-01", "build-02"]  # running and succeeded stay

    page.get_by_role("link", name="Dismissed tasks").click()
    expect(page.get_by_text("1–4 of 4")).to_be_visible()
    look_at(page, "tasks-dismissed-all")


def test_without_javascript_the_row_button_still_dismisses(
    browser, live_server, django_user_model, acme
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        make_person(django_user_model, acme, "nils", "operators")
        log_in(page, "nils")
        page.get_by_role("button", name="Dismiss web-07").click()

        expect(page.get_by_role("status")).to_contain_text("Dismissed “web-07”")
        expect(page.get_by_role("link", name="web-07")).to_have_count(0)
        assert ImageTask.objects.get(name="web-07").dismissed_by.username == "nils"
    finally:
        context.close()
