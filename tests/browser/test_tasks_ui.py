"""The dashboard in a real chromium against the live built-in cloud, with a worker and beat."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from tests.browser.imports import open_new_import
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_imports_from_the_browser_watches_it_succeed_then_exports_and_downloads(
    page, django_user_model, local_cloud, beat, settings
):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 3  # a few seconds in processing
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "web-01.vhd", disk)
    objects.put_object("images", "notes.txt", b"not a disk")
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    open_new_import(page)
    page.get_by_role("link", name="images").click()  # fetched by htmx into the browser
    expect(page.locator("#browser")).to_contain_text("notes.txt")
    expect(page.get_by_role("heading", name="Pick the source")).to_be_focused()
    page.get_by_role("link", name="notes.txt").click()  # not a VHD: warned, not refused
    warnings = page.locator("#import-warnings")
    expect(warnings).to_contain_text("“notes.txt” does not end in .vhd")
    look_at(page, "import-form-warned")
    page.get_by_role("link", name="web-01.vhd").click()  # fills the form in place
    expect(page.get_by_label("Object", exact=True)).to_have_value("web-01.vhd")
    expect(page.get_by_label("Image name")).to_have_value("web-01")
    expect(warnings).not_to_contain_text("does not end in .vhd")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name=re.compile("Import"))).to_be_visible()
    task = ImageTask.objects.get()
    page.get_by_role("link", name="Tasks", exact=True).click()
    page.evaluate("window.notReloaded = true")
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_have_attribute("data-status", "success", timeout=60_000)
    assert page.evaluate("window.notReloaded") is True
    expect(page).to_have_title("Tasks · imagetasks")
    look_at(page, "tasks-table")

    row.get_by_role("link", name=re.compile("Image ")).click()
    expect(page.get_by_role("heading", name="Image web-01")).to_be_visible()
    look_at(page, "image-page")
    page.get_by_role("link", name="Export this image").click()
    page.get_by_label("Receiving container").fill("exports")
    page.get_by_role("button", name="Export").click()
    export = ImageTask.objects.get(type="export")
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    expect(page.get_by_role("button", name="Stop watching")).to_have_count(0)
    look_at(page, "task-page")

    page.locator("#task-status").get_by_role("link", name=re.compile("^exports")).click()
    look_at(page, "object-page")
    with page.expect_download() as info:
        page.get_by_role("link", name="Download").click()
    path = info.value.path()
    with open(path, "rb") as downloaded:
        assert downloaded.read() == disk
    assert export.cloud == local_cloud


def test_a_viewer_sees_the_tasks_but_no_submit_buttons(page, django_user_model, local_cloud):
    make_person(django_user_model, local_cloud, "vic", "viewers")
    ImageTask.objects.create(
        cloud=local_cloud, type="import", status="failure", remote_id="r-1", name="web",
        input={"import_from": "images/web.vhd", "image_properties": {"name": "web"}},
        message="Image cannot be imported. Error code: '721'",
    )  # fmt: skip
    log_in(page, "vic")
    expect(page.get_by_text("The VHD depends on a parent disk")).to_be_visible()
    expect(page.get_by_role("link", name="New import")).to_have_count(0)
    expect(page.get_by_role("link", name="Import", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Copy", exact=True)).to_have_count(0)
    page.get_by_role("link", name="web", exact=True).click()
    expect(page.get_by_role("heading", name=re.compile("Status"))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Resubmit"))).to_have_count(0)

    page.goto("/tasks/new/import/")  # an old bookmark, say
    expect(page.get_by_role("heading", name="You may not do this")).to_be_visible()
    expect(page.get_by_text("Only operators submit imports")).to_be_visible()
    look_at(page, "forbidden")
    page.get_by_role("link", name="Go to the task table").click()
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()
