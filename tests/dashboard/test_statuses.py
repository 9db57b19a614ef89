"""One status map decides what every status means; the model and the poller agree with it."""

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask


def test_every_status_a_task_can_store_is_in_the_map():
    stored = {code for code, _ in ImageTask._meta.get_field("status").choices}
    assert stored == set(statuses.STATUSES)


def test_the_remote_statuses_are_exactly_those_of_the_images_api():
    assert statuses.REMOTE_STATUSES == {"pending", "processing", "success", "failure"}


def test_a_status_is_either_in_flight_or_terminal():
    assert statuses.IN_FLIGHT | statuses.TERMINAL == set(statuses.STATUSES)
    assert not statuses.IN_FLIGHT & statuses.TERMINAL


def test_only_remote_statuses_in_flight_are_polled():
    assert statuses.POLLED == {"pending", "processing"}


def test_every_badge_has_a_symbol_so_it_reads_without_colour():
    assert all(status.icon.strip() for status in statuses.STATUSES.values())


def test_an_unknown_status_from_a_cloud_keeps_being_polled():
    odd = statuses.get("queued-for-review")
    assert odd.in_flight and odd.poll
    assert odd.label == "Queued-For-Review"
