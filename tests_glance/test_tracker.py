"""The dashboard's tracker against a real Glance: submission, polling, discovery, expiry.

Each test registers a dashboard ``Cloud`` for a project of its own on a Glance instance
(a fixed token and the image endpoint as override, as a Glance without Keystone is
configured in the dashboard) and drives the tracker with ``run_tracker``: the
dispatcher's claim and the poller's round, in the test's thread, over real HTTP (see
``tracker_fixtures``). The dashboard's own tables are in the project database (SQLite
under ``IMAGETASKS_VAR_DIR``, or PostgreSQL with ``DATABASE_URL``).

Imports that must stay in flight for a while (discovery, list scans, restarts) read
their source through a ``gated_source``: the file server sends the first 64 KiB and holds
the rest until the test releases it, and Glance keeps the task ``processing`` meanwhile.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask, TaskSnapshot
from imagetasks.dashboard.tracking import discovery, dispatcher, poller, scheduling
from imagetasks.dashboard.tracking.submission import TASKS_FORBIDDEN, submit
from imagetasks.openstack import NotFound
from tests_glance.support import import_through_glance_direct, wait_for_task

pytest_plugins = ["tests_glance.tracker_fixtures"]
pytestmark = pytest.mark.django_db(transaction=True)

GLANCE_FAILURE = "Task failed due to Internal Error"
GLANCE_REFUSAL = "You are not authorized to complete tasks_api_access action."
# What the tracker may show of an import Glance runs to its end, in order.
GLANCE_PROGRESS = (statuses.PENDING, statuses.PROCESSING)
# What Glance logs when, stopping, it waits for the tasks still running.
GLANCE_DRAINING = "Waiting for remaining threads in pool 'tasks_pool'"


def reload(task: ImageTask) -> ImageTask:
    task.refresh_from_db()
    return task


def timeline(task: ImageTask) -> list[str]:
    """The statuses of the task's snapshots, oldest first."""
    return list(task.snapshots.order_by("observed_at", "id").values_list("status", flat=True))


def is_subsequence(seen: Sequence[str], allowed: Sequence[str]) -> bool:
    """Whether ``seen`` is ``allowed`` with some items left out, in order, none repeated."""
    rest = iter(allowed)
    return all(status in rest for status in seen)


def ended(task: ImageTask) -> ImageTask | None:
    task = reload(task)
    return task if task.status in statuses.TERMINAL else None


def import_task(cloud, source: str, name: str, **options) -> ImageTask:
    """Submit a Glance-style import of ``source`` through the dashboard."""
    task_input = client_for(cloud).import_input(source=source, name=name, disk_format="raw")
    return submit(cloud, "import", task_input, **options)


def test_an_import_submitted_through_the_dashboard_is_followed_to_success(
    glance, glance_cloud, run_tracker, project, disk_image, django_user_model
):
    """A 2 MiB import takes Glance a fraction of a second, so the poller may miss
    ``pending`` or ``processing``; whatever it saw is in order and ends in ``success``."""
    cloud = glance_cloud(glance, project)
    alice = django_user_model.objects.create_user("alice")

    task = import_task(cloud, glance.serve_file(disk_image), "web-01", user=alice)

    assert task.remote_id and task.status == statuses.PENDING
    assert task.submitted_by == alice and task.origin == ImageTask.Origin.SUBMITTED
    run_tracker(lambda: ended(task), what="the import to end")
    task = reload(task)
    assert task.status == statuses.SUCCESS, glance.log_tail()
    seen = timeline(task)
    assert seen[-1] == statuses.SUCCESS
    assert is_subsequence(seen, [*GLANCE_PROGRESS, statuses.SUCCESS]), seen
    assert task.message == ""
    assert task.poll_errors == 0 and task.last_error == ""
    assert task.expires_at is not None and task.expires_at > timezone.now()
    image = client_for(cloud).images.get_image(task.result["image_id"])
    assert (image.status, image.name, image.owner) == ("active", "web-01", project)
    assert image.size == disk_image.stat().st_size


