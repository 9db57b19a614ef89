"""Resubmitting a failed task from its page, as an operator does, against the live cloud."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.support.factories import make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_failure_that_will_repeat_says_so_and_can_still_be_resubmitted(
    page, django_user_model, local_cloud
):
    rita = make_person(django_user_model, local_cloud, "rita", "operators")
    failed = make_task(
        local_cloud, rita, status=statuses.FAILURE, name="web-07", watching=False,
        message="Image cannot be imported. Error code: '721'",
    )  # fmt: skip
    log_in(page, "rita")
    page.get_by_role("link", name="web-07").click()

    expect(page.get_by_text("The same input will fail the same way")).to_be_visible()
    again = page.get_by_role("button", name="Resubmit anyway")
    expect(again).not_to_have_class(re.compile("primary"))
    expect(page.get_by_role("button", name="Stop watching")).to_have_count(0)
    look_at(page, "task-failed")
    again.click()

    expect(page.get_by_role("status")).to_contain_text("Resubmitted as a new task")
    new = ImageTask.objects.exclude(pk=failed.pk).get()
    assert new.resubmitted_from == failed and new.name == "web-07"
    expect(page.get_by_role("link", name=str(failed.pk))).to_be_visible()  # linked back
    look_at(page, "task-resubmitted")
