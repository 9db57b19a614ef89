"""The poller against a scripted cloud on loopback: what it reads, what it asks, what it stores.

No worker runs here: each test claims rows itself and calls ``poller.poll`` the way the
poll job does, so the cloud's answers (and their order) are exactly the test's.
"""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imagetasks.dashboard import jobs, statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import asking, dispatcher, poller
from imagetasks.openstack.images import ImagesApi
from tests.openstack.samples import task_schema
from tests.openstack.scripted import Reply, ScriptedCloud

pytestmark = pytest.mark.django_db

TASKS = "/image/v2/tasks"
# Remote timestamps are whole seconds from here on.
EPOCH = datetime(2026, 5, 5, 17, 0, tzinfo=UTC)
ENDED = {statuses.SUCCESS, statuses.FAILURE}


def at(second: int) -> datetime:
    return EPOCH + timedelta(seconds=second)


def entry(remote_id: str, status: str = "processing", second: int = 0) -> dict:
    """A task in list view: no input, result or message."""
    body = {
        "id": remote_id,
        "type": "import",
        "status": status,
        "owner": "demo",
        "created_at": at(0).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": at(second).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "self": f"/v2/tasks/{remote_id}",
        "schema": "/v2/schemas/task",
    }
    if status in ENDED:
        body["expires_at"] = at(second + 48 * 3600).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def detail(remote_id: str, status: str = "processing", second: int = 0, **fields) -> dict:
    """The same task in full view."""
    result = {"image_id": f"image-{remote_id}"} if status == statuses.SUCCESS else None
    message = "Image not found for import." if status == statuses.FAILURE else ""
    body = entry(remote_id, status, second) | {"input": {}, "result": result, "message": message}
    return body | fields


def claimed(cloud: Cloud, remote_id: str, status: str = "processing", second: int = 0):
    """A row as the dispatcher leaves it: due, and claimed for this poll."""
    now = timezone.now()
    return ImageTask.objects.create(
        cloud=cloud, type="import", remote_id=remote_id, status=status, name=remote_id,
        remote_updated_at=at(second), next_poll_at=now, claimed_until=now + timedelta(seconds=60),
    )  # fmt: skip


def claim_again(*tasks: ImageTask) -> list[str]:
    now = timezone.now()
    ids = [t.pk for t in tasks]
    ImageTask.objects.filter(pk__in=ids).update(
        next_poll_at=now, claimed_until=now + timedelta(seconds=60)
    )
    return [str(pk) for pk in ids]


def serve(scripted: ScriptedCloud, *bodies: dict) -> None:
    for body in bodies:
        scripted.on("GET", f"{TASKS}/{body['id']}", Reply(json=body))


def serve_list(scripted: ScriptedCloud, *pages: list[dict] | Reply) -> None:
    """The task list, one page per argument, each linking to the next."""
    replies = []
    for number, page in enumerate(pages, start=1):
        if isinstance(page, Reply):
            replies.append(page)
            continue
        body: dict = {"tasks": page, "first": "/v2/tasks", "schema": "/v2/schemas/tasks"}
        if number < len(pages):
            body["next"] = f"/v2/tasks?page={number + 1}"
        replies.append(body)

    def handler(request) -> Reply:
        reply = replies[int(request.param("page") or 1) - 1]
        return reply if isinstance(reply, Reply) else Reply(json=reply)

    scripted.on("GET", TASKS, handler=handler)


def task_reads(queries: CaptureQueriesContext) -> list[str]:
    """The SELECTs that read the task table (not its snapshots, not the clouds), by their
    WHERE clause: the column lists say nothing."""
    return [
        q["sql"].partition(" WHERE ")[2][:160]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "dashboard_imagetask"' in q["sql"]
    ]


def detail_gets(scripted: ScriptedCloud) -> list[str]:
    return [
        r.path.rsplit("/", 1)[-1]
        for r in scripted.requests("GET")
        if r.path.startswith(TASKS + "/")
    ]