def test_an_import_whose_source_answers_404_ends_in_failure_with_glances_message(
    glance, glance_cloud, run_tracker, project
):
    cloud = glance_cloud(glance, project)

    task = import_task(cloud, glance.file_server.missing_url("gone.raw"), "gone")
    run_tracker(lambda: ended(task), what="the import to end")

    task = reload(task)
    assert task.status == statuses.FAILURE
    assert task.message == GLANCE_FAILURE
    assert task.result is None
    last = task.snapshots.order_by("observed_at", "id").last()
    assert (last.status, last.message) == (statuses.FAILURE, GLANCE_FAILURE)
    assert task.poll_errors == 0 and task.last_error == ""


def test_a_glance_whose_policy_keeps_tasks_for_admins_rejects_the_submission_clearly(
    glance_admin_only, glance_cloud, project
):
    """Glance's default policy: the POST is a 403, which the dashboard shows as a refusal
    of the tasks API with Glance's own words, without an exception or a poll."""
    cloud = glance_cloud(glance_admin_only, project)
    source = glance_admin_only.file_server.missing_url("never-fetched.raw")

    task = import_task(cloud, source, "refused")

    assert task.status == statuses.REJECTED
    assert task.message.startswith(TASKS_FORBIDDEN)
    assert task.message.endswith(GLANCE_REFUSAL)
    # Said once: "This account may not use the tasks API: <Glance's text>".
    assert task.message == f"{TASKS_FORBIDDEN}: {GLANCE_REFUSAL}"
    assert task.remote_id is None and not task.watching and task.next_poll_at is None
    assert not task.snapshots.exists()
    assert dispatcher.claim_due(timezone.now() + timedelta(hours=1)) == {}


def test_discovery_adopts_an_import_made_elsewhere_and_leaves_glances_own_tasks_out(
    glance, glance_cloud, run_tracker, connect, project, disk_image, gated_source
):
    """The project's list holds three tasks: one submitted here, one made with the client
    directly (held mid-download), and Glance's own ``api_image_import`` from an
    interoperable import made elsewhere. Discovery adopts the second as a tasks-API import
    and the third as the interoperable import of its image (never as a task of its own
    type), each with its first snapshot; the poller follows them to their end; a second
    discovery adopts nothing."""
    cloud = glance_cloud(glance, project, discover_tasks=True)
    ours = import_task(cloud, glance.serve_file(disk_image), "ours")
    # An import made with another tool, held mid-download so discovery finds it in flight.
    gate, source = gated_source(glance, disk_image.read_bytes(), "elsewhere.raw")
    elsewhere_client = connect(glance, project)
    elsewhere = elsewhere_client.images.create_task(
        "import", elsewhere_client.import_input(source=source, name="elsewhere", disk_format="raw")
    )
    assert gate.started.wait(10), glance.log_tail()
    staged_image = import_through_glance_direct(glance, project, os.urandom(4096))
    listed = {entry.id: entry.type for entry in elsewhere_client.images.list_tasks()}
    (glances_own,) = [task_id for task_id, kind in listed.items() if kind == "api_image_import"]

    adopted_count = discovery.discover(cloud)

    assert adopted_count == 2
    discovered = ImageTask.objects.filter(cloud=cloud, origin=ImageTask.Origin.DISCOVERED)
    adopted = discovered.get(method="")
    assert adopted.remote_id == elsewhere.id
    assert (adopted.type, adopted.name, adopted.submitted_by) == ("import", "elsewhere", None)
    assert adopted.status == statuses.PROCESSING
    assert timeline(adopted) == [statuses.PROCESSING]
    interoperable = discovered.get(remote_id=glances_own)
    assert (interoperable.type, interoperable.method) == ("import", "glance-direct")
    assert interoperable.result["image_id"] == staged_image

    gate.release()
    run_tracker(
        lambda: ended(adopted) and ended(ours) and ended(interoperable), what="the imports to end"
    )

    adopted = reload(adopted)
    assert adopted.status == statuses.SUCCESS, glance.log_tail()
    assert timeline(adopted) == [statuses.PROCESSING, statuses.SUCCESS]
    assert discovery.discover(cloud) == 0
    assert sorted(ImageTask.objects.filter(cloud=cloud).values_list("remote_id", flat=True)) == (
        sorted([ours.remote_id, elsewhere.id, glances_own])
    )
    assert client_for(cloud).images.get_task(glances_own).input["image_id"] == staged_image


