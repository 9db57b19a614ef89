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
CopyStatus = StrEnum("CopyStatus", {code: code for code in statuses.COPY_STATUSES})  # type: ignore[misc]
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
    history_pruned_at: datetime | None = Field(
        description="When retention removed the snapshots between the first and the last; "
        "null: the timeline is whole."
    )
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
    ``web-download``: the cloud fetches ``url`` into a new image (interoperable import);
    ``glance-download``: the cloud copies the image ``image_id`` of another ``region`` of
    its own into a new one, named as that image unless ``name`` is given."""

    cloud: str = Field(max_length=64, pattern=NO_NUL)
    method: Literal["tasks-api", "web-download", "glance-download"] = "tasks-api"
    container: str | None = None
    object: str | None = None
    url: str | None = None
    region: str | None = Field(
        None, description="glance-download: the region to copy from (the form's first if none)."
    )
    image_id: str | None = Field(None, description="glance-download: the image to copy.")
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


# Browsing a cloud: what its object storage and Images API list, as the cloud said it.


class ContainerFilters(BaseModel):
    prefix: str = Field("", max_length=256, pattern=NO_NUL, description="Names that start so.")


class StoredContainer(BaseModel):
    """A container of the account's object storage, as the cloud lists it."""

    name: str
    count: int = Field(description="How many objects it holds.")
    bytes: int
    last_modified: datetime | None


class ContainerList(BaseModel):
    items: list[StoredContainer] = Field(description="In name order.")
    truncated: bool = Field(description="More match than are listed: a longer prefix finds them.")


class ObjectFilters(BaseModel):
    prefix: str = Field("", max_length=1024, pattern=NO_NUL, description="Names that start so.")
    marker: str = Field(
        "", max_length=1024, pattern=NO_NUL, description="From `next_marker` of the page before."
    )


class StoredObject(BaseModel):
    """An object of a container, as the cloud lists it."""

    name: str
    bytes: int
    hash: str = Field(description="The store's MD5 of its content (empty: not given).")
    content_type: str
    last_modified: datetime | None


class ObjectPage(BaseModel):
    items: list[StoredObject] = Field(description="In name order.")
    next_marker: str | None = Field(description="Pass as `marker` for the next page; null: last.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


class ImageFilters(BaseModel):
    q: str = Field(
        "", max_length=255, pattern=NO_NUL, description="Names that contain it, or the exact id."
    )
    page: int = Field(1, ge=1, le=10_000)
    region: str = Field(
        "",
        max_length=255,
        pattern=NO_NUL,
        description="Another region of the cloud (one its catalog names): every image the "
        "account sees there, as a glance-download copies them. Empty: the account's own "
        "images in the cloud's region, as an export or a copy takes them.",
    )


class CloudImage(BaseModel):
    """An image, as the cloud shows it."""

    id: str
    name: str | None
    status: str
    disk_format: str | None
    container_format: str | None
    size: int | None
    owner: str | None
    visibility: str | None
    created_at: datetime | None
    updated_at: datetime | None
    stores: list[str] = Field(description="The stores its data is in (empty: not told).")


class ImagePage(BaseModel):
    items: list[CloudImage] = Field(description="In name order.")
    matched: int = Field(description="How many images match, on every page.")
    page: int = Field(description="This page's number (the last one, for a number past it).")
    truncated: bool = Field(description="The cloud has more images than are searched here.")
    next: str | None = Field(description="The next page's URL; null on the last page.")


# Copies: to another cloud or region (a copy), to more stores of the same cloud (a task).


class CopyIn(BaseModel):
    """A copy of one of the account's images to another cloud or region, as the copy
    form takes it: exported here, streamed across, imported there."""

    cloud: str = Field(max_length=64, pattern=NO_NUL, description="The cloud the image is in.")
    image_id: str = Field(description="One of the account's own active images there.")
    target: str = Field(
        max_length=64,
        pattern=NO_NUL,
        description="Another of the caller's clouds, or another region of the same account.",
    )
    name: str = Field("", description="Its name in the target; empty: the image's name.")


class CopyStep(BaseModel):
    """One entry of a copy's timeline."""

    step: str = Field(description="copy, export, transfer, import or cleanup.")
    status: str
    message: str
    at: datetime


class Copy(BaseModel):
    """A copy and its timeline. Its export and import are tasks of their own."""

    id: uuid.UUID
    url: str = Field(description="This copy in the API.")
    page: str = Field(description="This copy's page in the dashboard.")
    status: CopyStatus
    status_label: str
    final: bool = Field(description="Succeeded or failed: nothing more will happen.")
    error: str = Field(description="Why it failed (empty unless it did).")
    source_cloud: str
    source_image_id: str
    source_image_name: str
    target_cloud: str
    target_name: str
    target_image_id: str | None = Field(description="The new image, once it is known.")
    export_task: uuid.UUID | None
    import_task: uuid.UUID | None
    bytes_total: int | None
    bytes_done: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    version: int = Field(description="Grows with every change of what the copy shows.")
    steps: list[CopyStep] = Field(description="The timeline, oldest first.")


class StoreCopyIn(BaseModel):
    """A copy of an image of the cloud to more of its stores (Glance's ``copy-image``), as
    the form on the image's page takes it."""

    cloud: str = Field(max_length=64, pattern=NO_NUL)
    image_id: str = Field(min_length=1, max_length=64, pattern=NO_NUL)
    stores: list[str] = Field(description="Stores the image is not in yet.")
    allow_failures: bool = Field(
        False, description="Done in the stores it reached; otherwise one failure fails it."
    )


class UploadIn(BaseModel):
    """What the upload into a new image takes beside the file, as the page sends it."""

    cloud: str = Field(max_length=64, pattern=NO_NUL)
    name: str = Field(description="The new image's name.")
    disk_format: str | None = Field(None, description="As the form: qcow2 unless given.")
    container_format: str | None = Field(None, description="As the form: bare unless given.")
    stores: list[str] = Field(default_factory=list, description="Empty: the default store.")
    filename: str = Field("", description="The file's own name, kept with the task.")
