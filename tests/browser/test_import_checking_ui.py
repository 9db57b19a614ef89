"""The import page of a cloud nobody has asked yet what it offers, as a person meets it: it
says it is checking, and the ways to import appear by themselves, without a reload; a cloud
that stalls leaves the page answering at once and ends in a plain reason beside the tasks
API form."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.browser.imports import open_new_import
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.openstack.scripted import Reply
from tests.support.clouds import register_cloud
from tests.support.factories import make_cloud

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHECKING = "Checking what this cloud offers…"
# A page that waited for the stalling cloud would take at least the check's 10 s read
# timeout (capabilities.PROBE_TIMEOUT); a loaded machine may take a few seconds to load
# a page that does not.
QUICK = 6


def checking_status(page):
    return page.locator("#import-offer").get_by_role("status")


def open_import_page(page) -> float:
    """New import, as a person clicks it; the seconds the page took to load."""
    started = time.monotonic()
    open_new_import(page)
    return time.monotonic() - started


def test_the_url_form_appears_by_itself_once_the_cloud_has_answered(
    page, django_user_model, live_server, account, workers
):
    cloud = register_cloud(live_server, account, name="fresh", capabilities_checked_at=None)
    make_person(django_user_model, cloud, "nora", "operators")
    log_in(page, "nora")

    open_import_page(page)
    expect(checking_status(page)).to_have_text(CHECKING)
    page.evaluate("window.sameDocument = true")  # gone if the page were loaded again

    expect(page.get_by_role("link", name="From a URL")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Upload from this computer")).to_be_visible()
    expect(page.get_by_text(CHECKING)).to_have_count(0)
    assert page.evaluate("window.sameDocument") is True, "the forms came without a reload"
    look_at(page, "import-checked")

    page.get_by_role("link", name="From a URL").click()
    expect(page.get_by_label("Image URL")).to_be_visible()


def test_a_cloud_that_stalls_leaves_the_page_answering_and_ends_in_the_reason(
    page, django_user_model, scripted, workers
):
    # Every answer would come after a minute; the check gives up after its 10 s read timeout.
    for path in ("versions", "v2/info/import", "v2/info/stores", "v2/tasks", "v2/schemas/task"):
        scripted.on("GET", f"/image/{path}", Reply(json={}, delay=60))
    cloud = make_cloud(
        "stalling", image_endpoint=f"{scripted.url}/image", capabilities_checked_at=None,
        timeout=1.0,
    )  # fmt: skip
    make_person(django_user_model, cloud, "sam", "operators")
    log_in(page, "sam")

    took = open_import_page(page)

    assert took < QUICK, f"the page waited {took:.1f} s for the cloud"
    expect(checking_status(page)).to_have_text(CHECKING)
    look_at(page, "import-checking")
    started = time.monotonic()
    page.get_by_role("link", name="Look again").click()
    page.wait_for_load_state()
    assert time.monotonic() - started < QUICK, "looking again does not wait for the cloud either"
    expect(checking_status(page)).to_have_text(CHECKING)

    failure = page.get_by_role("alert").filter(has_text="Could not find out what stalling offers")
    expect(failure).to_contain_text("no answer: GET", timeout=45_000)
    expect(failure).to_contain_text("so only the tasks API form is shown")
    expect(page.get_by_role("button", name="Import")).to_be_visible()
    expect(page.get_by_role("link", name="From a URL")).to_have_count(0)
    assert len(scripted.requests("GET", "/image/versions")) == 1, "one check for both views"
    look_at(page, "import-check-failed")
