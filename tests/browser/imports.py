"""Starting an import in the browser as a person does: New import → the cloud in the
picker → how ("From a URL", "Upload from this computer") → the form; and ``follow``, for
any link to a page whose controls need its scripts.

Shared by the suite's browser tests and the Glance tier's.
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, expect

from tests.browser.looks import look_at


def follow(page, link: Locator) -> None:
    """Clicks a plain link; waits until the page it opens has loaded its scripts.

    A person is slower than that; a test is not. Used before the scripts listen, a control
    falls back to what it does without them (a link is followed as a whole page, a chosen
    file is not offered for upload yet, a select or a search box does nothing), which is
    not the flow under test.
    """
    link.click()
    page.wait_for_load_state()


def open_new_import(page) -> None:
    """New import; waits until the page's scripts have loaded (see ``follow``)."""
    follow(page, page.get_by_role("link", name="New import").first)


def choose_cloud(page, cloud) -> None:
    """New import, then the cloud in the picker; waits for that cloud's page."""
    open_new_import(page)
    page.get_by_label("Cloud").select_option(cloud.name)
    # Typed before the page for that cloud has loaded, a field would be lost with the old page.
    expect(page).to_have_url(re.compile(f"cloud={cloud.name}"))


def import_from_url(page, cloud, url: str, name: str, *, look: str = "") -> None:
    """New import → the cloud → "From a URL" → the form → Import; waits for the task's page.

    ``look``: the name to check the filled form under (``look_at``) before pressing Import.
    """
    choose_cloud(page, cloud)
    page.get_by_role("link", name="From a URL").click()
    expect(page).to_have_url(re.compile("how=web-download"))
    expect(page.get_by_role("heading", name=f"Import into {cloud.name}")).to_be_visible()
    page.get_by_label("Image URL").fill(url)
    page.get_by_label("Image name").fill(name)
    page.get_by_label("Disk format").select_option("raw")
    if look:
        look_at(page, look)
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name=re.compile(f"Import {name}"))).to_be_visible()


def open_upload_form(page, cloud) -> Locator:
    """New import → the cloud → "Upload from this computer"; the upload form, once the
    page's scripts listen (without them, a chosen file names nothing and the form is sent
    as a whole page)."""
    choose_cloud(page, cloud)
    follow(page, page.get_by_role("link", name="Upload from this computer"))
    expect(page).to_have_url(re.compile("how=glance-direct"))
    form = page.locator("#image-upload-form")
    expect(form.get_by_role("heading", name=f"Import into {cloud.name}")).to_be_visible()
    return form