def list_gets(scripted: ScriptedCloud) -> list:
    return scripted.requests("GET", TASKS)


@pytest.fixture
def lists_allowed(scripted: ScriptedCloud) -> None:
    """A Rackspace-style schema: list requests have no side effects there (Glance's do)."""
    scripted.on("GET", "/image/v2/schemas/task", Reply(json=task_schema("import", "export")))


def fresh(task: ImageTask) -> ImageTask:
    return ImageTask.objects.get(pk=task.pk)


# One poll per claim ------------------------------------------------------------------------


def test_a_poll_job_that_starts_after_its_claim_ran_out_leaves_the_tasks_to_the_next_claim(
    cloud, scripted
):
    """A job queued behind others starts late: by then a later tick has claimed its tasks
    again and sent them to another job. Only that job asks the cloud; the late one sends
    nothing and leaves the new claim alone."""
    first = timezone.now() - dispatcher.LEASE - timedelta(seconds=1)
    task = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="late", status="processing", name="late",
        remote_updated_at=at(0), next_poll_at=first,
    )  # fmt: skip
    serve(scripted, detail("late", "processing", 0))
    assert dispatcher.claim_due(first) == {cloud.pk: [str(task.pk)]}
    second = timezone.now()
    assert dispatcher.claim_due(second) == {cloud.pk: [str(task.pk)]}, "the claim ran out"

    late = poller.poll(cloud.pk, [str(task.pk)], claimed_until=dispatcher.lease_end(first))

    assert late == 0 and detail_gets(scripted) == []
    assert fresh(task).claimed_until == dispatcher.lease_end(second)
    assert poller.poll(cloud.pk, [str(task.pk)], claimed_until=dispatcher.lease_end(second)) == 1
    assert detail_gets(scripted) == ["late"]


def test_a_poll_job_sent_by_the_dispatch_job_polls_its_tasks_once(cloud, scripted):
    """The dispatch job hands each poll job the end of its claim, as a string through the
    broker's JSON; read back, it still names the claim exactly."""
    task = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="sent", status="processing", name="sent",
        remote_updated_at=at(0), next_poll_at=timezone.now(),
    )  # fmt: skip
    serve(scripted, detail("sent", "success", 3))
    sent = []
    with mock.patch.object(jobs.poll_cloud, "delay", side_effect=lambda *a: sent.append(a)):
        # Mocked: only the message the dispatch job would put on the broker is wanted.
        assert jobs.dispatch_polls() == 1

    [(cloud_id, task_ids, until)] = sent
    assert jobs.poll_cloud(cloud_id, task_ids, until) == 1
    assert fresh(task).status == statuses.SUCCESS
    assert detail_gets(scripted) == ["sent"]


def test_a_cloud_with_a_poll_job_out_gets_no_second_one_until_it_ends(cloud, scripted):
    """Several jobs of one cloud in the queue ran back to back under load, each scanning
    it again, while other clouds waited for a worker."""
    first = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="first", status="processing", name="first",
        remote_updated_at=at(0), next_poll_at=timezone.now(),
    )  # fmt: skip
    serve(scripted, detail("first", "processing", 0), detail("second", "processing", 0))
    sent = []
    with mock.patch.object(jobs.poll_cloud, "delay", side_effect=lambda *a: sent.append(a)):
        # Mocked: only the messages the dispatch job would put on the broker are wanted.
        assert jobs.dispatch_polls() == 1
        ImageTask.objects.create(
            cloud=cloud, type="import", remote_id="second", status="processing", name="second",
            remote_updated_at=at(0), next_poll_at=timezone.now(),
        )  # fmt: skip
        assert jobs.dispatch_polls() == 0, "the first job is still out"
        jobs.poll_cloud(*sent[0])
        assert jobs.dispatch_polls() == 1

    second = ImageTask.objects.get(remote_id="second")
    assert [task_ids for _, task_ids, _ in sent] == [[str(first.pk)], [str(second.pk)]]
    assert fresh(first).claimed_until is None


