"""Exporting by picking the image in the list, as a person does, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.browser.imports import follow
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def images(account, tmp_path):
    path = tmp_path / "disk.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    return [
        create_image_from_file(account.project, name, path, "vhd") for name in ("db-01", "web-01")
    ]


def test_an_operator_picks_an_image_in_the_list_presses_export_and_sees_success(
    page, django_user_model, local_cloud, images, beat
):
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    follow(page, page.get_by_role("link", name="New export"))  # the search box is htmx's
    expect(page.get_by_role("heading", name="New export")).to_be_visible()
    page.get_by_label("Name contains").fill("web")  # the list narrows as one types
    expect(page.get_by_role("radio", name="db-01")).to_have_count(0)
    page.get_by_role("radio", name="web-01").click()
    look_at(page, "export-form")
    page.get_by_role("button", name="Export").click()

    expect(page.get_by_role("heading", name=re.compile("Export"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    task = ImageTask.objects.get()
    assert task.input["image_uuid"] == str(images[1].id)
    expect(page.get_by_role("heading", name=re.compile("web-01"))).to_be_visible()


def test_without_javascript_the_picked_image_is_the_one_submitted(
    browser, live_server, django_user_model, local_cloud, images
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        make_person(django_user_model, local_cloud, "nils", "operators")
        log_in(page, "nils")
        page.get_by_role("link", name="New export").click()
        page.get_by_role("radio", name="db-01").click()
        page.get_by_role("button", name="Export").click()

        expect(page.get_by_role("heading", name=re.compile("Export"))).to_be_visible()
        assert ImageTask.objects.get().input["image_uuid"] == str(images[0].id)
    finally:
        context.close()


def test_the_picker_keeps_the_choice_across_a_search_and_works_from_the_keyboard(
    page, django_user_model, local_cloud, images
):
    make_person(django_user_model, local_cloud, "kira", "operators")
    log_in(page, "kira")
    follow(page, page.get_by_role("link", name="New export"))  # the search box is htmx's

    search = page.get_by_label("Name contains")
    search.focus()
    page.keyboard.press("Tab")  # the Search button
    page.keyboard.press("Tab")  # into the list: the first image
    page.keyboard.press("ArrowDown")  # radios move and choose with the arrow keys
    expect(page.get_by_role("radio", name="web-01")).to_be_checked()

    search.fill("db")  # the chosen image stays, pinned above what the search found
    expect(page.get_by_role("radio", name="db-01")).to_be_visible()
    expect(page.get_by_role("radio", name="web-01")).to_be_checked()
    expect(page.locator("#image-choices")).to_contain_text("(chosen)")
    expect(search).to_be_focused()  # the live search never takes the focus away
    look_at(page, "export-picker-searched")
