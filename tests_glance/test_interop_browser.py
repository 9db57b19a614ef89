"""Interoperable import on a stock Glance, from the browser, as a member of a project.

The same ground as ``test_interop_import.py`` (Glance's default policy: the tasks API and
``copy_image`` are for admins; the account has member roles), walked as a person walks
it: Debian's chromium, driven by Playwright, on the dashboard's live server, whose
``Cloud`` rows point at the real Glance. The person logs in, picks the cloud, fills the
visible fields, presses the buttons, and reads the task table, the task's page and the
image's page; each page is checked with axe-core on a desktop, a 390 px phone and in
dark mode (``look_at``, screenshots under ``var/screenshots/glance-*``).

The tracker runs on a thread of its own for each test (``tracker_running``: the
dispatcher's claim and the poller's round, over real HTTP to Glance), so statuses move
while the test's thread drives the browser. The web-download URLs come from the tier's
loopback file server.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import Cloud, ImageTask
from tests.browser.imports import import_from_url, open_upload_form
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests_glance.harness.config import STORES

pytest_plugins = [
    "tests_glance.tracker_fixtures",
    "tests.fixtures.live_server",
    "tests.fixtures.browser",
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GLANCE_FAILURE = "Task failed due to Internal Error"
COPY_REFUSED = "You are not authorized to complete copy_image action."
# Glance may take a few seconds on a loaded machine; the tracker polls every 0.3 to 2 s.
ENDS = 60_000
# The statuses the task's timeline may show of an import on its way, then its end.
ON_ITS_WAY = ("Pending", "Processing")
PERSON = "mila"


@pytest.fixture
def add_cloud(glance_admin_only, glance_cloud, project, django_user_model):
    """``add_cloud(roles=None)``: a ``Cloud`` for the test's project on the stock Glance,
    its capabilities asked for (as an administrator's *Refresh capabilities* does),
    granted to the person of the test, an operator."""
    person = make_person(django_user_model, None, PERSON, "operators")

    def make(roles: str | None = None) -> Cloud:
        cloud = glance_cloud(glance_admin_only, project, roles=roles)
        capabilities.refresh(cloud)
        cloud.users.add(person)
        return cloud

    return make


@pytest.fixture
def member(add_cloud) -> Cloud:
    """The project's cloud with member roles, as most accounts on a public cloud have."""
    return add_cloud()


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def open_tasks_table(page) -> None:
    page.get_by_role("link", name="Tasks", exact=True).first.click()
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()


def timeline_statuses(page) -> list[str]:
    """The statuses the task page's timeline lists, oldest first, each without its icon."""
    badges = page.locator("ol.timeline > li > .badge")
    return [text.strip().split(" ", 1)[-1] for text in badges.all_inner_texts()]


def copy_to_second_store(page) -> None:
    """On a page that offers it: tick the second store, press Copy."""
    copy = page.locator("#store-copy-form")
    expect(copy).to_contain_text(f"The image is in {STORES[0]}.")
    copy.get_by_role("checkbox", name=STORES[1]).check()
    copy.get_by_role("button", name="Copy to these stores").click()


def test_a_member_imports_from_a_url_sees_success_in_the_table_and_reads_the_task_and_image(
    page, glance_admin_only, member, tracker_running, disk_image: Path
):
    log_in(page, PERSON)

    import_from_url(
        page, member, glance_admin_only.serve_file(disk_image), "web-01", look="glance-url-form"
    )
    task = ImageTask.objects.get(cloud=member)
    open_tasks_table(page)
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_have_attribute("data-status", statuses.SUCCESS, timeout=ENDS)
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("web-download")
    expect(row).to_contain_text("Image web-01")
    look_at(page, "glance-tasks-table")
    task.refresh_from_db()
    assert task.remote_id, "the import's own task was read at /v2/images/{id}/tasks"

    row.get_by_role("link", name="web-01", exact=True).click()
    expect(page.get_by_role("heading", name="Import web-01")).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success")
    seen = timeline_statuses(page)
    assert seen and seen[-1] == "Success", seen
    assert set(seen[:-1]) <= set(ON_ITS_WAY), seen
    # The last snapshot as Glance sent it: the image, and its import's own task.
    last = page.locator("ol.timeline > li").last
    last.get_by_text("Raw JSON").click()
    raw = last.locator("pre")
    expect(raw).to_contain_text('"status": "active"')
    expect(raw).to_contain_text('"type": "api_image_import"')
    expect(raw).to_contain_text(f'"id": "{task.remote_id}"')
    state = page.locator("#import-state")
    expect(state).to_contain_text("From a URL")
    expect(state.locator("dd").nth(1)).to_have_text("active")
    expect(state.locator("dd").nth(2)).to_have_text(STORES[0])
    # The member read the import's own task at /v2/images/{id}/tasks.
    expect(state.locator("dd").nth(3)).to_contain_text(f"{task.remote_id} (success)")
    look_at(page, "glance-url-task")

    page.locator("#task-status").get_by_role("link", name="Image web-01").click()
    expect(page.get_by_role("heading", name="Image web-01")).to_be_visible()
    data = disk_image.read_bytes()
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text("active")
    expect(facts).to_contain_text(f"({len(data)} bytes)")
    expect(facts.locator("dd", has_text=md5(data))).to_be_visible()
    expect(facts.locator("dd", has_text=hashlib.sha512(data).hexdigest())).to_be_visible()
    expect(facts).to_contain_text(member.project_id)
    # Glance has no export task: the image page does not offer one.
    expect(page.get_by_role("link", name="Export this image")).to_have_count(0)
    look_at(page, "glance-image")


def test_a_member_uploads_a_qcow2_from_this_computer_and_sees_the_upload_then_success(
    page, member, tracker_running, tmp_path: Path
):
    path = tmp_path / "web-02.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), "16M"], check=True)
    data = path.read_bytes()
    log_in(page, PERSON)
    # What the form's status line and progress bar show, change after change, even as the
    # page then goes on to the task's page.
    seen: list[str] = []
    page.expose_function("noteUpload", lambda note: seen.append(note))
    page.add_init_script(
        """document.addEventListener("DOMContentLoaded", () => {
          const form = document.querySelector("#image-upload-form");
          if (!form) return;
          const status = form.querySelector(".upload-status");
          const bar = form.querySelector("progress");
          new MutationObserver(() => noteUpload(
            `${status.textContent} [${bar.hidden ? "" : bar.value + "/" + bar.max}]`
          )).observe(form, {subtree: true, childList: true, characterData: true,
                            attributes: true, attributeFilter: ["value", "max", "hidden"]});
        });"""
    )

    form = open_upload_form(page, member)
    form.get_by_label("File").set_input_files(str(path))
    # The name and the disk format follow the file, as a person sees them fill in.
    expect(form.get_by_label("Image name")).to_have_value("web-02")
    expect(form.get_by_label("Disk format")).to_have_value("qcow2")
    look_at(page, "glance-upload-form")
    form.get_by_role("button", name="Upload and import").click()

    expect(page.get_by_role("heading", name="Import web-02")).to_be_visible()
    assert any(note.startswith("Uploading") for note in seen), seen
    size = len(data)
    opening = "Uploaded web-02.qcow2: the cloud is importing it. Opening its task…"
    assert f"{opening} [{size}/{size}]" in seen, seen
    status = page.locator("#task-status")
    expect(status).to_contain_text("Success", timeout=ENDS)
    state = page.locator("#import-state")
    expect(state).to_contain_text("Upload")
    expect(state).to_contain_text("glance-direct")
    expect(state.locator("dd").nth(2)).to_have_text(STORES[0])
    look_at(page, "glance-upload-task")

    status.get_by_role("link", name="Image web-02").click()
    facts = page.locator("dl.facts").first
    expect(facts).to_contain_text(f"({len(data)} bytes)")
    expect(facts).to_contain_text("qcow2")
    expect(facts.locator("dd", has_text=md5(data))).to_be_visible()

    open_tasks_table(page)
    task = ImageTask.objects.get(cloud=member)
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("glance-direct")


def test_a_web_download_of_a_url_that_answers_404_shows_failure_with_glances_message(
    page, glance_admin_only, member, tracker_running
):
    log_in(page, PERSON)

    import_from_url(page, member, glance_admin_only.file_server.missing_url("gone.raw"), "gone")
    task = ImageTask.objects.get(cloud=member)
    open_tasks_table(page)

    row = page.locator(f"#task-{task.pk}")
    expect(row).to_have_attribute("data-status", statuses.FAILURE, timeout=ENDS)
    expect(row).to_contain_text("Failure")
    expect(page.locator(f"#task-{task.pk} + .message-row")).to_contain_text(GLANCE_FAILURE)
    look_at(page, "glance-url-failed-table")

    row.get_by_role("link", name="gone", exact=True).click()
    expect(page.locator("#task-status")).to_contain_text(GLANCE_FAILURE)
    expect(page.locator("#import-state")).to_contain_text(f"Failed in{STORES[0]}")
    assert timeline_statuses(page)[-1] == "Failure"


def test_a_members_copy_to_more_stores_is_refused_by_the_clouds_policy_and_no_longer_offered(
    page, glance_admin_only, member, tracker_running, disk_image: Path
):
    log_in(page, PERSON)
    import_from_url(page, member, glance_admin_only.serve_file(disk_image), "web-03")
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=ENDS)

    copy_to_second_store(page)

    expect(page.get_by_role("heading", name="Copy image web-03 to more stores")).to_be_visible()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(
        f"This account may not copy images between stores on {member.name} (the cloud's policy)."
    )
    expect(refusal).to_contain_text(f"It said: {COPY_REFUSED}")
    expect(page.locator("#store-copy-form")).to_have_count(0)
    look_at(page, "glance-copy-refused")

    page.get_by_role("link", name="← Image web-03").click()
    expect(page.get_by_role("heading", name="Image web-03")).to_be_visible()
    expect(page.locator("#store-copy-refused")).to_contain_text("(the cloud's policy)")
    expect(page.locator("#store-copy-form")).to_have_count(0)
    expect(page.locator("dd", has_text=STORES[0]).last).to_be_visible()

    open_tasks_table(page)
    refused = ImageTask.objects.get(cloud=member, method="copy-image")
    expect(page.locator(f"#task-{refused.pk}")).to_contain_text("Rejected")
    expect(page.locator(f"#task-{refused.pk} + .message-row")).to_contain_text(COPY_REFUSED)
    imported = ImageTask.objects.get(cloud=member, method="web-download")
    page.locator(f"#task-{imported.pk}").get_by_role("link", name="web-03", exact=True).click()
    expect(page.locator("#store-copy-refused")).to_be_visible()
    expect(page.locator("#store-copy-form")).to_have_count(0)


def test_the_projects_admin_copies_an_import_to_the_second_store_and_sees_both_stores(
    page, glance_admin_only, add_cloud, tracker_running, disk_image: Path
):
    admin = add_cloud(roles="admin,member,reader")
    log_in(page, PERSON)
    import_from_url(page, admin, glance_admin_only.serve_file(disk_image), "web-04")
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=ENDS)
    look_at(page, "glance-copy-offered")

    copy_to_second_store(page)

    expect(page.get_by_role("heading", name="Import web-04")).to_be_visible()
    status = page.locator("#task-status")
    expect(status).to_contain_text("Success", timeout=ENDS)
    state = page.locator("#import-state")
    expect(state).to_contain_text("Copy to more stores")
    expect(state.locator("dd").nth(2)).to_have_text(", ".join(STORES))
    expect(page.locator("#store-copy-form")).to_have_count(0)  # no store left to copy to
    look_at(page, "glance-copy-task")
    copied = ImageTask.objects.get(cloud=admin, method="copy-image")
    assert copied.input["stores"] == [STORES[1]] and copied.status == statuses.SUCCESS

    status.get_by_role("link", name="Image web-04").click()
    expect(page.locator("dd", has_text=", ".join(STORES))).to_be_visible()
