"""Adopting work created outside the dashboard (CLI, SDK), so the audit trail is complete.

Opt-in per cloud (``discover_tasks``). Two kinds of work are found:

- **Tasks of the tasks API.** Only ``import`` and ``export`` tasks are adopted: Glance
  lists its own internal task types (``api_image_import``…) too, and those are not the
  account's work as such.
- **Interoperable imports** (``POST /v2/images/{id}/import``, e.g. glanceclient's
  ``image-create-via-import``). A member cannot list them (``/v2/tasks`` is admin-only
  on stock Glance), but every import leaves its mark on its image: a status
  ``importing``/``uploading`` and Glance's ``os_glance_*`` properties, which stay (empty)
  after the import ended. So the images changed since the last run are listed, oldest
  change first (``updated_at=gte:<watermark>``, which Glance filters on), and for an
  image with such a mark that no row of this cloud already follows, its tasks are read
  (``GET /v2/images/{id}/tasks``) and its newest ``api_image_import`` task, if unknown,
  becomes an ``ImageTask`` (origin discovered, the method from the task's input, else
  "unknown"), followed to its end by the poller like one submitted here.

Never twice: a task is one row per cloud (the unique cloud + remote id), and an image
whose import a row is still learning the id of (a submission in flight) is left to it.
Bounded: at most ``SCAN_LIMIT`` images and ``TASK_READS`` task lists a run, paced under
the cloud's request cap; the watermark moves only past what was looked at, so the next
run goes on from there. A hostile or broken answer is recorded on the cloud
(``discovery_error``) and skipped; an answer that says "later" (429, 5xx, a timeout)
ends the run where it stood.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking import image_imports, observations, storable
from imagetasks.dashboard.tracking.ratelimit import Pacer
from imagetasks.dashboard.tracking.submission import describe
from imagetasks.openstack import (
    CloudClient,
    CloudError,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unavailable,
)
from imagetasks.openstack.types import Image, ImportState, Unreadable
from imagetasks.openstack.types import Task as RemoteTask

log = logging.getLogger("imagetasks.tracking")

ADOPTED_TYPES = {"import", "export"}
OVERLAP = timedelta(minutes=5)
SCAN_LIMIT = 1000
# Interoperable imports: images read per run (pages of a hundred), and task lists read.
IMAGE_PAGE = 100
TASK_READS = 50
# Image times have whole seconds on Glance, and a change may commit a moment after a
# later one was listed: each run reads again a little before the last one's newest.
IMAGE_OVERLAP = timedelta(seconds=10)
# A first run looks back as far as a finished import's task is kept (Glance's default).
FIRST_LOOK_BACK = timedelta(hours=48)
# Glance's marks of an import on its image; the last two stay, empty, after it ended.
IMPORT_MARKS = ("os_glance_import_task", "os_glance_importing_to_stores", "os_glance_failed_import")
IMPORTING_STATUSES = ("importing", "uploading")
# Answers that mean "not now": the run ends where it stood, to go on next time.
LATER = (RateLimited, Unavailable, ServerError)
MAX_PROBLEMS = 10
UNKNOWN_METHOD = ImageTask.Method.UNKNOWN
KNOWN_METHODS = {m.value for m in ImageTask.Method} - {"", UNKNOWN_METHOD}


def discover(cloud: Cloud) -> int:
    """Adopt the cloud's tasks and interoperable imports created since the last run;
    record on the cloud what could not be read. Returns how many were adopted."""
    client = client_for(cloud)
    problems: list[str] = []
    adopted = 0
    if cloud.tasks_api != Cloud.TasksApi.ADMIN_ONLY:
        try:
            adopted += _discover_tasks(client, cloud)
        except Forbidden:
            pass  # this account may not list tasks: its imports are found through images
        except CloudError as error:
            problems.append(f"task list: {_describe(error)}")
    if cloud.import_methods != []:  # an empty list: the cloud offers no import
        adopted += _discover_imports(client, cloud, problems)
    said = "; ".join(problems[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        said += f"; and {len(problems) - MAX_PROBLEMS} more"
    Cloud.objects.filter(pk=cloud.pk).update(discovery_error=storable.text(said))
    return adopted


# Tasks of the tasks API ------------------------------------------------------------------


def _discover_tasks(client: CloudClient, cloud: Cloud) -> int:
    """List the cloud's tasks created since the last run; adopt unknown ones."""
    known = set(
        ImageTask.objects.filter(cloud=cloud, remote_id__isnull=False).values_list(
            "remote_id", flat=True
        )
    )
    since = cloud.discovered_until - OVERLAP if cloud.discovered_until else None
    newest = cloud.discovered_until
    adopted = 0
    for entry in client.images.list_tasks(
        sort_key="created_at", sort_dir="desc", page_size=100, limit=SCAN_LIMIT
    ):
        if since and entry.created_at and entry.created_at < since:
            break
        if entry.created_at and (newest is None or entry.created_at > newest):
            newest = entry.created_at
        if entry.id in known or entry.type not in ADOPTED_TYPES:
            continue
        try:
            remote = client.images.get_task(entry.id)
        except CloudError as error:
            # One task the cloud cannot show must not hold up the others: it is skipped
            # (and tried again only while it is inside the next run's overlap).
            log.warning("discovery skipped remote_id=%s cloud=%s: %s", entry.id, cloud.name, error)
            continue
        if _adopt_task(cloud, remote):
            adopted += 1
    Cloud.objects.filter(pk=cloud.pk).update(discovered_until=newest)
    return adopted