def test_a_poll_job_that_ends_after_its_lease_leaves_the_next_claim_of_its_cloud_alone(cloud):
    ImageTask.objects.create(
        cloud=cloud, type="import", status="pending", next_poll_at=timezone.now()
    )
    first = timezone.now()
    assert dispatcher.claim_due(first)
    later = first + dispatcher.LEASE + timedelta(seconds=1)  # the job's worker died
    ImageTask.objects.update(next_poll_at=later)
    assert dispatcher.claim_due(later), "the cloud's lease ran out with its job"

    assert not dispatcher.release(cloud.pk, dispatcher.lease_end(first)), "the late job's end"
    cloud.refresh_from_db()
    assert cloud.poll_claimed_until == dispatcher.lease_end(later)
    assert dispatcher.release(cloud.pk, dispatcher.lease_end(later))


# Reading each row once ---------------------------------------------------------------------


def test_polling_a_few_tasks_reads_their_rows_once_whatever_happens_to_them(cloud, scripted):
    ends = claimed(cloud, "ends")
    fails = claimed(cloud, "fails")
    expired = claimed(cloud, "expired")
    serve(scripted, detail("expired", "success", 5))
    poller.poll(cloud.pk, [str(expired.pk)])  # its end is recorded; it comes back past expiry
    serve(
        scripted,
        detail("ends", "success", 9),
        detail("fails", "failure", 9),
        detail("expired", "success", 5),  # Glance purges lazily: still there, unchanged
    )

    with CaptureQueriesContext(connection) as queries:
        poller.poll(cloud.pk, claim_again(ends, fails, expired))

    # One statement reads the claimed rows, one counts the cloud's tasks in flight
    # (to choose GETs or a list); nothing reads a row again, however many there are.
    assert len(task_reads(queries)) == 2, task_reads(queries)
    assert fresh(ends).status == statuses.SUCCESS
    assert fresh(fails).status == statuses.FAILURE
    assert fresh(fails).message == "Image not found for import."
    assert fresh(expired).next_poll_at > timezone.now() + timedelta(minutes=59)
    assert not ImageTask.objects.filter(claimed_until__isnull=False).exists()


def test_an_end_is_written_without_first_reading_the_snapshots(cloud, scripted):
    """An answer that differs from the row is new: the look for an equal snapshot (a
    round trip to the database, before the end people wait for) is kept for answers
    that look unchanged."""
    ends = claimed(cloud, "ends")
    same = claimed(cloud, "same")
    serve(scripted, detail("ends", "success", 9), detail("same", "processing", 0))

    with CaptureQueriesContext(connection) as queries:
        poller.poll(cloud.pk, [str(ends.pk), str(same.pk)])

    snapshot_reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and 'FROM "dashboard_tasksnapshot"' in q["sql"]
    ]
    assert len(snapshot_reads) == 1, "only for the answer that looks unchanged"
    assert fresh(ends).status == statuses.SUCCESS
    assert fresh(same).snapshots.count() == 1, "its first answer, kept once"


def test_a_cloud_that_says_slow_down_ends_the_round_and_every_claim_is_released_once(
    cloud, scripted
):
    names = [f"t{i}" for i in range(3 * asking.SIDE_BY_SIDE)]
    tasks = [claimed(cloud, name) for name in names]
    for name in names:
        scripted.on("GET", f"{TASKS}/{name}", Reply(429, headers={"Retry-After": "0"}))

    with CaptureQueriesContext(connection) as queries:
        poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert len(task_reads(queries)) == 1, "the claimed rows, read once"
    # Sent side by side: the requests already on their way when the first 429 came, and
    # none after it.
    asked = set(detail_gets(scripted))
    assert 1 <= len(asked) <= asking.SIDE_BY_SIDE, sorted(asked)
    for task in map(fresh, tasks):
        assert task.poll_errors == 1, "an error recorded once per task, not twice"
        assert task.last_error.startswith("RateLimited 429")
        assert task.claimed_until is None and task.status == statuses.PROCESSING


