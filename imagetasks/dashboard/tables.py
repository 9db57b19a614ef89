"""The task table: filters, sorting, paging and the version of what a page shows.

Everything here reads the database only, never a cloud. Queries stay on the
existing indexes (``task_status_recent``, ``task_cloud_recent``,
``task_owner_recent``, ``-submitted_at``), never count the whole table, and
fetch the page's rows with their cloud and submitter in one query. Dismissed tasks
(``dismissal.py``) are left out unless the Dismissed view asks for them alone
(``task_dismissed_recent``).
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from imagetasks.dashboard import access, statuses
from imagetasks.dashboard.models import Copy, ImageTask
from imagetasks.dashboard.upkeep import search_index

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# While anything shown is in flight the table refreshes every 2 s; otherwise every
# 4 s, so that work started elsewhere (another tab, the CLI, a copy, discovery)
# shows up within about five seconds. An unchanged refresh costs one narrow query
# and an empty answer (see current_version).
FAST_REFRESH = "2s"
IDLE_REFRESH = "4s"
# Counting stops here: past it the table says "more than 10,000".
COUNT_CAP = 10_000
RECENT = timedelta(hours=24)

# Column -> ORDER BY of its sort; "-column" is the exact reverse, so both read the
# same index (forwards or backwards). Every order ends on the primary key so pages
# never overlap or skip a row that shares a timestamp.
COLUMN_SORTS: dict[str, tuple[str, ...]] = {
    "status": ("status", "-submitted_at", "-id"),
    "type": ("type", "-submitted_at", "-id"),
    "name": ("name", "-submitted_at", "-id"),
    "submitted": ("submitted_at", "id"),
    "changed": ("changed_at", "id"),
}


def _reversed(order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part[1:] if part.startswith("-") else f"-{part}" for part in order)


SORTS: dict[str, tuple[str, ...]] = {
    **COLUMN_SORTS,
    **{f"-{column}": _reversed(order) for column, order in COLUMN_SORTS.items()},
}
# The first click on a header: newest first for times, A to Z for the others.
FIRST_SORT = {"status": "status", "type": "type", "name": "name"} | {
    "submitted": "-submitted",
    "changed": "-changed",
}
SORT_LABELS = {
    "-submitted": "Newest first",
    "submitted": "Oldest first",
    "-changed": "Last changed",
    "changed": "Changed longest ago",
    "name": "Name, A to Z",
    "-name": "Name, Z to A",
    "status": "Status, A to Z",
    "-status": "Status, Z to A",
    "type": "Type, A to Z",
    "-type": "Type, Z to A",
}
DEFAULT_SORT = "-submitted"
# The session key of the filters a person last looked at, for the task page's way back.
LAST_QUERY_KEY = "table_query"


def _text(value: str, limit: int) -> str:
    """A text filter as typed, without NUL characters: no name or text stored here has one,
    and PostgreSQL refuses them even in a query."""
    return value.replace("\x00", "").strip()[:limit]


def _positive_int(value: str | None, default: int, maximum: int) -> int:
    try:
        number = int(value or default)
    except ValueError:
        return default
    return max(1, min(number, maximum))


@dataclass
class TableQuery:
    """The filters, order and page a table URL asks for; unknown values are ignored."""

    status: list[str] = field(default_factory=list)
    type: str = ""
    cloud: str = ""
    mine: bool = False
    recent: bool = False  # changed in the last 24 hours
    dismissed: bool = False  # the dismissed tasks, instead of the others
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def from_request(cls, request) -> TableQuery:
        return cls.from_params(request.GET)

    @classmethod
    def from_params(cls, get: QueryDict) -> TableQuery:
        """The query a table URL's parameters (or the same, carried in a form) ask for."""
        kind, sort = get.get("type", ""), get.get("sort", "")
        return cls(
            status=[s for s in get.getlist("status") if s in statuses.STATUSES],
            type=kind if kind in ImageTask.Type.values else "",
            cloud=_text(get.get("cloud", ""), 64),
            mine=get.get("mine") == "1",
            recent=get.get("recent") == "1",
            dismissed=get.get("dismissed") == "1",
            q=_text(get.get("q", ""), 200),
            sort=sort if sort in SORTS else DEFAULT_SORT,
            page=_positive_int(get.get("page"), 1, 10_000),
            size=_positive_int(get.get("size"), PAGE_SIZE, MAX_PAGE_SIZE),
        )

    def params(self, **changes) -> list[tuple[str, str]]:
        """The query as URL parameters, defaults left out, with ``changes`` applied."""
        values = {**self.__dict__, **changes}
        pairs = [("status", s) for s in values["status"]]
        for key in ("type", "cloud", "q"):
            if values[key]:
                pairs.append((key, values[key]))
        if values["mine"]:
            pairs.append(("mine", "1"))
        if values["recent"]:
            pairs.append(("recent", "1"))
        if values["dismissed"]:
            pairs.append(("dismissed", "1"))
        if values["sort"] != DEFAULT_SORT:
            pairs.append(("sort", values["sort"]))
        if values["size"] != PAGE_SIZE:
            pairs.append(("size", str(values["size"])))
        if values["page"] != 1:
            pairs.append(("page", str(values["page"])))
        return pairs

    def querystring(self, **changes) -> str:
        return urlencode(self.params(**changes))

    @property
    def filtered(self) -> bool:
        return bool(
            self.status
            or self.type
            or self.cloud
            or self.mine
            or self.recent
            or self.dismissed
            or self.q
        )

    def described(self) -> list[str]:
        """The filters in words ("status Failure or Rejected", "cloud acme"), for a page
        that acts on all of them."""
        words = []
        if self.status:
            labels = [statuses.get(code).label for code in self.status]
            words.append("status " + " or ".join(labels))
        if self.type:
            words.append(f"type {self.type}")
        if self.cloud:
            words.append(f"cloud {self.cloud}")
        if self.mine:
            words.append("submitted by you")
        if self.recent:
            words.append("changed in the last 24 h")
        if self.q:
            words.append(f"matching “{self.q}”")
        if self.dismissed:
            words.append("dismissed")
        return words

    @property
    def all_dismissable(self) -> bool:
        """Whether every task the query shows may be dismissed: it asks only for statuses
        of tasks that ended badly (see dismissal.py), outside the Dismissed view. The
        table's "Dismiss all N shown" then needs no count of its own: N is the total."""
        return bool(self.status) and set(self.status) <= statuses.FAILED and not self.dismissed

    @property
    def column(self) -> str:
        """The column the table is sorted by."""
        return self.sort.removeprefix("-")

    def sort_link(self, column: str) -> str:
        """The sort a click on ``column``'s header asks for: its first, or else the reverse."""
        first = FIRST_SORT[column]
        if self.sort == first:
            return first[1:] if first.startswith("-") else f"-{first}"
        return first

    def aria_sort(self, column: str) -> str:
        """``ascending``/``descending`` for the sorted column (in what people read), else ""."""
        if self.column != column:
            return ""
        descending = self.sort.startswith("-")
        return "descending" if descending else "ascending"


