"""Copying an image from another region (Glance's glance-download), as a person does: open
the import page of a cloud like the seeded demo-glance (a second region with an image in
it), choose "From another region", the region, the image in the picker, press Import, and
watch the task end in the table with a link to the new image."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import expect

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from tests.browser.imports import choose_cloud
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def choose_image_from_the_region(page, cloud: Cloud, image_name: str, *, look: str = "") -> None:
    """New import → the cloud → "From another region" → the region → the image."""
    choose_cloud(page, cloud)
    page.get_by_role("link", name="From another region").click()
    expect(page).to_have_url(re.compile("how=glance-download"))
    page.wait_for_load_state()
    region = settings.LOCALCLOUD_SECOND_REGION
    page.get_by_label("Region").select_option(region)
    expect(page).to_have_url(re.compile(f"region={region}"))
    page.get_by_role("radio", name=image_name).check()
    expect(page.get_by_label("Image name")).to_have_value(image_name)
    if look:
        look_at(page, look)


def test_an_operator_copies_an_image_from_the_second_region_and_sees_it_succeed(
    page, django_user_model, region_cloud, region_image, beat
):
    source = region_image("debian-13")
    make_person(django_user_model, region_cloud, "olga", "operators")
    log_in(page, "olga")

    choose_image_from_the_region(page, region_cloud, "debian-13", look="region-import-form")
    page.get_by_label("Image name").fill("debian-here")
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("heading", name=re.compile("Import debian-here"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    expect(page.locator("#import-state")).to_contain_text("From another region")
    task = ImageTask.objects.get()
    assert (task.method, task.status) == ("glance-download", "success")
    copied = client_for(region_cloud).images.get_image(task.result["image_id"])
    assert copied.checksum == source.checksum

    page.get_by_role("link", name=re.compile("Tasks")).first.click()
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("glance-download")
    expect(row).to_contain_text(f"image {source.id} in {settings.LOCALCLOUD_SECOND_REGION}")
    row.get_by_role("link", name="Image debian-here").click()
    expect(page.get_by_role("heading", name=re.compile("debian-here"))).to_be_visible()
    look_at(page, "region-import-image")


def test_an_image_removed_from_the_region_before_pressing_import_fails_clearly_in_the_table(
    page, django_user_model, region_cloud, region_image, beat
):
    source = region_image("short-lived")
    make_person(django_user_model, region_cloud, "olga", "operators")
    log_in(page, "olga")
    choose_image_from_the_region(page, region_cloud, "short-lived")

    region = settings.LOCALCLOUD_SECOND_REGION
    client_for(region_cloud).images_in(region).delete_image(str(source.id))  # meanwhile
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#task-status")).to_contain_text("Failure", timeout=60_000)
    task = ImageTask.objects.get()
    page.get_by_role("link", name=re.compile("Tasks")).first.click()
    row = page.locator("tbody.task", has=page.locator(f"#task-{task.pk}"))
    expect(row).to_contain_text("Failure")
    expect(row).to_contain_text(f"image {source.id} in {region} → short-lived")
    expect(row.locator(".message-row")).to_contain_text(
        f"Image {source.id} not found in region {region}"
    )
    look_at(page, "region-import-failed")
