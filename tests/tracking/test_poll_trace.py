"""What a poll job says it holds and asks about (``tracking/trace.py``), as the tracker
benchmark's recorder writes it down (``bench/poll_windows.py``), against the scripted cloud:
each task is out of the job's hands as soon as the job has written it, while the job goes on
with the others, and a task the job never claimed is only asked about."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bench.poll_windows import Recorder, count_overlapping, read_jobs, read_windows
from imagetasks.dashboard import jobs, statuses
from imagetasks.dashboard.models import ImageTask
from tests.openstack.samples import task_schema
from tests.openstack.scripted import Reply, ScriptedCloud
from tests.tracking.test_poller import TASKS, at, detail, entry, serve, serve_list

# Committed for real: a release is signalled once its write is committed.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def recorded(tmp_path):
    """The recorder listening in this process, as in a benchmark's worker; its directory."""
    recorder = Recorder(tmp_path).connect()
    yield tmp_path
    recorder.disconnect()


def test_a_scan_fetches_what_ended_then_releases_each_task_as_it_writes_it(
    cloud, scripted: ScriptedCloud, recorded
):
    scripted.on("GET", "/image/v2/schemas/task", Reply(json=task_schema("import", "export")))
    until = timezone.now() + timedelta(seconds=60)
    claimed = {
        name: ImageTask.objects.create(
            cloud=cloud, type="import", remote_id=name, status="processing", name=name,
            remote_updated_at=at(10), next_poll_at=timezone.now(), claimed_until=until,
        )
        for name in ("ends", "moves", "quiet", "still")
    }  # fmt: skip
    # Watched, but claimed by no job (a later tick would claim it): the scan sees it end.
    ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="other", status="processing", name="other",
        remote_updated_at=at(10),
    )  # fmt: skip
    serve_list(
        scripted,
        [
            entry("other", "success", 31),
            entry("ends", "success", 30),
            entry("moves", "processing", 28),
            entry("quiet", "processing", 10),
            entry("still", "processing", 10),
        ],
    )
    serve(scripted, detail("ends", "success", 30), detail("other", "success", 31))
    ids = [str(task.pk) for task in claimed.values()]

    jobs.poll_cloud.apply(args=(cloud.pk, ids, until.isoformat()))

    assert ImageTask.objects.filter(status=statuses.SUCCESS).count() == 2
    assert sorted(r.path.rsplit("/", 1)[-1] for r in scripted.requests("GET")
                  if r.path.startswith(TASKS + "/")) == ["ends", "other"]  # fmt: skip
    windows = read_windows(recorded)
    by_task = {w.task: w for w in windows}
    name_of = {str(task.pk): name for name, task in claimed.items()}
    held = {name_of[w.task]: w for w in windows if w.held}
    assert set(held) == {"ends", "moves", "quiet", "still"}, "one window per claimed task"
    assert held["ends"].end < held["moves"].end, "the end is fetched before moves are written"
    assert held["moves"].end < held["quiet"].end
    assert held["quiet"].end == held["still"].end, "the unchanged ones, released together"
    (asked,) = [w for w in windows if not w.held]
    assert asked.task == str(ImageTask.objects.get(name="other").pk)
    assert len(by_task) == 5 and count_overlapping(windows) == 0
    assert all(w.lease_until == pytest.approx(until.timestamp()) for w in windows)
    ((job),) = read_jobs(recorded)
    assert (job.handed, job.taken) == (4, 4)
    assert job.start <= min(w.start for w in windows if w.held)
    assert job.end >= max(w.end for w in windows)


def test_a_job_that_comes_after_its_claim_was_taken_over_holds_nothing(
    cloud, scripted: ScriptedCloud, recorded
):
    now = timezone.now()
    task = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="late", status="processing", name="late",
        remote_updated_at=at(10), next_poll_at=now, claimed_until=now + timedelta(seconds=61),
    )  # fmt: skip
    stale_claim = now + timedelta(seconds=60)  # the claim this job was sent with, taken over

    jobs.poll_cloud.apply(args=(cloud.pk, [str(task.pk)], stale_claim.isoformat()))

    assert read_windows(recorded) == []
    ((job),) = read_jobs(recorded)
    assert (job.handed, job.taken) == (1, 0)
    assert scripted.requests("GET") == []
