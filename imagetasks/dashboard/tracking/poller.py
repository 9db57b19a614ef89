"""Polling one cloud's claimed tasks with the fewest requests that detect change.

With few tasks in flight each is fetched (``GET /v2/tasks/{id}``), backing off
while it does not change. With more, one list request sorted by
``updated_at`` (newest first) shows which changed since the cloud's last scan;
only those get a detail GET, which is needed anyway for ``result`` and
``message``. Finished tasks are looked at once more after they expire, to
record that the cloud deleted them. No answer, however broken, fails a task:
errors are recorded on it and the next attempt is pushed back.

Interoperable imports are followed through their images instead: one image list
(``id=in:``) covers every claimed import of the cloud, and an image's tasks are asked
for only when its import state moved (``image_imports``). With as many imports in
flight as make a list scan worth it, an unchanged one is due again at the next tick,
as in a list scan; with fewer, it backs off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import (
    asking,
    image_imports,
    observations,
    pollstate,
    reconcile,
    resubmission,
    trace,
)
from imagetasks.dashboard.tracking.ratelimit import Pacer
from imagetasks.openstack import (
    CloudClient,
    CloudError,
    MalformedResponse,
    NotFound,
    RateLimited,
    Unavailable,
)
from imagetasks.openstack.images import IDS_PER_REQUEST
from imagetasks.openstack.types import Image
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")

# From this many tasks in flight on one cloud, one list request is cheaper than a GET each.
LIST_THRESHOLD = 3
# A scan reads the list down to where the last one stopped: usually a few dozen entries,
# so it asks a first page of a hundred. Pages after it grow (4×) up to as many as the
# tasks it watches, so that a batch changing at once (hundreds starting together) is still
# a request or two; never over the largest page Glance serves by default
# (``api_limit_max``), which clouds clamp to. A first page as long as the watched tasks
# made each scan of a cloud with a thousand in flight a list of a thousand entries, for the
# cloud to serve and the tracker to read, where a few dozen had changed.
LIST_PAGE_SIZE = 100
LIST_PAGE_MAX = 1000
# Remote timestamps have whole seconds: rescan a little behind the last scan's newest entry.
WATERMARK_MARGIN = timedelta(seconds=2)
# An in-flight task the cloud answers 404 for this many times in a row is taken as gone.
GONE_AFTER_404S = 3
# In list mode a cloud is scanned once per beat tick, by one job at a time: what a scan
# looked at is still due when its job releases it, so the first tick after that claims it.
# (Due a tick after the job's start, it came due just after the next tick whenever the job
# took a moment, and the cloud was scanned every other tick.)
LIST_TICK = timedelta(seconds=1)
SCAN_LEASE = timedelta(seconds=30)
# What a scan reads of the watched rows it does not hold: what it compares with the list.
SCAN_FIELDS = (
    "id",
    "cloud_id",
    "remote_id",
    "status",
    "remote_updated_at",
    "submitted_at",
    "version",
)
# Detail GETs one job may send after a scan, in seconds' worth of the cloud's request
# cap: one tick's worth, so no job runs into the next tick; the rest wait for it.
DETAIL_WINDOW = 1.0
# A batch starting moves hundreds of tasks at once, each a write with a snapshot: written
# in transactions of this many, they cost a commit each hundred instead of each task,
# and the rows stay locked for one short transaction only.
MOVES_PER_COMMIT = 100
# Answers that mean "slow down": the round stops and what is left waits for later.
BACKING_OFF = (RateLimited, Unavailable)


class CloudBackedOff(Exception):
    """The cloud asked us to slow down: stop this round, keep the rest for later."""

    def __init__(self, error: CloudError):
        super().__init__(str(error))
        self.error = error


def poll(cloud_id: int, task_ids: list[str], *, claimed_until: datetime | None = None) -> int:
    """Poll the claimed tasks of one cloud; return how many requests were sent.

    ``claimed_until``: the end of the claim this job was sent under. Only tasks still
    under that claim, which has not run out, are polled: one claimed again by a later
    tick (this job started late) belongs to that tick's job.
    """
    cloud = Cloud.objects.get(pk=cloud_id)
    # Only tasks still claimed: a duplicated delivery of this job finds them released.
    still_ours = Q(claimed_until__isnull=False)
    if claimed_until is not None:
        still_ours = Q(claimed_until=claimed_until, claimed_until__gt=timezone.now())
    tasks = _with_cloud(ImageTask.objects.filter(still_ours, pk__in=task_ids), cloud)
    trace.taken(task.pk for task in tasks)
    client = client_for(cloud)
    pacer = Pacer(cloud.max_requests_per_second)
    now = timezone.now()
    imports = [t for t in tasks if t.method and t.status not in statuses.TERMINAL]
    tasks_api = [t for t in tasks if not t.method]
    in_flight = [t for t in tasks_api if t.status in statuses.POLLED]
    finished = [t for t in tasks_api if t.status in statuses.TERMINAL]
    # A submission still "submitting" when its poll comes due lost its web process mid-POST.
    unconfirmed = [t for t in tasks_api if t.status in (statuses.UNCONFIRMED, statuses.SUBMITTING)]
    try:
        if imports:
            _poll_imports(client, cloud, imports, pacer)
        many = len(in_flight) >= LIST_THRESHOLD or _cloud_in_flight(cloud) >= LIST_THRESHOLD
        if many and _lists_are_harmless(client):
            _poll_by_list(client, cloud, in_flight, pacer, now)
        else:
            _poll_each(client, in_flight, pacer)
        _check_expired(client, finished, pacer)
        for task in unconfirmed:
            pacer.wait()
            reconcile.reconcile(client, task, timezone.now())
    except CloudBackedOff as backoff:
        retry_after = getattr(backoff.error, "retry_after", None)
        # Every write of this round kept its row current, so a claim still held in
        # memory is one this round did not get to.
        for task in tasks:
            if task.claimed_until is not None:
                pollstate.failed_poll(task, timezone.now(), _describe(backoff.error), retry_after)
    finally:
        _count_requests(cloud, pacer)
    return pacer.sent


def _with_cloud(rows: QuerySet[ImageTask], cloud: Cloud) -> list[ImageTask]:
    """The rows, each given the one ``cloud`` object: a join would build a copy of the cloud
    for each of the hundreds of rows a scan reads."""
    tasks = list(rows)
    for task in tasks:
        task.cloud = cloud
    return tasks


def _count_requests(cloud: Cloud, pacer: Pacer) -> None:
    """Add this round's requests to the cloud's counters: one write a round, not one a
    request, and an increment in the database, so rounds running at once all count."""
    if pacer.sent or pacer.failed:
        Cloud.objects.filter(pk=cloud.pk).update(
            poll_requests=F("poll_requests") + pacer.sent,
            poll_request_errors=F("poll_request_errors") + pacer.failed,
        )


def _lists_are_harmless(client: CloudClient) -> bool:
    """Whether a list request may be used to find changes.

    Glance deletes a project's expired tasks whenever the project lists them,
    so with a short ``task_time_to_live`` a list scan would delete a task that
    just ended before the tracker reads its result. On Glance-style clouds the
    tracker therefore fetches each task; GETs have no side effects.
    """
    try:
        return client.tasks_flavour().import_style != "glance"
    except CloudError:
        return False


def _cloud_in_flight(cloud: Cloud) -> int:
    return ImageTask.objects.filter(
        cloud=cloud, status__in=statuses.POLLED, watching=True, method=""
    ).count()


def _poll_imports(
    client: CloudClient, cloud: Cloud, claimed: list[ImageTask], pacer: Pacer
) -> None:
    """Interoperable imports: their images in one list request (per hundred), then the
    tasks of the images whose import state moved, within one tick's worth of requests."""
    now = timezone.now()
    by_image: dict[str, ImageTask] = {}
    for task in claimed:
        image_id = image_imports.image_id_of(task)
        if image_id:
            by_image[image_id] = task
        elif now - task.submitted_at > image_imports.GIVE_UP_AFTER:
            image_imports.lost(task, now)  # its web process died before the image was made
        else:
            pollstate.unchanged(task, now)
    ids = list(by_image)
    images: dict[str, Image] = {}
    try:
        for start in range(0, len(ids), IDS_PER_REQUEST):
            pacer.wait()
            batch = ids[start : start + IDS_PER_REQUEST]
            images.update((image.id, image) for image in client.images.list_images(ids=batch))
    except BACKING_OFF as error:
        pacer.failed_request()
        raise CloudBackedOff(error) from error
    except CloudError as error:
        pacer.failed_request()
        for task in by_image.values():
            pollstate.failed_poll(task, now, _describe(error), None)
        return
    moved: list[tuple[ImageTask, Image]] = []
    quiet: list[ImageTask] = []
    for image_id, task in by_image.items():
        image = images.get(image_id)
        if image is None:
            _image_not_listed(task, now, image_id)
        elif image_imports.changed(task, image.import_state):
            moved.append((task, image))
        elif task.status in statuses.POLLED:
            quiet.append(task)
        else:
            _no_sign_yet(task, now)
    if len(by_image) >= LIST_THRESHOLD or _imports_in_flight(cloud) >= LIST_THRESHOLD:
        # As in a list scan: one request covers a hundred of them, so they are looked
        # at again next tick rather than backing off, which keeps detection fast.
        _quiet_round(cloud, quiet, now)
    else:
        for task in quiet:
            _no_sign_yet(task, now)
    budget = max(1, int(cloud.max_requests_per_second * DETAIL_WINDOW))

    def image_tasks(pair: tuple[ImageTask, Image]) -> list[RemoteTask]:
        task, image = pair
        with trace.asking(task.pk):
            return client.imports.image_tasks(image.id)

    asked = asking.ask_each(moved[:budget], image_tasks, pacer, stop_on=BACKING_OFF)
    for (task, image), answer in asked:
        remote = _import_task(task, image, answer, pacer)
        if not image_imports.observe(task, image, remote, timezone.now()):
            _no_sign_yet(task, now)
    for task, _image in moved[budget:]:
        pollstate.deferred(task, now)  # due at the next tick, as a list scan's


