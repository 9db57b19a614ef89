"""The task table as people use it: headers that sort both ways, counters that filter,
pages, and the filters behind a toggle on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from tests.browser.looks import PHONE, look_at
from tests.browser.people import log_in, make_person
from tests.support.factories import make_cloud, make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busy_cloud(db):
    """30 tasks: web-00 … web-29, every third one failed, the rest succeeded, one running."""
    cloud = make_cloud("acme")
    now = timezone.now()
    for n in range(30):
        status = statuses.FAILURE if n % 3 == 0 else statuses.SUCCESS
        task = make_task(
            cloud, None, status=status, name=f"web-{n:02d}",
            message="Image cannot be imported. Error code: '721'" if status == "failure" else "",
        )  # fmt: skip
        ImageTask.objects.filter(pk=task.pk).update(submitted_at=now - timedelta(minutes=n))
    make_task(cloud, None, status=statuses.PROCESSING, name="running-01")
    return cloud


def names_shown(page) -> list[str]:
    return page.locator("#task-rows td.name > a").all_inner_texts()


def test_headers_sort_both_ways_counters_filter_and_pages_follow_on(
    page, django_user_model, busy_cloud
):
    make_person(django_user_model, busy_cloud, "tina", "viewers")
    log_in(page, "tina")
    expect(page.get_by_text("1–25 of 31")).to_be_visible()

    page.get_by_role("link", name="Name").click()
    name_header = page.get_by_role("columnheader", name=re.compile("Name"))
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    assert names_shown(page)[:2] == ["running-01", "web-00"]
    page.get_by_role("link", name="Name").click()
    expect(name_header).to_have_attribute("aria-sort", "descending")
    assert names_shown(page)[0] == "web-29"

    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("26–31 of 31")).to_be_visible()
    assert names_shown(page)[-1] == "running-01"

    page.get_by_role("link", name=re.compile("failed in the last 24 h")).click()
    expect(page.get_by_text("1–10 of 10")).to_be_visible()
    expect(page.locator("#task-rows")).to_contain_text("The VHD depends on a parent disk")
    look_at(page, "tasks-filtered")


def test_on_a_phone_the_filters_open_behind_a_toggle(page, django_user_model, busy_cloud):
    make_person(django_user_model, busy_cloud, "pia", "viewers")
    page.set_viewport_size(PHONE)
    log_in(page, "pia")
    status_box = page.get_by_label("Processing", exact=True)
    expect(status_box).to_be_hidden()
    toggle = page.get_by_role("button", name="Filters")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    status_box.check()
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("1–1 of 1")).to_be_visible()
    expect(page.get_by_role("button", name="Filters (on)")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    look_at(page, "tasks-phone-filtered")
