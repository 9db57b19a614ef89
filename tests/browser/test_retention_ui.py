"""A task whose history retention thinned still tells its story: how it began, how it
ended, and that the changes between were removed."""

import pytest
from playwright.sync_api import expect

from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person
from tests.support.factories import make_cloud
from tests.support.retention import KEEP_DAYS, PATH, prune, task_with_history

pytestmark = pytest.mark.browser


def test_a_person_reads_a_pruned_tasks_first_and_last_observation(
    page, django_user_model, settings
):
    settings.KEEP_SNAPSHOTS_DAYS = KEEP_DAYS
    cloud = make_cloud("archive")
    person = make_person(django_user_model, cloud, "olga", "operators")
    task = task_with_history(cloud, PATH, person)
    prune()
    log_in(page, "olga")

    page.locator(f"#task-{task.pk}").get_by_role("link", name="web").click()

    expect(
        page.get_by_text("The changes between the first and the last observation were removed on")
    ).to_be_visible()
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(0)).to_contain_text("Pending")
    expect(timeline.nth(0)).not_to_contain_text("lasted")  # nobody knows any more
    expect(timeline.nth(1)).to_contain_text("Success")
    look_at(page, "task-pruned")