def _imports_in_flight(cloud: Cloud) -> int:
    return (
        ImageTask.objects.filter(cloud=cloud, status__in=statuses.POLLED, watching=True)
        .exclude(method="")
        .count()
    )


def _import_task(
    task: ImageTask, image: Image, answer: asking.Answer[list[RemoteTask]], pacer: Pacer
) -> RemoteTask | None:
    """The import's ``api_image_import`` task, or None when the cloud will not say (an
    Images API before 2.12, an error): the image alone then tells the outcome."""
    error = answer.error
    if error is None:
        return image_imports.pick_task(task, image.import_state, answer.body or [])
    if isinstance(error, BACKING_OFF):
        pacer.failed_request()
        pollstate.failed_poll(task, answer.asked_at, _describe(error), error.retry_after)
        raise CloudBackedOff(error) from error
    if not isinstance(error, CloudError):
        raise error
    if not isinstance(error, NotFound):  # an Images API before 2.12 has no such call
        pacer.failed_request()
    log.info("image tasks unread task=%s error=%s", task.pk, _describe(error))
    return None


def _image_not_listed(task: ImageTask, now: datetime, image_id: str) -> None:
    """The image is gone (deleted, or never made): an error, then gone, as a 404 is."""
    error = NotFound(f"the image {image_id} is not listed")
    if task.status in statuses.POLLED:
        _not_found_in_flight(task, now, error)
    else:
        _no_sign_yet(task, now)


