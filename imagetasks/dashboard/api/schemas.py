"""What the API reads and answers, as pydantic types; the OpenAPI document is made from them.

Choices (statuses, types, orders) come from the modules that own them (``statuses``,
``tables``), so a status added there is in the API and its document at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from imagetasks.dashboard import statuses, tables
from imagetasks.dashboard.models import ImageTask

# Functional enums from the owners' tables: mypy cannot follow values made at import.
TaskStatus = StrEnum("TaskStatus", {code: code for code in statuses.STATUSES})  # type: ignore[misc]
TaskType = StrEnum("TaskType", {code: code for code in ImageTask.Type.values})  # type: ignore[misc]
Sort = StrEnum("Sort", {sort: sort for sort in tables.SORTS})  # type: ignore[misc]
Phase = statuses.Phase

NO_NUL = r"^[^\x00]*$"


class TaskFilters(BaseModel):
    """The task table's filters, order and page size; the same names as its URL's."""

    status: list[TaskStatus] = Field(default_factory=list, description="Any of these statuses.")
    type: TaskType | None = None
    cloud: str = Field("", max_length=64, pattern=NO_NUL, description="A cloud's name.")
    mine: bool = Field(False, description="Only tasks submitted by the caller.")
    recent: bool = Field(False, description="Only tasks changed in the last 24 hours.")
    dismissed: bool = Field(
        False,
        description="Only the dismissed tasks (the table's Dismissed view). Without it, "
        "dismissed tasks are left out, as the table leaves them out.",
    )
    q: str = Field(
        "",
        max_length=200,
        pattern=NO_NUL,
        description="Search names, ids and the container/object of the input or result.",
    )
    sort: Sort = Field(Sort(tables.DEFAULT_SORT), description="The table's orders; - reverses.")
    size: int = Field(tables.PAGE_SIZE, ge=1, le=tables.MAX_PAGE_SIZE)
    cursor: str | None = Field(
        None,
        max_length=2000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="From `next_cursor` of the page before (opaque: only this API makes them).",
    )

    def table_query(self) -> tables.TableQuery:
        return tables.TableQuery(
            status=[str(code) for code in self.status],
            type=str(self.type) if self.type else "",
            cloud=self.cloud.strip(),
            mine=self.mine,
            recent=self.recent,
            dismissed=self.dismissed,
            q=self.q.strip(),
            sort=str(self.sort),
            size=self.size,
        )


class Task(BaseModel):
    """One task as the dashboard knows it. ``input`` and ``result`` are what was sent to
    the cloud and what it answered (any JSON a cloud sends, for tasks found there)."""

    id: uuid.UUID
    url: str = Field(description="This task in the API.")
    page: str = Field(description="This task's page in the dashboard.")
    cloud: str
    type: TaskType
    method: str = Field(description="An interoperable import's method; empty: the tasks API.")
    name: str
    status: TaskStatus
    status_label: str
    phase: Phase
    message: str
    input: Any
    result: Any
    origin: str
    submitted_by: str | None
    submitted_at: datetime
    changed_at: datetime
    remote_id: str | None
    remote_created_at: datetime | None
    remote_updated_at: datetime | None
    expires_at: datetime | None
    remote_gone_at: datetime | None
    watching: bool
    last_error: str
    resubmitted_from: uuid.UUID | None
    dismissed_at: datetime | None = Field(
        description="When someone dismissed the task as dealt with; null: not dismissed."
    )
    dismissed_by: str | None = Field(description="Who dismissed it (null if not, or unknown).")
    version: int = Field(description="Grows with every change of what the task shows.")


class Snapshot(BaseModel):
    """One observed state of the remote task, with the body as the cloud sent it."""

    observed_at: datetime
    status: str
    message: str
    result: Any
    remote_updated_at: datetime | None
    expires_at: datetime | None
    body: Any


class TaskDetail(Task):
    snapshots: list[Snapshot] = Field(description="The timeline, oldest first.")


class TaskPage(BaseModel):
    items: list[Task]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: last.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


class Cloud(BaseModel):
    """A cloud the caller may see, and what it offers (as last discovered)."""

    name: str
    description: str
    region: str
    enabled: bool = Field(description="Switched off: nothing can be submitted to it.")
    may_submit: bool = Field(description="Whether the caller may submit work to it now.")
    images_api_version: str
    import_methods: list[str] | None = Field(description="Null: not known.")
    image_stores: list[str] | None = Field(description="Null: not known.")
    tasks_api: str


class ImportIn(BaseModel):
    """An import, as the import form takes it. ``tasks-api``: from an object (``container``
    and ``object``) on a Rackspace-style cloud, or from a ``url`` on a Glance-style one;
    ``web-download``: the cloud fetches ``url`` into a new image (interoperable import)."""

    cloud: str = Field(max_length=64, pattern=NO_NUL)
    method: Literal["tasks-api", "web-download"] = "tasks-api"
    container: str | None = None
    object: str | None = None
    url: str | None = None
    name: str = ""
    disk_format: str | None = Field(None, description="As the form: qcow2 unless given.")
    container_format: str | None = Field(None, description="As the form: bare unless given.")
    stores: list[str] = Field(default_factory=list)
    delete_source: bool = Field(False, description="Delete the source object after success.")


class ExportIn(BaseModel):
    """An export of one of the account's images to ``<container>/<image id>.vhd``."""

    cloud: str = Field(max_length=64, pattern=NO_NUL)
    image_id: str
    container: str = "exports"
    create_container: bool = True