def test_the_ends_a_scan_finds_are_fetched_side_by_side(cloud, scripted, lists_allowed):
    """A batch ending together: each end's detail GET waits for its own answer only, so a
    cloud slow to answer delays the last end by one answer's time, not by all of them."""
    count = asking.SIDE_BY_SIDE
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(count)]
    serve_list(scripted, [entry(f"t{i}", "success", 30) for i in range(count)])
    slow = 1.0
    for i in range(count):
        scripted.on("GET", f"{TASKS}/t{i}", Reply(json=detail(f"t{i}", "success", 30), delay=slow))

    started = time.monotonic()
    poller.poll(cloud.pk, [str(t.pk) for t in tasks])
    took = time.monotonic() - started

    assert {fresh(t).status for t in tasks} == {statuses.SUCCESS}
    assert sorted(detail_gets(scripted)) == sorted(f"t{i}" for i in range(count))
    # One after the other they take count × slow (8 s); side by side, about one answer's
    # time, plus the writes (generous for a loaded machine).
    assert took < count * slow / 2, f"{took:.1f} s"


def test_a_list_scan_reads_the_claimed_rows_once(cloud, scripted, lists_allowed):
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(5)]
    serve_list(
        scripted,
        [
            entry("t0", "success", 30),
            entry("t1", "failure", 29),
            entry("t2", "processing", 28),
            entry("t3", "processing", 10),
            entry("t4", "processing", 10),
        ],
    )
    serve(scripted, detail("t0", "success", 30), detail("t1", "failure", 29))

    with CaptureQueriesContext(connection) as queries:
        poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    # The claimed rows; the cloud's other watched rows; the stale check of the quiet ones.
    assert len(task_reads(queries)) == 3, task_reads(queries)
    assert [fresh(t).status for t in tasks] == ["success", "failure", "processing"] + [
        "processing"
    ] * 2
    assert sorted(detail_gets(scripted)) == ["t0", "t1"], "only the ended tasks are fetched"
    assert not ImageTask.objects.filter(claimed_until__isnull=False).exists()


def test_the_cloud_counts_the_requests_of_each_round_and_those_that_failed(cloud, scripted):
    fine, broken, gone = claimed(cloud, "fine"), claimed(cloud, "broken"), claimed(cloud, "gone")
    serve(scripted, detail("fine", "processing"))
    scripted.on("GET", f"{TASKS}/broken", Reply(500, json={"message": "boom"}))
    # "gone" has no route: a 404, which is how a cloud says it forgot a task, not an error.

    with CaptureQueriesContext(connection) as queries:
        sent = poller.poll(cloud.pk, [str(t.pk) for t in (fine, broken, gone)])

    cloud.refresh_from_db()
    assert (sent, cloud.poll_requests, cloud.poll_request_errors) == (3, 3, 1)
    counted = [
        q for q in queries.captured_queries if q["sql"].startswith('UPDATE "dashboard_cloud"')
    ]
    assert len(counted) == 1, "one write a round, not one a request"

    poller.poll(cloud.pk, claim_again(fine, broken))
    cloud.refresh_from_db()
    assert (cloud.poll_requests, cloud.poll_request_errors) == (5, 2), "the counters only grow"


# What each answer means for a task ------------------------------------------------------


def test_a_task_in_flight_that_keeps_answering_404_is_taken_as_vanished_at_the_third(
    cloud, scripted
):
    task = claimed(cloud, "gone")  # no route: the scripted cloud answers 404

    for attempt in range(1, poller.GONE_AFTER_404S):
        poller.poll(cloud.pk, claim_again(task))
        row = fresh(task)
        assert (row.status, row.poll_errors) == (statuses.PROCESSING, attempt)
        assert row.last_error.startswith("NotFound 404")
    poller.poll(cloud.pk, claim_again(task))

    row = fresh(task)
    assert row.status == statuses.VANISHED and not row.watching
    assert row.remote_gone_at is not None and row.next_poll_at is None


