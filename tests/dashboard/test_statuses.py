"""One status map decides what every status means; the model and the poller agree with it."""

from imagetasks.dashboard import statuses
from imagetasks.dashboard.copies import machine
from imagetasks.dashboard.models import Copy, ImageTask


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


def test_every_status_a_copy_can_store_is_in_the_map():
    stored = {code for code, _ in Copy._meta.get_field("status").choices}
    assert stored == set(statuses.COPY_STATUSES)


def test_a_copy_status_is_final_exactly_when_no_step_of_the_machine_runs_for_it():
    assert statuses.COPY_FINAL == {"succeeded", "failed"}
    steps = {statuses.copy_status(code).step for code in statuses.COPY_IN_FLIGHT}
    assert steps == set(machine.STEPS)


def test_every_copy_badge_has_a_symbol_so_it_reads_without_colour():
    assert all(status.icon.strip() for status in statuses.COPY_STATUSES.values())
