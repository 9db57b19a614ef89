"""Copying an image to more of its cloud's stores (Glance's copy-image), as a person does:
from a successful import's page or the image's page, tick the stores, press Copy, and
watch the copy end; and choosing the store of an import from a URL."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.submission import submit
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.openstack.scripted import Reply
from tests.support.tracking import finished
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = b"a raw disk image " * 4096


def test_an_operator_copies_a_successful_import_to_the_second_store(
    page, django_user_model, local_cloud, files, beat
):
    capabilities.refresh(local_cloud)
    files.on("GET", "/disk.raw", Reply(body=DATA))
    image_properties = {"name": "cirros", "disk_format": "raw"}
    imported = submit(
        local_cloud,
        "import",
        {"uri": f"{files.url}/disk.raw", "image_properties": image_properties},
        method="web-download",
    )
    wait_for(lambda: finished(imported), what="the import to finish")
    assert imported.status == statuses.SUCCESS
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    page.goto(f"/tasks/{imported.pk}/")
    copy = page.locator("#store-copy-form")
    expect(copy).to_contain_text("The image is in fast.")
    expect(copy.get_by_role("checkbox", name="fast (default)")).to_have_count(0)
    copy.get_by_role("checkbox", name="cheap").check()
    look_at(page, "store-copy-form")
    copy.get_by_role("button", name="Copy to these stores").click()

    expect(page.get_by_role("heading", name=re.compile("Import cirros"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    expect(page.locator("#import-state")).to_contain_text("Copy to more stores")
    expect(page.locator("#import-state dd").nth(2)).to_have_text("fast, cheap")
    expect(page.locator("#store-copy-form")).to_have_count(0)  # no store left to copy to
    copied = ImageTask.objects.exclude(pk=imported.pk).get()
    assert copied.method == "copy-image" and copied.input["stores"] == ["cheap"]

    page.locator("#task-status").get_by_role("link", name="Image cirros").click()
    expect(page.locator("dd", has_text="fast, cheap")).to_be_visible()


def test_a_copy_allowed_to_fail_in_some_stores_shows_where_it_partly_succeeded(
    page, django_user_model, local_cloud, source_image, settings, beat
):
    settings.LOCALCLOUD_STORES = ["fast", "cheap", "slow"]
    settings.LOCALCLOUD_FAULT_FAILING_STORES = ["slow"]  # writes to "slow" fail
    capabilities.refresh(local_cloud)
    image = source_image(local_cloud, "web-07")
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    page.goto(f"/clouds/{local_cloud.name}/images/{image.id}/")
    copy = page.locator("#store-copy-form")
    copy.get_by_role("checkbox", name="cheap").check()
    copy.get_by_role("checkbox", name="slow").check()
    copy.get_by_label("Allow some stores to fail").check()
    copy.get_by_role("button", name="Copy to these stores").click()

    status = page.locator("#task-status")
    expect(status).to_contain_text("Success", timeout=60_000)
    expect(status).to_contain_text("Import partly succeeded: failed in slow.")
    expect(page.locator("#import-state")).to_contain_text("Failed in")
    look_at(page, "store-copy-partial")
    task = ImageTask.objects.get()
    assert task.result["partial"] is True and task.result["stores"] == ["fast", "cheap"]
    assert task.input["all_stores_must_succeed"] is False
    # "slow" is still offered: the copy can be tried there again.
    retry = page.locator("#store-copy-form")
    expect(retry.get_by_role("checkbox", name="slow")).to_be_visible()
    expect(retry.get_by_role("checkbox", name="cheap")).to_have_count(0)


def test_an_import_from_a_url_goes_to_the_store_picked(
    page, django_user_model, local_cloud, files, beat
):
    capabilities.refresh(local_cloud)
    files.on("GET", "/disk.raw", Reply(body=DATA))
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    page.goto(f"/tasks/new/import/?cloud={local_cloud.name}&how=web-download")
    stores = page.get_by_role("group", name="Stores")
    expect(stores.get_by_role("checkbox", name="fast (default)")).to_be_checked()
    page.get_by_label("Image URL").fill(f"{files.url}/disk.raw")
    page.get_by_label("Image name").fill("cheap-one")
    page.get_by_label("Disk format").select_option("raw")
    stores.get_by_role("checkbox", name="fast (default)").uncheck()
    stores.get_by_role("checkbox", name="cheap").check()
    look_at(page, "url-import-stores")
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    expect(page.locator("#import-state dd").nth(2)).to_have_text("cheap")