def test_a_finished_task_answering_404_past_its_expiry_is_gone_and_keeps_its_end(cloud, scripted):
    task = claimed(cloud, "expired", status=statuses.SUCCESS)

    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert row.status == statuses.SUCCESS and row.poll_errors == 0
    assert row.remote_gone_at is not None and row.next_poll_at is None


@pytest.mark.parametrize("status", [statuses.PROCESSING, statuses.SUCCESS])
def test_an_unreadable_answer_is_an_error_on_the_task_which_keeps_its_status(
    cloud, scripted, status
):
    task = claimed(cloud, "garbled", status=status)
    scripted.on("GET", f"{TASKS}/garbled", Reply(200, body="<html>maintenance</html>"))

    poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert (row.status, row.poll_errors, row.claimed_until) == (status, 1, None)
    assert row.last_error.startswith("MalformedResponse") and "maintenance" in row.last_error
    assert row.next_poll_at > timezone.now()


@pytest.mark.parametrize("status", [statuses.PROCESSING, statuses.SUCCESS])
def test_a_bug_while_fetching_pushes_the_next_attempt_back_before_it_surfaces(
    cloud, scripted, status, monkeypatch
):
    task = claimed(cloud, "any", status=status)

    def broken(self, task_id):
        raise RuntimeError("a bug")

    monkeypatch.setattr(ImagesApi, "get_task", broken)
    with pytest.raises(RuntimeError):
        poller.poll(cloud.pk, [str(task.pk)])

    row = fresh(task)
    assert row.last_error == "internal error while polling (see logs)"
    assert row.claimed_until is None and row.next_poll_at > timezone.now()


# The list scan -----------------------------------------------------------------------------


def test_a_scan_moves_the_watermark_to_just_before_the_newest_entry_it_saw(
    cloud, scripted, lists_allowed
):
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    serve_list(scripted, [entry("t0", "processing", 40), entry("t1", "processing", 10)])

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    cloud.refresh_from_db()
    assert cloud.list_watermark == at(40) - poller.WATERMARK_MARGIN
    assert fresh(tasks[0]).remote_updated_at == at(40), "a move in flight comes from the list"
    assert detail_gets(scripted) == ["t2"], "the one the scan should have seen is fetched"


def test_a_scan_reads_back_only_to_the_watermark(cloud, scripted, lists_allowed):
    tasks = [claimed(cloud, f"t{i}", second=50) for i in range(3)]
    Cloud.objects.filter(pk=cloud.pk).update(list_watermark=at(48))
    serve_list(
        scripted,
        [entry("t0", "processing", 60), entry("other", "success", 20)],
        [entry("t1", "processing", 10)],
    )

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert len(list_gets(scripted)) == 1, "the page past the watermark is not asked for"
    cloud.refresh_from_db()
    assert cloud.list_watermark == at(60) - poller.WATERMARK_MARGIN


def test_a_scan_asks_a_small_first_page_and_pages_growing_to_the_tasks_it_watches(
    cloud, scripted, lists_allowed
):
    """A scan usually stops within a few dozen entries: a first page as long as the
    watched tasks made each scan of a cloud with a thousand in flight a list of a thousand.
    A batch starting together (all 450 moved at once) still takes three requests, not 5."""
    tasks = [claimed(cloud, f"t{i}", "pending", second=10) for i in range(450)]
    entries = [entry(f"t{i}", "processing", 12) for i in range(450)]
    serve_list(scripted, entries[:100], entries[100:440], entries[440:])

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert [scan.param("limit") for scan in list_gets(scripted)] == ["100", "400", "450"]
    assert {fresh(t).status for t in tasks} == {statuses.PROCESSING}