def test_with_a_zero_ttl_a_finished_import_keeps_its_record_after_glance_deletes_it(
    glance_expiring, glance_cloud, run_tracker, project, disk_image, connect, monkeypatch
):
    """Glance (TTL 0) expires a task as it ends but deletes it only when its project lists
    tasks. Until then the tracker's check after ``expires_at`` finds it still there and
    looks again later (an hour, shortened here); after a list, that look is a 404 and the
    record is kept, marked gone, and no longer polled.

    The tracker itself lists tasks only with three or more in flight on the cloud (and in
    discovery), so with one task the test's own list stands for whatever lists next."""
    monkeypatch.setattr(scheduling, "EXPIRED_RECHECK", timedelta(seconds=1))
    cloud = glance_cloud(glance_expiring, project)
    task = import_task(cloud, glance_expiring.serve_file(disk_image), "short-lived")

    run_tracker(lambda: ended(task), what="the import to end")
    task = reload(task)
    assert task.status == statuses.SUCCESS, glance_expiring.log_tail()
    assert task.expires_at <= task.remote_updated_at
    finished_at = task.last_polled_at
    snapshots = timeline(task)

    # The check after expiry (EXPIRY_GRACE later): Glance still answers, nothing is gone.
    checked = run_tracker(
        lambda: (t := reload(task)).last_polled_at > finished_at and t,
        timeout=scheduling.EXPIRY_GRACE.total_seconds() + 10,
        what="the check after expiry",
    )
    assert checked.remote_gone_at is None and checked.next_poll_at is not None

    # The project lists its tasks: Glance deletes the expired one.
    assert list(connect(glance_expiring, project).images.list_tasks()) == []
    gone = run_tracker(lambda: reload(task).remote_gone_at and task, what="remote_gone_at")

    assert gone.status == statuses.SUCCESS
    assert gone.result == {"image_id": checked.result["image_id"]}
    assert gone.next_poll_at is None and gone.poll_errors == 0
    assert timeline(gone) == snapshots and snapshots[-1] == statuses.SUCCESS
    with pytest.raises(NotFound):
        client_for(cloud).images.get_task(gone.remote_id)
    assert client_for(cloud).images.get_image(gone.result["image_id"]).status == "active"


def test_with_a_zero_ttl_an_import_deleted_before_its_end_was_seen_is_marked_vanished(
    glance_expiring, glance_cloud, run_tracker, project, disk_image, connect
):
    """The other order: the import ends and the project lists its tasks before the tracker
    polls. Glance answers 404 from then on; after three the tracker says the task vanished,
    keeps the row and its snapshots, and stops polling. The image is there all the same."""
    cloud = glance_cloud(glance_expiring, project)
    task = import_task(cloud, glance_expiring.serve_file(disk_image), "unseen")
    elsewhere = connect(glance_expiring, project)
    finished = wait_for_task(elsewhere, task.remote_id)
    assert finished.status == "success", glance_expiring.log_tail()
    assert list(elsewhere.images.list_tasks()) == []

    run_tracker(lambda: ended(task), what="the tracker to give the task up")

    task = reload(task)
    assert task.status == statuses.VANISHED
    assert task.remote_gone_at is not None
    assert not task.watching and task.next_poll_at is None
    assert task.last_error.startswith(f"NotFound 404: Could not find task {task.remote_id}")
    assert timeline(task) == [statuses.PENDING]
    assert TaskSnapshot.objects.filter(task=task).count() == 1
    assert dispatcher.claim_due(timezone.now() + timedelta(days=3)) == {}
    image = client_for(cloud).images.get_image(finished.result["image_id"])
    assert (image.status, image.name) == ("active", "unseen")


