"""The task table: filters, sorting, paging and the version of what a page shows.

Everything here reads the database only, never a cloud. Queries stay on the
existing indexes (``task_status_recent``, ``task_cloud_recent``,
``task_owner_recent``, ``-submitted_at``), never count the whole table, and
fetch the page's rows with their cloud and submitter in one query.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q, QuerySet

from imagetasks.dashboard import access, search_index, statuses
from imagetasks.dashboard.models import ImageTask

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
FAST_REFRESH = "2s"
SLOW_REFRESH = "30s"

# Sort key in the URL -> ORDER BY; every order ends on the primary key so
# pages never overlap or skip a row that shares a timestamp.
SORTS: dict[str, tuple[str, ...]] = {
    "-submitted": ("-submitted_at", "-id"),
    "submitted": ("submitted_at", "id"),
    "-changed": ("-changed_at", "-id"),
    "status": ("status", "-submitted_at", "-id"),
    "type": ("type", "-submitted_at", "-id"),
    "name": ("name", "-submitted_at", "-id"),
}
SORT_LABELS = {
    "-submitted": "Newest first",
    "submitted": "Oldest first",
    "-changed": "Last changed",
    "status": "Status",
    "type": "Type",
    "name": "Name",
}
DEFAULT_SORT = "-submitted"


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
    q: str = ""
    sort: str = DEFAULT_SORT
    page: int = 1
    size: int = PAGE_SIZE

    @classmethod
    def from_request(cls, request) -> TableQuery:
        get = request.GET
        return cls(
            status=[s for s in get.getlist("status") if s in statuses.STATUSES],
            type=get.get("type", "") if get.get("type") in ImageTask.Type.values else "",
            cloud=get.get("cloud", "")[:64],
            mine=get.get("mine") == "1",
            q=get.get("q", "").strip()[:200],
            sort=get.get("sort") if get.get("sort") in SORTS else DEFAULT_SORT,
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
        return bool(self.status or self.type or self.cloud or self.mine or self.q)


def filter_tasks(user, query: TableQuery) -> QuerySet[ImageTask]:
    """The visible tasks that match the filters, in the asked order (not yet sliced)."""
    tasks = access.visible_tasks(user)
    if query.status:
        tasks = tasks.filter(status__in=query.status)
    if query.type:
        tasks = tasks.filter(type=query.type)
    if query.cloud:
        tasks = tasks.filter(cloud__name=query.cloud)
    if query.mine:
        tasks = tasks.filter(submitted_by=user)
    if query.q:
        tasks = tasks.filter(_search(query.q))
    return tasks.order_by(*SORTS[query.sort])


def _search(text: str) -> Q:
    """Name, ids, and the container/object of the input or the result (any case).

    Served by a trigram index (search_index.py); a local task id matches exactly.
    """
    condition = search_index.matching(text)
    with contextlib.suppress(ValueError):
        condition |= Q(pk=uuid.UUID(text))
    return condition


@dataclass
class Page:
    tasks: list[ImageTask]
    query: TableQuery
    has_next: bool
    version: str
    # The minute the page was drawn in: rendered rows are cached per minute (see
    # templates/dashboard/tasks.html), as their ages and expiry texts change by it.
    minute: int = 0

    @property
    def in_flight(self) -> int:
        return sum(1 for task in self.tasks if task.status_info.in_flight)

    @property
    def refresh(self) -> str:
        return FAST_REFRESH if self.in_flight else SLOW_REFRESH

    @property
    def has_previous(self) -> bool:
        return self.query.page > 1


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


def page_of(user, query: TableQuery) -> Page:
    """The page's rows, with cloud and submitter joined in: one query, whatever the size."""
    start, end = _bounds(query)
    rows = list(filter_tasks(user, query).select_related("cloud", "submitted_by")[start:end])
    tasks = rows[: query.size]
    minute = time_bucket()
    version = version_of(query, ((t.pk, t.version) for t in tasks), minute)
    return Page(
        tasks=tasks, query=query, has_next=len(rows) > query.size, version=version, minute=minute
    )