def _no_sign_yet(task: ImageTask, now: datetime) -> None:
    """Nothing new; an import whose submission went unanswered is given up in the end."""
    if task.status in statuses.POLLED or now - task.submitted_at <= image_imports.GIVE_UP_AFTER:
        pollstate.unchanged(task, now)
    else:
        image_imports.lost(task, now)


def _poll_each(client: CloudClient, tasks: list[ImageTask], pacer: Pacer) -> None:
    """Detail GETs of these tasks (side by side), each recorded as a change, no change,
    or an error as its answer comes."""
    for task, answer in _details(client, tasks, pacer):
        remote = _judged(task, answer, pacer, if_not_found=_not_found_in_flight)
        if remote is not None:
            _observed(task, remote, answer.asked_at)


def _details(
    client: CloudClient, tasks: list[ImageTask], pacer: Pacer
) -> Iterator[tuple[ImageTask, asking.Answer[RemoteTask]]]:
    """``GET /v2/tasks/{id}`` of each task, side by side, as the answers come."""

    def get(task: ImageTask) -> RemoteTask:
        if task.remote_id is None:
            raise ValueError(f"task {task.pk} has no remote id to ask the cloud about")
        with trace.asking(task.pk):
            return client.images.get_task(task.remote_id)

    return asking.ask_each(tasks, get, pacer, stop_on=BACKING_OFF)