def _adopt_task(cloud: Cloud, remote: RemoteTask) -> bool:
    try:
        task = ImageTask.objects.create(
            cloud=cloud,
            type=remote.type,
            input=storable.json_value(remote.input) if remote.input is not None else {},
            name=describe(remote.type, remote.input),
            status=statuses.SUBMITTING,
            origin=ImageTask.Origin.DISCOVERED,
            poll_interval=cloud.poll_min_interval,
            next_poll_at=timezone.now(),
        )
    except IntegrityError:
        return False
    if observations.record(task, remote, timezone.now()):
        log.info("discovered task=%s cloud=%s remote_id=%s", task.pk, cloud.name, remote.id)
        return True
    task.delete()  # another discoverer adopted it first
    return False


# Interoperable imports --------------------------------------------------------------------


class _Later(Exception):
    """The cloud said "not now": end the run where it stands."""


def _discover_imports(client: CloudClient, cloud: Cloud, problems: list[str]) -> int:
    """Images changed since the watermark, oldest change first: adopt the unknown imports
    they show, within the run's bounds; move the watermark past what was looked at."""
    start = cloud.imports_discovered_until or timezone.now() - FIRST_LOOK_BACK
    since = start - IMAGE_OVERLAP
    watermark = cloud.imports_discovered_until
    pacer = Pacer(cloud.max_requests_per_second)
    reads = TASK_READS
    adopted = unreadable = 0
    scan = client.images.scan_images(
        sort_key="updated_at",
        sort_dir="asc",
        updated_at=f"gte:{_glance_time(since)}",
        page_size=IMAGE_PAGE,
        limit=SCAN_LIMIT,
    )
    try:
        for page in _pages(scan, IMAGE_PAGE):
            images = [entry for entry in page if isinstance(entry, Image)]
            following = _rows_by_image(cloud, [image.id for image in images])
            for entry in page:
                if isinstance(entry, Unreadable):
                    unreadable += 1
                    problems.append(f"image {entry.id or '(no id)'} unreadable: {entry.reason}")
                    continue
                if entry.updated_at is not None and entry.updated_at < since:
                    continue  # a cloud that ignores the filter lists older changes too
                if _shows_import(entry) and not _followed(entry, following[entry.id]):
                    if reads == 0:
                        raise _Later  # this run's share is spent: the next goes on here
                    reads -= 1
                    pacer.wait()
                    adopted += _adopt_import(client, cloud, entry, problems)
                if entry.updated_at is not None:
                    watermark = max(watermark or entry.updated_at, entry.updated_at)
    except _Later:
        pass  # why is recorded already
    except CloudError as error:
        problems.append(f"image list: {_describe(error)}")
    if unreadable:
        log.warning("discovery: %d unreadable images cloud=%s", unreadable, cloud.name)
    if watermark is not None:
        Cloud.objects.filter(pk=cloud.pk).update(imports_discovered_until=watermark)
    return adopted


def _glance_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pages(entries: Iterable[Image | Unreadable], size: int) -> Iterator[list[Image | Unreadable]]:
    page: list[Image | Unreadable] = []
    for entry in entries:
        page.append(entry)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _rows_by_image(cloud: Cloud, image_ids: list[str]) -> dict[str, list[ImageTask]]:
    """This cloud's interoperable imports of these images, by image id."""
    rows: dict[str, list[ImageTask]] = defaultdict(list)
    if not image_ids:
        return rows
    found = (
        ImageTask.objects.select_related("cloud")
        .filter(cloud=cloud, type=ImageTask.Type.IMPORT, result__image_id__in=image_ids)
        .exclude(method="")
    )
    for row in found:
        rows[image_imports.image_id_of(row)].append(row)
    return rows


def _shows_import(image: Image) -> bool:
    """Whether the image bears the marks of an interoperable import, running or ended."""
    return image.status in IMPORTING_STATUSES or any(mark in image.raw for mark in IMPORT_MARKS)