def test_a_scan_reads_in_full_only_the_rows_it_writes(cloud, scripted, lists_allowed):
    """The cloud's watched rows that a job does not hold are read only as far as the list
    comparison needs; the one that ended is read whole before it is written."""
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    others = [
        ImageTask.objects.create(
            cloud=cloud,
            type="import",
            remote_id=f"o{i}",
            status="processing",
            name=f"o{i}",
            remote_updated_at=at(10),
            next_poll_at=timezone.now() + timedelta(minutes=1),
        )
        for i in range(20)
    ]
    Cloud.objects.filter(pk=cloud.pk).update(list_watermark=at(20))  # the others are older
    serve_list(scripted, [entry("o0", "success", 30)])
    serve(scripted, detail("o0", "success", 30))

    with CaptureQueriesContext(connection) as queries:
        poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert fresh(others[0]).status == statuses.SUCCESS
    assert fresh(others[0]).result == {"image_id": "image-o0"}
    whole = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith("SELECT") and '"dashboard_imagetask"."input"' in q["sql"]
    ]
    read_whole = {o.remote_id for o in others if any(o.pk.hex in sql for sql in whole)}
    assert read_whole == {"o0"}, "of the others, only the one that ended is read whole"
    scan_reads = [
        sql for sql in whole if '"dashboard_imagetask"."watching"' in sql.partition(" WHERE ")[2]
    ]
    assert scan_reads == [], "the cloud's watched rows are read in part"


def test_a_scan_leaves_alone_a_row_another_writer_changed_since_it_read_it(
    cloud, scripted, lists_allowed
):
    """What a scan decided from a row it read in part may no longer hold once it reads the
    row whole: another writer moved it (its version) meanwhile. As a compare-and-set
    would, the scan then writes nothing to it; the next scan looks again."""
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    other = ImageTask.objects.create(
        cloud=cloud, type="import", remote_id="other", status="processing", name="other",
        remote_updated_at=at(10), next_poll_at=timezone.now() + timedelta(minutes=1),
    )  # fmt: skip
    serve_list(scripted, [entry("other", "success", 30)])
    serve(scripted, detail("other", "success", 30))
    read_in_part = poller._watched

    def then_another_writer(*args):
        watched = read_in_part(*args)
        ImageTask.objects.filter(pk=other.pk).update(version=F("version") + 1, name="renamed")
        return watched

    # Patched: the other writer has to come between the two reads of one job.
    with mock.patch.object(poller, "_watched", then_another_writer):
        poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert fresh(other).status == statuses.PROCESSING
    assert "other" not in detail_gets(scripted)
    poller.poll(cloud.pk, claim_again(*tasks))
    assert fresh(other).status == statuses.SUCCESS, "the next scan sees the end"


def test_a_scan_that_sees_nothing_leaves_the_watermark_alone(cloud, scripted, lists_allowed):
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    Cloud.objects.filter(pk=cloud.pk).update(list_watermark=at(8))
    serve_list(scripted, [])
    serve(scripted, *(detail(f"t{i}", "processing", 10) for i in range(3)))

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    cloud.refresh_from_db()
    assert cloud.list_watermark == at(8)


def test_detail_gets_after_a_scan_stay_within_the_clouds_request_cap(
    cloud, scripted, lists_allowed
):
    Cloud.objects.filter(pk=cloud.pk).update(max_requests_per_second=2)
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(5)]
    ended = [entry(f"t{i}", "success", 20 + i) for i in range(5)]
    serve_list(scripted, ended[::-1])
    serve(scripted, *(detail(f"t{i}", "success", 20 + i) for i in range(5)))

    sent = poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert sent == 3 and len(list_gets(scripted)) == 1 and len(detail_gets(scripted)) == 2
    fetched = [t for t in tasks if fresh(t).status == statuses.SUCCESS]
    deferred = [t for t in tasks if fresh(t).status == statuses.PROCESSING]
    assert len(fetched) == 2 and len(deferred) == 3
    cloud.refresh_from_db()
    oldest_deferred = min(at(20 + int(t.remote_id[1:])) for t in deferred)
    assert cloud.list_watermark <= oldest_deferred - poller.WATERMARK_MARGIN, (
        "the next scan must still see the ends it has not fetched yet"
    )

    while deferred:
        scripted.received.clear()
        sent = poller.poll(cloud.pk, claim_again(*deferred))
        assert sent <= 3, "one list request and at most two detail GETs per round"
        deferred = [t for t in deferred if fresh(t).status == statuses.PROCESSING]
    assert {fresh(t).status for t in tasks} == {statuses.SUCCESS}