def filter_tasks(user, query: TableQuery) -> QuerySet[ImageTask]:
    """The visible tasks that match the filters, in the asked order (not yet sliced)."""
    tasks = access.visible_tasks(user).filter(dismissed_at__isnull=not query.dismissed)
    if query.status:
        tasks = tasks.filter(status__in=query.status)
    if query.type:
        tasks = tasks.filter(type=query.type)
    if query.cloud:
        tasks = tasks.filter(cloud__name=query.cloud)
    if query.mine:
        tasks = tasks.filter(submitted_by=user)
    if query.recent:
        tasks = tasks.filter(changed_at__gte=timezone.now() - RECENT)
    if query.q:
        tasks = tasks.filter(_search(query.q))
    return tasks.order_by(*SORTS[query.sort])


def _search(text: str) -> Q:
    """Name, ids, and the container/object of the input or the result (any case).

    Served by a trigram index (upkeep/search_index.py); a local task id matches exactly.
    """
    condition = search_index.matching(text)
    with contextlib.suppress(ValueError):
        condition |= Q(pk=uuid.UUID(text))
    return condition


@dataclass
class Group:
    """Rows shown together: one task, or the tasks of one copy under the copy."""

    tasks: list[ImageTask]
    copy: Copy | None = None


@dataclass
class Page:
    tasks: list[ImageTask]
    query: TableQuery
    has_next: bool
    version: str
    # The minute the page was drawn in: rendered rows are cached per minute (see
    # templates/dashboard/tasks.html), as their ages and expiry texts change by it.
    minute: int = 0
    total: int = 0  # capped at COUNT_CAP + 1
    groups: list[Group] = field(default_factory=list)

    @property
    def in_flight(self) -> int:
        return sum(1 for task in self.tasks if task.status_info.in_flight)

    @property
    def refresh(self) -> str:
        return FAST_REFRESH if self.in_flight else IDLE_REFRESH

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1

    @property
    def first(self) -> int:
        return (self.query.page - 1) * self.query.size + 1 if self.tasks else 0

    @property
    def last(self) -> int:
        return self.first + len(self.tasks) - 1 if self.tasks else 0

    @property
    def total_is_capped(self) -> bool:
        return self.total > COUNT_CAP

    @property
    def cap(self) -> int:
        return COUNT_CAP


