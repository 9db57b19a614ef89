"""Copying an image to another cloud from a real chromium, against the live built-in cloud."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Copy
from tests.browser.imports import follow
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_picks_an_image_copies_it_and_watches_the_copy_finish(
    page, django_user_model, source_cloud, target_cloud, source_image, copy_beat
):
    image = source_image(source_cloud, "web-01")
    source_image(source_cloud, "db-01")
    olga = make_person(django_user_model, source_cloud, "olga", "operators")
    target_cloud.users.add(olga)
    log_in(page, "olga")

    follow(page, page.get_by_role("link", name="Copy", exact=True))  # in the top bar
    expect(page.get_by_role("heading", name="Copy an image to another cloud")).to_be_visible()
    page.get_by_label("Cloud", exact=True).select_option(source_cloud.name)  # loads at once
    page.get_by_role("radio", name="web-01").click()
    expect(page.get_by_label("Name in the target")).to_have_value("web-01")  # named after it
    page.get_by_label("Target cloud").select_option(target_cloud.name)
    look_at(page, "copy-form")
    page.get_by_label("Name in the target").fill("web-01-ord")
    page.get_by_role("button", name="Copy").click()

    expect(page.get_by_role("heading", name=re.compile("Copy web-01"))).to_be_visible()
    page.evaluate("window.notReloaded = true")
    status = page.locator("#copy-status")
    expect(status).to_have_attribute("data-status", "succeeded", timeout=90_000)
    assert page.evaluate("window.notReloaded") is True
    timeline = page.locator("#copy-timeline")
    for step in ("export", "transfer", "import", "cleanup"):
        expect(timeline.locator(f'li[data-step="{step}"][data-outcome="succeeded"]')).to_have_count(
            1
        )
    expect(status).to_contain_text("Copied")
    look_at(page, "copy-page")

    copy = Copy.objects.get()
    status.get_by_role("link", name="web-01-ord").click()
    expect(page.get_by_role("heading", name="Image web-01-ord")).to_be_visible()
    copied = client_for(target_cloud).images.get_image(copy.target_image_id)
    assert copied.checksum == image.checksum
    page.get_by_role("link", name="Tasks", exact=True).click()
    expect(page.locator(f"#copy-{copy.pk}")).to_have_attribute("data-status", "succeeded")