@pytest.mark.parametrize(
    "broken",
    [
        pytest.param("list", id="a-list-page-fails"),
        pytest.param("detail", id="a-detail-get-is-rate-limited"),
    ],
)
def test_an_error_mid_scan_leaves_the_watermark_where_it_was(
    cloud, scripted, lists_allowed, broken
):
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    Cloud.objects.filter(pk=cloud.pk).update(list_watermark=at(8))
    first_page = [entry("t0", "success", 30), entry("t1", "processing", 20)]
    if broken == "list":
        serve_list(scripted, first_page, Reply(500, json={"message": "boom"}))
        serve(scripted, *(detail(f"t{i}", "processing", 10) for i in range(3)))
    else:
        serve_list(scripted, [*first_page, entry("t2", "processing", 10)])
        scripted.on("GET", f"{TASKS}/t0", Reply(429, headers={"Retry-After": "0"}))

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    cloud.refresh_from_db()
    assert cloud.list_watermark == at(8), "what was not recorded must be scanned again"
    assert cloud.scan_until is None, "the scan lease is given back"
    assert not ImageTask.objects.filter(claimed_until__isnull=False).exists()
    assert fresh(tasks[0]).status == statuses.PROCESSING, "the end is still to be fetched"


def test_one_cloud_is_scanned_by_one_job_at_a_time(cloud, scripted, lists_allowed):
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    Cloud.objects.filter(pk=cloud.pk).update(scan_until=timezone.now() + timedelta(seconds=30))

    sent = poller.poll(cloud.pk, [str(t.pk) for t in tasks])

    assert sent == 0 and not list_gets(scripted)
    for task in tasks:
        row = fresh(task)
        assert row.claimed_until is None
        assert row.next_poll_at <= timezone.now(), "due again at the next tick"


def test_a_scanned_clouds_tasks_are_claimed_again_at_the_very_next_tick(
    cloud, scripted, lists_allowed
):
    """Due a tick after the job's start, they came due just after the next tick whenever
    the job took a moment, and the cloud was scanned every other second."""
    tasks = [claimed(cloud, f"t{i}", second=10) for i in range(3)]
    serve_list(scripted, [entry(f"t{i}", "processing", 10) for i in range(3)])

    poller.poll(cloud.pk, [str(t.pk) for t in tasks])
    next_tick = timezone.now() + timedelta(milliseconds=1)

    assert sorted(dispatcher.claim_due(next_tick)[cloud.pk]) == sorted(str(t.pk) for t in tasks)
    # Left as it was, which keeps the release off the table's indexes.
    assert [fresh(t).next_poll_at for t in tasks] == [t.next_poll_at for t in tasks]


def test_poll_now_gives_the_cloud_back_so_the_next_poll_need_not_wait_for_its_lease(cloud):
    """``manage.py poll_now`` polls as the jobs do, and as they do it frees the cloud at its
    end: run twice in a row, both polls happen (the second found the cloud still claimed
    for a minute, and polled nothing, before it did)."""
    ImageTask.objects.create(
        cloud=cloud, type="import", status="pending", remote_id="t-1", next_poll_at=timezone.now()
    )
    for _ in range(2):
        out = io.StringIO()
        call_command("poll_now", stdout=out)
        assert out.getvalue().startswith("polled 1 task(s)")
    assert Cloud.objects.get(pk=cloud.pk).poll_claimed_until is None