def held_imports(glance, cloud, gated_source, disk_image) -> tuple[list, list[ImageTask]]:
    """Enough imports held mid-download for the poller to follow them with one list request."""
    gates, tasks = [], []
    for n in range(poller.LIST_THRESHOLD):
        gate, source = gated_source(glance, disk_image.read_bytes(), f"batch-{n}.raw")
        tasks.append(import_task(cloud, source, f"batch-{n}"))
        gates.append(gate)
    for gate in gates:
        assert gate.started.wait(10), glance.log_tail()
    return gates, tasks


def track_held_imports_to_their_end(run_tracker, gates, tasks) -> None:
    """Polls until every held import shows ``processing``, then lets them all go and polls
    until each has ended."""
    run_tracker(
        lambda: all(reload(task).status == statuses.PROCESSING for task in tasks),
        what="the polls to show the imports processing",
    )
    for gate in gates:
        gate.release()
    run_tracker(lambda: all(ended(task) for task in tasks), what="the imports to end")


def test_several_imports_in_flight_reach_success_beside_glances_own_tasks(
    glance, glance_cloud, run_tracker, project, disk_image, gated_source
):
    """With three imports in flight the poller would use list scans on other clouds; on
    Glance, whose lists delete expired tasks, it fetches each task instead. Glance's own
    ``api_image_import`` task is neither polled nor adopted."""
    cloud = glance_cloud(glance, project)
    import_through_glance_direct(glance, project, os.urandom(4096))
    gates, tasks = held_imports(glance, cloud, gated_source, disk_image)
    track_held_imports_to_their_end(run_tracker, gates, tasks)

    for task in map(reload, tasks):
        assert task.status == statuses.SUCCESS, glance.log_tail()
        assert timeline(task) == [statuses.PENDING, statuses.PROCESSING, statuses.SUCCESS]
        assert task.poll_errors == 0 and task.result["image_id"]
    assert reload(cloud).list_watermark is None, "no list scan on a Glance"
    assert ImageTask.objects.filter(cloud=cloud).count() == len(tasks)


def test_with_a_zero_ttl_several_imports_in_flight_still_end_in_success(
    glance_expiring, glance_cloud, run_tracker, project, disk_image, gated_source
):
    """Glance deletes a project's expired tasks whenever the project lists tasks, and with
    TTL 0 a task expires as it ends. A list scan would delete an import that had just
    ended before the tracker read it, and it would end up ``vanished`` although it
    succeeded; the tracker therefore never lists on a Glance."""
    cloud = glance_cloud(glance_expiring, project)
    gates, tasks = held_imports(glance_expiring, cloud, gated_source, disk_image)
    track_held_imports_to_their_end(run_tracker, gates, tasks)

    assert [reload(task).status for task in tasks] == [statuses.SUCCESS] * len(tasks)


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def stop_glance(glance) -> None:
    """Stop Glance, then wait until its port is free for the start on the same port.

    After killing uWSGI the harness waits for the master only: its worker may hold the
    listening socket a moment longer, and a start at once then fails to bind."""
    glance.stop()
    deadline = time.monotonic() + 10
    while not port_is_free(glance.port):
        assert time.monotonic() < deadline, f"port {glance.port} still taken after stopping"
        time.sleep(0.1)


def when_logged(glance, text: str, then) -> threading.Thread:
    """A thread that calls ``then()`` once Glance's log has ``text`` in what it adds from now."""
    log = glance.files.glance_log
    offset = log.stat().st_size

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with log.open("rb") as handle:
                handle.seek(offset)
                if text.encode() in handle.read():
                    then()
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=watch, name="glance-log-watch", daemon=True)
    thread.start()
    return thread


