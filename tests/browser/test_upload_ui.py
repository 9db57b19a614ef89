"""Uploading a disk image from the browser, with its progress, then importing it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_a_vhd_with_a_progress_bar_and_imports_it(
    page, django_user_model, local_cloud, beat, tmp_path
):
    disk = vhd_samples.fixed_vhd()
    path = tmp_path / "web-02.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, local_cloud, "ursula", "operators")
    log_in(page, "ursula")

    page.get_by_role("link", name="New import").first.click()
    upload = page.locator("#upload-form")
    expect(upload.get_by_role("button", name="Cancel")).to_be_hidden()  # until an upload runs
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_label("Container").fill("uploads")
    upload.get_by_role("button", name="Upload").click()

    expect(upload.get_by_role("status")).to_contain_text("Uploaded uploads/web-02.vhd")
    # The source browser now shows where the file went.
    expect(page.locator("#browser").get_by_role("link", name="web-02.vhd")).to_be_visible()
    assert upload.locator("progress").evaluate("p => p.value === p.max && p.max > 0")
    form = page.locator("#import-form")
    expect(form.get_by_label("Container")).to_have_value("uploads")
    expect(form.get_by_label("Object", exact=True)).to_have_value("web-02.vhd")
    expect(form.get_by_label("Image name")).to_have_value("web-02")
    with client_for(local_cloud).objects.get_object("uploads", "web-02.vhd") as stored:
        assert b"".join(stored.iter_content()) == disk

    form.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name=re.compile("Import"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    assert ImageTask.objects.get().input["import_from"] == "uploads/web-02.vhd"


def test_an_upload_the_cloud_refuses_shows_why_and_keeps_the_form(
    page, django_user_model, local_cloud, tmp_path
):
    path = tmp_path / "empty.vhd"
    path.write_bytes(b"")
    make_person(django_user_model, local_cloud, "uma", "operators")
    log_in(page, "uma")

    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_role("button", name="Upload").click()

    expect(upload.get_by_role("status")).to_contain_text("The file is empty")
    expect(upload.get_by_role("button", name="Upload")).to_be_enabled()
    expect(page.locator("#import-form").get_by_label("Object", exact=True)).to_have_value("")