def _observed(task: ImageTask, remote: RemoteTask, now: datetime) -> None:
    # The snapshot read spares a write for an answer recorded already; an answer whose
    # status or time differs from the row's is new (a cloud going back in time to an
    # earlier answer is still caught, by the snapshot's unique fingerprint), so an end,
    # which people wait for, goes straight to its write.
    if not _differs(task, remote) and not observations.is_new(task, remote):
        pollstate.unchanged(task, now)
    elif observations.record(task, remote, now):
        if remote.status == statuses.FAILURE:
            resubmission.after_failure(task)
    else:
        # Not recorded: the body was stored already or its id cannot be kept, and the
        # row is as read. (If another writer moved it instead, this compare-and-set
        # fails too and that writer's state stands.)
        pollstate.unchanged(task, now)


def _judged(
    task: ImageTask,
    answer: asking.Answer[RemoteTask],
    pacer: Pacer,
    *,
    if_not_found: Callable[[ImageTask, datetime, NotFound], object],
) -> RemoteTask | None:
    """The task the cloud showed; on an error, record it on the row and return None.

    The one place that says what each error means for a task: a 404 is the
    caller's to judge; "slow down" ends the round (``CloudBackedOff``); any
    other answer is an error on the task, which keeps its status; anything
    unexpected pushes the next attempt back before it surfaces, so one bad row
    cannot be retried in a tight loop.
    """
    error, now = answer.error, answer.asked_at
    if error is None:
        return answer.body
    if isinstance(error, NotFound):
        if_not_found(task, now, error)
    elif isinstance(error, BACKING_OFF):
        pacer.failed_request()
        pollstate.failed_poll(task, now, _describe(error), error.retry_after)
        raise CloudBackedOff(error) from error
    elif isinstance(error, CloudError):
        pacer.failed_request()
        pollstate.failed_poll(task, now, _describe(error), None)
    else:
        pollstate.failed_poll(task, now, "internal error while polling (see logs)", None)
        raise error
    return None


def _not_found_in_flight(task: ImageTask, now: datetime, error: NotFound) -> None:
    """A 404 for a task in flight: an error, until it has lasted long enough to mean gone."""
    if task.poll_errors + 1 >= GONE_AFTER_404S:
        pollstate.vanished(task, now)
    else:
        pollstate.failed_poll(task, now, _describe(error), None)


def _not_found_after_end(task: ImageTask, now: datetime, error: NotFound) -> None:
    """A 404 for a finished task past its expiry: the cloud deleted it; ours stays."""
    pollstate.remote_gone(task, now)


def _poll_by_list(
    client: CloudClient, cloud: Cloud, claimed: list[ImageTask], pacer: Pacer, now: datetime
) -> None:
    """One list scan for the whole cloud; detail GETs only for tasks that ended.

    A change to a status still in flight is recorded from the list entry
    itself (it lacks only ``result`` and ``message``, which say nothing until
    the end). Only one job scans a cloud at a time (a lease on the cloud row).
    """
    if not _take_scan_lease(cloud, now):
        _quiet_round(cloud, claimed, now)  # another job is scanning this cloud right now
        return
    try:
        _scan(client, cloud, claimed, pacer, now)
    finally:
        Cloud.objects.filter(pk=cloud.pk).update(scan_until=None)


