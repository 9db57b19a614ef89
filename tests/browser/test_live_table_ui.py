"""An open task table notices work started elsewhere within seconds, and a hidden tab
costs nothing until it is looked at again."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.models import ImageTask
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.support.factories import make_task
from tests.support.workers import manage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Lets a test hide the tab and show it again, as switching tabs does: the page reads
# document.visibilityState, which a headless browser always reports as "visible".
VISIBILITY = """
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: () => window.__visibility || "visible" });
Object.defineProperty(document, "hidden", {
  configurable: true, get: () => window.__visibility === "hidden" });
window.__setVisibility = (state) => {
  window.__visibility = state;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""


def rows_requests(page) -> list[str]:
    requests: list[str] = []
    page.on("request", lambda r: "/tasks/rows/" in r.url and requests.append(r.url))
    return requests


def test_a_task_submitted_from_the_command_line_appears_in_the_open_table_within_seconds(
    page, django_user_model, local_cloud
):
    make_person(django_user_model, local_cloud, "carl", "operators")
    log_in(page, "carl")
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    look_at(page, "tasks-empty")

    task_input = {"import_from": "images/cli.vhd", "image_properties": {"name": "from-cli"}}
    result = manage(
        "submit_task", "--cloud", "local", "--type", "import", "--input", json.dumps(task_input)
    )
    assert result.returncode == 0, result.stderr
    submitted = time.monotonic()

    # An idle table asks every 4 s (tables.IDLE_REFRESH), about five seconds on an idle
    # machine; a loaded one may take seconds more to answer and draw. A table that did not
    # refresh by itself would never show the row.
    row = page.get_by_role("link", name="from-cli")
    expect(row).to_be_visible(timeout=12_000)
    appeared = time.monotonic() - submitted
    assert appeared < 12, f"the row took {appeared:.1f} s"
    print(f"CLI submission to row in the open table: {appeared:.2f} s")
    assert ImageTask.objects.get().name == "from-cli"


def test_a_hidden_tab_does_not_poll_and_refreshes_at_once_when_shown_again(
    page, django_user_model, local_cloud
):
    carl = make_person(django_user_model, local_cloud, "carl", "operators")
    page.add_init_script(VISIBILITY)
    page.clock.install()
    log_in(page, "carl")
    requests = rows_requests(page)

    page.evaluate("window.__setVisibility('hidden')")
    make_task(local_cloud, carl, name="while-away")
    page.wait_for_timeout(5_000)  # more than the idle interval (4 s)
    assert requests == []
    expect(page.get_by_role("link", name="while-away")).to_have_count(0)

    # Stop the page's timers: only becoming visible can fetch the rows now.
    page.clock.pause_at(datetime.now() + timedelta(seconds=1))
    page.evaluate("window.__setVisibility('visible')")
    # No timer fires any more, so the row can only come from the tab being shown: the
    # wait allows for a loaded machine answering slowly.
    expect(page.get_by_role("link", name="while-away")).to_be_visible(timeout=10_000)
    assert len(requests) == 1