def _followed(image: Image, rows: list[ImageTask]) -> bool:
    """Whether a row of this cloud already follows what the image shows: a submission
    still learning its task's id, the task the image names, or (an import that ended)
    the very import state the image has."""
    state = image.import_state
    for row in rows:
        if row.remote_id is None and row.status not in statuses.TERMINAL:
            return True
        if state.task_id is not None and row.remote_id == state.task_id:
            return True
        if state.task_id is None and not image_imports.changed(row, state):
            return True
    return False


def _adopt_import(client: CloudClient, cloud: Cloud, image: Image, problems: list[str]) -> int:
    """Adopt the image's newest import if no row has it yet; 1 if adopted, else 0."""
    state = image.import_state
    try:
        tasks = client.imports.image_tasks(image.id)
    except LATER as error:
        problems.append(f"tasks of image {image.id}: {_describe(error)}")
        raise _Later from error
    except NotFound:
        tasks = []  # an Images API before 2.12: the image alone names its task
    except CloudError as error:
        problems.append(f"tasks of image {image.id}: {_describe(error)}")
        return 0
    remote = _newest_import(state, tasks)
    task_id = image_imports.keepable(remote.id if remote else state.task_id)
    if task_id is None:
        if remote is not None:
            problems.append(f"image {image.id}: an import task id no row can keep")
        return 0
    if ImageTask.objects.filter(cloud=cloud, remote_id=task_id).exists():
        return 0
    method = _method_of(remote)
    try:
        with transaction.atomic():  # a savepoint: another discoverer may have been first
            task = ImageTask.objects.create(
                cloud=cloud,
                type=ImageTask.Type.IMPORT,
                method=method,
                remote_id=task_id,
                input=_input_of(image, remote, method),
                name=storable.text(image.name or image.id, 255),
                status=statuses.SUBMITTING,
                result={"image_id": image.id},
                origin=ImageTask.Origin.DISCOVERED,
                poll_interval=cloud.poll_min_interval,
                next_poll_at=None,  # the first observation says when
            )
    except IntegrityError:
        return 0
    if image_imports.observe(task, image, remote, timezone.now()) is None:
        task.delete()  # nothing to say about it yet: looked at again when the image changes
        return 0
    log.info(
        "discovered import task=%s cloud=%s image=%s remote_id=%s method=%s",
        task.pk,
        cloud.name,
        image.id,
        task_id,
        method,
    )
    return 1


def _newest_import(state: ImportState, tasks: list[RemoteTask]) -> RemoteTask | None:
    """The task the image names, else its newest ``api_image_import`` task."""
    imports = [t for t in tasks if t.type == image_imports.IMPORT_TASK_TYPE]
    for remote in imports:
        if state.task_id and remote.id == state.task_id:
            return remote
    if state.task_id:
        return None  # the running import is not listed (yet): the image names it
    oldest = datetime.min.replace(tzinfo=UTC)
    return max(imports, key=lambda t: t.created_at or oldest, default=None)


def _import_request(remote: RemoteTask | None) -> dict[str, Any]:
    data = remote.input if remote is not None and isinstance(remote.input, dict) else {}
    request = data.get("import_req")
    return request if isinstance(request, dict) else {}


def _method_of(remote: RemoteTask | None) -> str:
    method = _import_request(remote).get("method")
    name = method.get("name") if isinstance(method, dict) else None
    return name if isinstance(name, str) and name in KNOWN_METHODS else UNKNOWN_METHOD


def _input_of(image: Image, remote: RemoteTask | None, method: str) -> dict[str, Any]:
    """The row's input in the shape of one submitted here, from Glance's task input."""
    request = _import_request(remote)
    data: dict[str, Any] = {"image_properties": {"name": image.name or image.id}}
    method_body = request.get("method")
    uri = method_body.get("uri") if isinstance(method_body, dict) else None
    if method == "web-download" and isinstance(uri, str):
        data["uri"] = uri[:2000]
    if method == "copy-image":
        data["image_id"] = image.id
    task_input = remote.input if remote is not None and isinstance(remote.input, dict) else {}
    stores = task_input.get("backend", request.get("stores"))
    if isinstance(stores, list):
        data["stores"] = [s for s in stores if isinstance(s, str)][:100]
    must = request.get("all_stores_must_succeed")
    if isinstance(must, bool):
        data["all_stores_must_succeed"] = must
    value: dict[str, Any] = storable.json_value(data)
    return value


def _describe(error: CloudError) -> str:
    text = type(error).__name__
    if error.status:
        text += f" {error.status}"
    return f"{text}: {error.message}"[:500]