def _bounds(query: TableQuery) -> tuple[int, int]:
    start = (query.page - 1) * query.size
    return start, start + query.size + 1  # one more row tells whether a next page exists


def time_bucket() -> int:
    """Changes every minute, so ages and expiry texts are redrawn even when no task changed."""
    return int(time.time() // 60)


def version_of(query: TableQuery, keys, minute: int | None = None) -> str:
    """A digest of what a page shows: the filter, each row's (id, version), and the minute."""
    digest = hashlib.sha256(query.querystring().encode())
    digest.update(str(time_bucket() if minute is None else minute).encode())
    for pk, version in keys:
        digest.update(f"|{pk}:{version}".encode())
    return digest.hexdigest()[:16]


def current_version(user, query: TableQuery) -> str:
    """The page's version from one narrow query (ids and versions only), for polls."""
    start, end = _bounds(query)
    keys = list(filter_tasks(user, query).values_list("pk", "version")[start:end])
    return version_of(query, keys[: query.size])


def capped_count(tasks: QuerySet[ImageTask]) -> int:
    """How many rows, counting no further than COUNT_CAP + 1 (a bounded index scan)."""
    return tasks.order_by()[: COUNT_CAP + 1].count()


def page_of(user, query: TableQuery) -> Page:
    """The page's rows, with cloud and submitter joined in (one query), its total and
    the copies its tasks belong to (one query each)."""
    start, end = _bounds(query)
    related = ["cloud", "submitted_by"] + (["dismissed_by"] if query.dismissed else [])
    rows = list(filter_tasks(user, query).select_related(*related)[start:end])
    tasks = rows[: query.size]
    minute = time_bucket()
    version = version_of(query, ((t.pk, t.version) for t in tasks), minute)
    has_next = len(rows) > query.size
    # The last page knows its total; only a page with more after it needs to count.
    total = capped_count(filter_tasks(user, query)) if has_next else start + len(tasks)
    return Page(
        tasks=tasks,
        query=query,
        has_next=has_next,
        version=version,
        minute=minute,
        total=total,
        groups=group_by_copy(user, tasks),
    )


def group_by_copy(user, tasks: list[ImageTask]) -> list[Group]:
    """The page's tasks in order, the tasks of a copy together where the first of them is.

    Only copies the person may see (both clouds) group anything.
    """
    ids = [task.pk for task in tasks]
    copies = access.visible_copies(user).filter(
        Q(export_task_id__in=ids) | Q(import_task_id__in=ids)
    )
    copy_of: dict[uuid.UUID, Copy] = {}
    for linked in copies.select_related("source_cloud", "target_cloud") if ids else []:
        for task_id in (linked.export_task_id, linked.import_task_id):
            if task_id:
                copy_of[task_id] = linked
    groups: list[Group] = []
    by_copy: dict[uuid.UUID, Group] = {}
    for task in tasks:
        copy = copy_of.get(task.pk)
        # The row names its copy, and caches by it: an attribute for the template only,
        # which the model does not declare (the models of copies import this one).
        task.copy = copy  # type: ignore[attr-defined]
        if copy is None:
            groups.append(Group([task]))
        elif copy.pk in by_copy:
            by_copy[copy.pk].tasks.append(task)
        else:
            by_copy[copy.pk] = Group([task], copy)
            groups.append(by_copy[copy.pk])
    return groups


@dataclass
class Counters:
    """The figures above the table, each a link to the filter that lists them."""

    in_flight: int
    failed: int
    succeeded: int

    in_flight_query = TableQuery(status=statuses.codes(statuses.Phase.IN_FLIGHT))
    failed_query = TableQuery(status=statuses.codes(statuses.Phase.FAILED), recent=True)
    succeeded_query = TableQuery(status=statuses.codes(statuses.Phase.SUCCEEDED), recent=True)

    @property
    def cap(self) -> int:
        return COUNT_CAP


def counters(user) -> Counters:
    """Tasks in flight now; failed and succeeded in the last 24 hours (visible ones only,
    not dismissed: each counts what its link shows)."""
    tasks = access.visible_tasks(user).filter(dismissed_at__isnull=True)
    since = timezone.now() - RECENT
    return Counters(
        in_flight=capped_count(tasks.filter(status__in=statuses.IN_FLIGHT)),
        failed=capped_count(tasks.filter(status__in=statuses.FAILED, changed_at__gte=since)),
        succeeded=capped_count(tasks.filter(status__in=statuses.SUCCEEDED, changed_at__gte=since)),
    )
