"""The audit (Django admin) as staff reach it from the dashboard, at a laptop's width."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from tests.browser.looks import sideways_overflow
from tests.browser.people import log_in, password_of
from tests.support.factories import make_cloud, make_task

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_audit_opens_the_task_list_which_fits_a_laptop_and_links_both_ways(page, django_user_model):
    django_user_model.objects.create_superuser("ada", "ada@example.test", password_of("ada"))
    cloud = make_cloud("a-cloud-with-a-rather-long-name-for-its-region")
    make_task(
        cloud, None, status=statuses.FAILURE, name="a-long-image-name-" + "x" * 40,
        message="Image cannot be imported. Error code: '721'",
    )  # fmt: skip
    page.set_viewport_size({"width": 1366, "height": 768})
    log_in(page, "ada")

    page.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("link", name="imagetasks audit")).to_be_visible()  # branded
    expect(page.get_by_role("heading", name=re.compile("image task"))).to_be_visible()
    assert sideways_overflow(page) <= 0

    page.get_by_role("link", name=re.compile("a-long-image-name")).click()
    page.get_by_role("link", name="Open this task on the dashboard").click()
    expect(page.get_by_role("heading", name=re.compile("Import a-long-image-name"))).to_be_visible()
    page.get_by_role("link", name="This task in the audit").click()
    expect(page.get_by_role("link", name="Open this task on the dashboard")).to_be_visible()