def _scan(
    client: CloudClient, cloud: Cloud, claimed: list[ImageTask], pacer: Pacer, now: datetime
) -> None:
    watched = _watched(cloud, claimed)
    if not watched:
        return
    floor = _scan_floor(cloud, watched.values())
    seen: dict[str, RemoteTask] = {}
    newest: datetime | None = None
    try:
        pacer.wait()
        for entry in client.images.list_tasks(
            sort_key="updated_at",
            sort_dir="desc",
            page_size=LIST_PAGE_SIZE,
            grow_to=_page_size(len(watched)),
        ):
            if entry.updated_at and (newest is None or entry.updated_at > newest):
                newest = entry.updated_at
            if entry.updated_at and floor and entry.updated_at < floor:
                break
            if entry.id in watched:
                seen[entry.id] = entry
    except BACKING_OFF as error:
        pacer.failed_request()
        raise CloudBackedOff(error) from error
    except CloudError as error:
        pacer.failed_request()
        # A broken list answer: fall back to detail GETs for the claimed tasks.
        log.warning("list scan failed cloud=%s error=%s", cloud.name, _describe(error))
        _poll_each(client, claimed, pacer)
        return
    # By remote id (the key of what was watched and seen): moved on, ended, or not listed.
    ended: list[str] = []
    moved: list[str] = []
    for remote_id, task in watched.items():
        listed = seen.get(remote_id)
        if listed is not None and _differs(task, listed):
            (moved if statuses.get(listed.status).in_flight else ended).append(remote_id)
    # A watched task the scan went past without seeing may have expired or been lost.
    missing = [r for r, t in watched.items() if r not in seen and _should_have_seen(t, floor)]
    budget = max(1, int(cloud.max_requests_per_second * DETAIL_WINDOW))
    to_fetch = ended + missing
    deferred = to_fetch[budget:]
    # The ends first: they are what people wait for. Hundreds of tasks may move on at
    # once (a batch starting), and each move is a write of its own.
    to_fetch = _in_full(cloud, watched, to_fetch[:budget])
    _poll_each(client, [watched[r] for r in to_fetch], pacer)
    moved = _in_full(cloud, watched, moved)
    for start in range(0, len(moved), MOVES_PER_COMMIT):
        with transaction.atomic():  # one commit for many moves, not one each
            for remote_id in moved[start : start + MOVES_PER_COMMIT]:
                observations.record(watched[remote_id], seen[remote_id], now)
    watermark = _next_watermark(
        newest, [seen.get(r) for r in deferred], [watched[r] for r in deferred]
    )
    if watermark is not None:
        Cloud.objects.filter(pk=cloud.pk).update(list_watermark=watermark)
    looked_at = {watched[r].pk for r in moved + to_fetch}
    _quiet_round(cloud, [t for t in claimed if t.pk not in looked_at], now)


def _watched(cloud: Cloud, claimed: list[ImageTask]) -> dict[str, ImageTask]:
    """The cloud's tasks a scan looks for, by remote id, newest submission first.

    The claimed rows are the ones this job already holds (and keeps current as
    it writes them); the cloud's other watched rows are read here, only as much of
    them as a comparison with the list needs (``SCAN_FIELDS``): a scan reads every
    watched row of its cloud each second, and building whole rows was most of a
    job's time. The few it then writes are read in full first (``_in_full``).
    """
    held = {t.pk for t in claimed}
    mine = [t for t in claimed if t.cloud_id == cloud.pk and t.watching and t.remote_id is not None]
    others = ImageTask.objects.filter(
        cloud=cloud, status__in=statuses.POLLED, watching=True, remote_id__isnull=False, method=""
    ).only(*SCAN_FIELDS)
    rows = [*mine, *(t for t in _with_cloud(others, cloud) if t.pk not in held)]
    rows.sort(key=lambda t: t.submitted_at, reverse=True)
    return {t.remote_id: t for t in rows if t.remote_id is not None}


def _in_full(cloud: Cloud, watched: dict[str, ImageTask], remote_ids: list[str]) -> list[str]:
    """Read in full, in one query, the rows of ``remote_ids`` that the scan read only in
    part; return those remote ids whose rows are whole now, in their order. A row another
    writer changed since the scan read it (its version moved) is left out, as its
    compare-and-set would have failed: what the scan decided from the old row may no
    longer hold."""
    partial = {watched[r].pk: r for r in remote_ids if watched[r].get_deferred_fields()}
    if partial:
        for task in _with_cloud(ImageTask.objects.filter(pk__in=list(partial)), cloud):
            remote_id = partial[task.pk]
            if task.version == watched[remote_id].version:
                watched[remote_id] = task
    return [r for r in remote_ids if not watched[r].get_deferred_fields()]


