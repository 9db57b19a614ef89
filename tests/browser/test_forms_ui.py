"""Forms with errors: the person is taken to the first thing to fix, and told what it is."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.images.creation import create_image_from_file
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_export_sent_without_an_image_says_pick_one_and_goes_there(
    page, django_user_model, local_cloud, account, tmp_path
):
    path = tmp_path / "disk.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    create_image_from_file(account.project, "web-01", path, "vhd")
    make_person(django_user_model, local_cloud, "erin", "operators")
    log_in(page, "erin")
    page.get_by_role("link", name="New export").click()
    page.get_by_label("Receiving container").fill("")
    page.get_by_role("button", name="Export").click()

    expect(page.get_by_text("Pick the image to export.")).to_be_visible()
    expect(page.get_by_role("radio", name="web-01")).to_be_focused()
    container = page.get_by_label("Receiving container")
    expect(container).to_have_attribute("aria-invalid", "true")
    described = container.get_attribute("aria-describedby").split()
    for element_id in described:
        expect(page.locator(f"#{element_id}")).to_have_count(1)
    look_at(page, "export-form-errors")


def test_an_import_sent_with_a_missing_object_says_so_beside_the_field(
    page, django_user_model, local_cloud
):
    make_person(django_user_model, local_cloud, "ivan", "operators")
    log_in(page, "ivan")
    page.get_by_role("link", name="New import").first.click()
    page.get_by_label("Container").first.fill("images")
    page.get_by_label("Object", exact=True).fill("nothing-here.vhd")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_text("There is no container “images” in this account.")).to_be_visible()
    expect(page.locator("#import-form").get_by_label("Container")).to_be_focused()
    look_at(page, "import-form-errors")


def test_the_login_and_profile_pages_read_well_everywhere(page, django_user_model, local_cloud):
    make_person(django_user_model, local_cloud, "lena", "viewers")
    page.goto("/accounts/login/")
    look_at(page, "login")
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    look_at(page, "login-failed")

    log_in(page, "lena")
    page.get_by_role("link", name="lena").click()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Your settings are saved.")
    look_at(page, "profile-saved")
