"""Known failure messages get a hint in words; unknown ones get none rather than a wrong one."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.hints import hint_for


@pytest.mark.parametrize(
    ("message", "words", "resubmit"),
    [
        ("Image cannot be imported. Error code: '396'", "passing problem", True),
        ("Image cannot be imported. Error code: '111'", "did not pass validation", False),
        ("Image cannot be imported. Error code: '413'", "too large", False),
        ("Image cannot be imported. Error code: '523'", "fixed or dynamic", False),
        ("Image cannot be imported. Error code: '609'", "physical size", False),
        ("Image cannot be imported. Error code: '614'", "all zeros", False),
        ("Image cannot be imported. Error code: '721'", "parent disk", False),
        ("Error: Image not found for import. Possible invalid location", "not found", False),
        ("Error: Swift could not find object web.vhd.", "not found", False),
        (
            "Object already exists in user's container. Container/Object: e/x.vhd",
            "overwrite",
            False,
        ),
        ("An image may only be exported by the image owner.", "another account", False),
        ("Container not found. Container: exports", "does not exist", False),
        ("Task failed due to Internal Error", "Glance API log", False),
        ("This account may not use the tasks API: 403 Forbidden", "policy", False),
        (
            "Unsupported element in image_properties, please consult the documentation.",
            "'name'",
            False,
        ),
    ],
)
def test_each_known_failure_message_gets_its_hint(message, words, resubmit):
    hint = hint_for(message)
    assert hint is not None
    assert words in hint.title + " " + hint.advice
    assert hint.resubmit is resubmit


@pytest.mark.parametrize("message", ["", None, "Something nobody has seen before"])
def test_an_unknown_message_gets_no_hint(message):
    assert hint_for(message) is None


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.0587, "0.06 s"),
        (0.00034, "under 0.01 s"),
        (4.05, "4.0 s"),
        (65, "1 min 5 s"),
        (42, "42 s"),
        (3 * 3600 + 610, "3 h 10 min"),
    ],
)
def test_timeline_gaps_read_as_people_say_them(seconds, said):
    from datetime import timedelta

    from imagetasks.dashboard.templatetags.tasks import duration

    assert duration(timedelta(seconds=seconds)) == said