def _page_size(watched: int) -> int:
    return min(LIST_PAGE_MAX, max(LIST_PAGE_SIZE, watched))


def _take_scan_lease(cloud: Cloud, now: datetime) -> bool:
    return bool(
        Cloud.objects.filter(pk=cloud.pk)
        .filter(Q(scan_until__isnull=True) | Q(scan_until__lt=now))
        .update(scan_until=now + SCAN_LEASE)
    )


def _next_watermark(
    newest: datetime | None,
    deferred_entries: list[RemoteTask | None],
    deferred_tasks: list[ImageTask],
) -> datetime | None:
    """Where the next scan may stop: before anything this one saw but did not fetch yet."""
    if newest is None:
        return None
    marks = [newest]
    marks += [e.updated_at for e in deferred_entries if e is not None and e.updated_at]
    marks += [t.remote_updated_at for t in deferred_tasks if t.remote_updated_at]
    return min(marks) - WATERMARK_MARGIN


def _scan_floor(cloud: Cloud, tasks: Iterable[ImageTask]) -> datetime | None:
    """How far back the list must be read: to the last scan's newest entry, or the oldest task."""
    if cloud.list_watermark is not None:
        return cloud.list_watermark
    known = [t.remote_updated_at for t in tasks if t.remote_updated_at is not None]
    return min(known) - WATERMARK_MARGIN if known else None


def _differs(task: ImageTask, entry: RemoteTask) -> bool:
    return entry.status != task.status or entry.updated_at != task.remote_updated_at


def _should_have_seen(task: ImageTask, floor: datetime | None) -> bool:
    return floor is None or task.remote_updated_at is None or task.remote_updated_at >= floor


def _quiet_round(cloud: Cloud, tasks: list[ImageTask], now: datetime) -> None:
    """Claimed tasks the list showed unchanged, in two statements however many there are.

    In list mode looking again costs one list request for the whole cloud, so
    these tasks are due again at the next tick instead of backing off: the
    cloud is scanned once a tick, which is what keeps detection fast.
    """
    if not tasks:
        return
    ids = [t.pk for t in tasks]
    with transaction.atomic():  # the stale flags and their notices are stored together
        stale = set(
            ImageTask.objects.select_for_update()
            .filter(
                pk__in=ids,
                status=statuses.PROCESSING,
                stale_since__isnull=True,
                changed_at__lt=now - cloud.stale_after,
            )
            .values_list("pk", flat=True)
        )
        if stale:
            ImageTask.objects.filter(pk__in=stale).update(stale_since=now, version=F("version") + 1)
            outbox.after_stale(stale, now)
    # ``next_poll_at`` stays as it was: the tick claimed these tasks because it had come,
    # so the first tick after the release claims them again. Left alone, it keeps the
    # update off every index of the table (PostgreSQL then rewrites the row in place, a
    # "HOT" update): a scan releases hundreds of rows a second.
    released = {
        "last_polled_at": now,
        "poll_interval": LIST_TICK.total_seconds(),
        "poll_errors": 0,
    }
    ImageTask.objects.filter(pk__in=ids).filter(Q(claimed_until__isnull=False)).update(
        claimed_until=None, **released
    )
    trace.released(ids)
    for task in tasks:  # the rows as written, so that nothing needs to read them again
        if task.pk in stale:
            task.stale_since, task.version = now, task.version + 1
        pollstate.written(task, released)


def _check_expired(client: CloudClient, finished: list[ImageTask], pacer: Pacer) -> None:
    """Finished tasks past their expiry: a 404 means the cloud deleted one; ours stays."""
    for task, answer in _details(client, finished, pacer):
        remote = _judged(task, answer, pacer, if_not_found=_not_found_after_end)
        if remote is None:
            continue
        now = answer.asked_at
        if observations.is_new(task, remote) and observations.record(task, remote, now):
            continue
        pollstate.still_there_after_expiry(task, now)


def _describe(error: CloudError) -> str:
    text = f"{type(error).__name__}"
    if error.status:
        text += f" {error.status}"
    text += f": {error.message}"
    if isinstance(error, MalformedResponse) and error.body:
        text += f" — received: {error.body[:300]}"
    return text