def follow_to_processing(glance, glance_cloud, run_tracker, gated_source, project, disk_image):
    """An import held mid-download, which the tracker has seen ``processing``."""
    cloud = glance_cloud(glance, project, stale_after=timedelta(seconds=3), timeout=5.0)
    gate, source = gated_source(glance, disk_image.read_bytes(), "held.raw")
    task = import_task(cloud, source, "restarted")
    assert gate.started.wait(10), glance.log_tail()
    run_tracker(
        lambda: reload(task).status == statuses.PROCESSING, what="the tracker to see processing"
    )
    assert task.poll_errors == 0 and task.last_error == ""
    return cloud, gate, task


def test_a_glance_restart_mid_import_lets_the_import_finish_and_the_tracker_sees_it_succeed(
    restartable_glance, glance_cloud, run_tracker, gated_source, project, disk_image
):
    """A graceful restart: stopping, Glance waits for its running tasks ("Waiting for
    remaining threads in pool 'tasks_pool'"), so an import that can go on ends before the
    API goes away. The tracker's polls while Glance is down fail and are recorded, the
    task is not failed, and after the start the tracker reads its success."""
    glance = restartable_glance
    cloud, gate, task = follow_to_processing(
        glance, glance_cloud, run_tracker, gated_source, project, disk_image
    )

    draining = when_logged(glance, GLANCE_DRAINING, gate.release)
    stop_glance(glance)
    stopped_at = timezone.now()
    draining.join(timeout=1)
    assert gate.released, "Glance stopped without waiting for its running import"
    down = run_tracker(lambda: (t := reload(task)).poll_errors and t, what="a failed poll")
    assert down.status == statuses.PROCESSING and down.watching
    assert down.last_error.startswith("Unavailable: GET "), down.last_error
    glance.start()
    run_tracker(lambda: ended(task), what="the import to end after the restart")

    task = reload(task)
    assert task.status == statuses.SUCCESS, glance.log_tail()
    assert task.remote_updated_at <= stopped_at  # it ended before Glance had stopped
    assert timeline(task) == [statuses.PENDING, statuses.PROCESSING, statuses.SUCCESS]
    assert task.poll_errors == 0  # cleared by the answer after the restart
    assert task.last_error == down.last_error and task.last_error_at == down.last_error_at
    image = client_for(cloud).images.get_image(task.result["image_id"])
    assert (image.status, image.size) == ("active", disk_image.stat().st_size)


def test_a_glance_killed_mid_import_leaves_it_processing_and_the_tracker_flags_it_stale(
    restartable_glance, glance_cloud, run_tracker, gated_source, project, disk_image
):
    """When the running import cannot end (its download is held), the stop waits for it
    until the harness kills Glance (after 15 s). Glance does not resume or fail the task on
    start: it answers ``processing`` for good. The tracker records the failed polls, keeps
    watching the task, and flags it stale once ``stale_after`` (3 s here) has passed."""
    glance = restartable_glance
    cloud, _, task = follow_to_processing(
        glance, glance_cloud, run_tracker, gated_source, project, disk_image
    )

    stop_glance(glance)
    down = run_tracker(lambda: (t := reload(task)).poll_errors and t, what="a failed poll")
    assert down.status == statuses.PROCESSING and down.watching
    assert down.last_error.startswith("Unavailable: GET "), down.last_error
    assert down.stale_since is None  # errors are not "no change"
    glance.start()
    restarted_at = timezone.now()
    stale = run_tracker(
        lambda: (t := reload(task)).stale_since and t,
        what="the stale flag after the restart",
    )

    assert stale.stale_since > restarted_at
    assert stale.status == statuses.PROCESSING
    assert stale.watching and stale.next_poll_at is not None
    assert stale.poll_errors == 0 and stale.last_error == down.last_error
    assert timeline(stale) == [statuses.PENDING, statuses.PROCESSING]
    assert client_for(cloud).images.get_task(task.remote_id).status == "processing"
