"""A person finds their settings from the header and switches completion emails off."""

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.models import Profile
from tests.browser.people import log_in

pytestmark = pytest.mark.browser


def test_a_person_switches_completion_emails_off_from_the_header(page, operator, screenshot):
    operator.email = "olivia@example.test"
    operator.save()
    log_in(page, "olivia", "s3cret-pass-olivia")

    page.get_by_role("link", name="olivia").click()
    expect(page.get_by_role("heading", name="Your settings")).to_be_visible()
    expect(page.get_by_text("olivia@example.test")).to_be_visible()
    box = page.get_by_label("Email me when a task I submitted finishes")
    expect(box).to_be_checked()

    box.uncheck()
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Your settings are saved.")).to_be_visible()
    expect(page.get_by_label("Email me when a task I submitted finishes")).not_to_be_checked()
    assert Profile.objects.get(user=operator).email_on_completion is False
    screenshot("profile-emails-off")


def test_a_person_without_an_address_is_told_no_email_can_come(page, operator):
    log_in(page, "olivia", "s3cret-pass-olivia")

    page.get_by_role("link", name="olivia").click()
    expect(page.get_by_text("Your account has no email address")).to_be_visible()
