"""The notification settings are read strictly, like every other setting."""

from __future__ import annotations

import pytest

from tests.support.settings import start_django


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("IMAGETASKS_BASE_URL", "images.example.com", "IMAGETASKS_BASE_URL='images.example.com'"),
        ("IMAGETASKS_BASE_URL", "ftp://images.example.com", "must start with one of"),
        ("EMAIL_TIMEOUT", "soon", "EMAIL_TIMEOUT='soon' is not a number"),
    ],
)
def test_a_malformed_notification_setting_stops_start_up_naming_it(tmp_path, variable, value, says):
    result = start_django(tmp_path, "", **{variable: value})
    assert result.returncode != 0
    assert says in result.stderr


def test_links_point_at_the_configured_site_without_a_doubled_slash(tmp_path):
    code = (
        "from imagetasks.dashboard.notifications.links import task_url;"
        "print(task_url('5f0c6c2e-2a51-4f8e-9d7a-0c3f4b1e2d3a'))"
    )
    result = start_django(tmp_path, code, IMAGETASKS_BASE_URL="https://images.example.com/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "https://images.example.com/tasks/5f0c6c2e-2a51-4f8e-9d7a-0c3f4b1e2d3a/"
    )
