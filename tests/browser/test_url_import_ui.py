"""Importing from a URL (Glance's web-download), as a person does: pick the cloud, choose
"From a URL", give the URL, press Import, and watch it end in the table and on its page.
The URLs are served on loopback by the test, the only hosts the built-in cloud fetches."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import ImageTask
from tests.browser.imports import choose_cloud, import_from_url
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.openstack.scripted import Reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DATA = b"a raw disk image " * 4096


def test_an_operator_imports_from_a_url_and_sees_success_in_the_table_and_on_the_task_page(
    page, django_user_model, local_cloud, files, beat
):
    files.on("GET", "/images/cirros.raw", Reply(body=DATA))
    capabilities.refresh(local_cloud)
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    import_from_url(
        page, local_cloud, f"{files.url}/images/cirros.raw", "cirros", look="url-import-form"
    )

    status = page.locator("#task-status")
    expect(status).to_contain_text("Success", timeout=60_000)
    expect(page.locator("#import-state")).to_contain_text("fast")
    expect(page.locator("#import-state")).to_contain_text("From a URL")
    look_at(page, "url-import-task")
    task = ImageTask.objects.get()
    assert (task.method, task.status) == ("web-download", "success")

    page.get_by_role("link", name=re.compile("Tasks")).first.click()
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("web-download")


def test_a_url_that_answers_404_ends_in_failure_with_glances_message(
    page, django_user_model, local_cloud, files, beat
):
    capabilities.refresh(local_cloud)
    make_person(django_user_model, local_cloud, "olga", "operators")
    log_in(page, "olga")

    import_from_url(page, local_cloud, f"{files.url}/missing.raw", "ghost")

    expect(page.locator("#task-status")).to_contain_text("Failure", timeout=60_000)
    expect(page.locator("#task-status")).to_contain_text("Task failed due to Internal Error")
    expect(page.locator("#import-state")).to_contain_text("Failed in")
    look_at(page, "url-import-failed")


def test_a_member_of_an_account_refused_the_tasks_api_imports_from_a_url(
    page, django_user_model, local_cloud, account, files, beat
):
    account.project.tasks_api = "admin"  # stock Glance: /v2/tasks is for admins only
    account.project.save()
    capabilities.refresh(local_cloud)
    files.on("GET", "/disk.raw", Reply(body=DATA))
    make_person(django_user_model, local_cloud, "mia", "operators")
    log_in(page, "mia")

    choose_cloud(page, local_cloud)
    expect(page.get_by_label("Image URL")).to_be_visible()
    expect(page.get_by_role("link", name="Tasks API")).to_have_count(0)
    page.get_by_label("Image URL").fill(f"{files.url}/disk.raw")
    page.get_by_label("Image name").fill("members-image")
    page.get_by_label("Disk format").select_option("raw")
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
