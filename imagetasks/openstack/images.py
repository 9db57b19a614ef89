"""Images v2: tasks (the point of the dashboard) and images (to show what an import made).

Catalogs disagree on whether the image URL ends in ``/v2`` (Rackspace's does, Glance's
does not), so the endpoint is cut back to its root once and every path here starts with
``/v2``. Pagination links are relative to that root.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from imagetasks.openstack.errors import Forbidden, MalformedResponse, TasksForbidden
from imagetasks.openstack.session import CloudSession
from imagetasks.openstack.transport import Timeout
from imagetasks.openstack.types import (
    Image,
    Page,
    ShapeError,
    Task,
    Unreadable,
    image_or_unreadable,
)

T = TypeVar("T")

# Ids in one ``id=in:`` filter: 100 UUIDs make a query of about 3.7 kB, well under the
# 8-16 kB request lines servers and proxies accept.
IDS_PER_REQUEST = 100
# A growing walk (``list_tasks(grow_to=…)``) asks each page this many times the last.
PAGE_GROWTH = 4

_VERSION_SUFFIX = re.compile(r"/v2(?:\.\d+)?$")


def image_root(url: str) -> str:
    """The image service root: ``http://host:9292/v2/`` and ``http://host:9292`` alike."""
    return _VERSION_SUFFIX.sub("", url.rstrip("/"))


@contextmanager
def _tasks_api() -> Iterator[None]:
    """Glance keeps the tasks API admin-only by default: say so instead of a bare 403."""
    try:
        yield
    except TasksForbidden:
        raise
    except Forbidden as exc:
        raise TasksForbidden(
            f"this account may not use the tasks API: {exc.message}",
            status=exc.status,
            request_id=exc.request_id,
            body=exc.body,
        ) from exc


def _schema(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ShapeError("the task schema is not a JSON object")
    return body


def _with_limit(url: str, size: int) -> str:
    """``url`` (a ``next`` link) asking for a page of ``size``, whatever limit it carried."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(name, value) for name, value in query if name != "limit"] + [("limit", str(size))]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page_limit(limit: int | None, page_size: int | None) -> int | None:
    sizes = [size for size in (limit, page_size) if size]
    return min(sizes) if sizes else None


class ImagesApi:
    """Tasks and images of one account, in its own region or in ``region`` of the same
    cloud (the images there the account may see, as Glance's glance-download reads them)."""

    def __init__(self, session: CloudSession, *, region: str = ""):
        self._session = session
        self.region = region

    @cached_property
    def root(self) -> str:
        """The Images API's versioned root, from the catalog's image endpoint."""
        return image_root(self._session.endpoint("image", region=self.region))

    # Tasks ----------------------------------------------------------------------------

    def create_task(
        self, type: str, input: dict[str, Any], *, timeout: Timeout | None = None
    ) -> Task:
        """POST a task. Never retried: on ``outcome_unknown`` errors reconcile, don't repost."""
        with _tasks_api():
            response = self._session.request(
                "POST",
                f"{self.root}/v2/tasks",
                json={"type": type, "input": input},
                headers={"Content-Type": "application/json"},
                timeout=timeout,
            )
            return self._session.decode(response, Task.from_json)

    def get_task(self, task_id: str) -> Task:
        with _tasks_api():
            response = self._session.request("GET", f"{self.root}/v2/tasks/{quote(task_id, '')}")
            return self._session.decode(response, Task.from_json)

    def list_tasks(
        self,
        *,
        status: str | None = None,
        type: str | None = None,
        sort_key: str | None = None,
        sort_dir: str | None = None,
        limit: int | None = None,
        page_size: int | None = None,
        grow_to: int | None = None,
    ) -> Iterator[Task]:
        """Tasks in list view (no input, result or message), following ``next`` links.

        ``limit`` caps how many are yielded in all; ``page_size`` how many each request asks.
        ``grow_to``: each page after the first asks ``PAGE_GROWTH`` times as many as the one
        before, up to this many, so that a walk that usually stops within a small first
        page still reads a long list in a few requests.
        """
        params = {
            "status": status,
            "type": type,
            "sort_key": sort_key,
            "sort_dir": sort_dir,
            "limit": _page_limit(limit, page_size),
        }
        with _tasks_api():
            yield from self._paginate(
                "/v2/tasks", params, "tasks", Task.from_json, limit, grow_to=grow_to
            )

    def get_task_schema(self) -> dict[str, Any]:
        """``GET /v2/schemas/task``: its type enum tells which flavour of cloud this is."""
        with _tasks_api():
            response = self._session.request("GET", f"{self.root}/v2/schemas/task")
            return self._session.decode(response, _schema)

    # Images ---------------------------------------------------------------------------

    def get_image(self, image_id: str) -> Image:
        response = self._session.request("GET", f"{self.root}/v2/images/{quote(image_id, '')}")
        return self._session.decode(response, Image.from_json)

    def delete_image(self, image_id: str) -> None:
        """``DELETE /v2/images/{id}`` (204), retried like a GET: a second try finds it gone,
        a ``NotFound`` the caller may take as done."""
        self._session.request(
            "DELETE", f"{self.root}/v2/images/{quote(image_id, '')}", idempotent=True
        )

    def list_images(
        self,
        *,
        ids: Sequence[str] | None = None,
        limit: int | None = None,
        page_size: int | None = None,
        **filters: Any,
    ) -> Iterator[Image]:
        """Images visible to the account; ``filters`` are Glance's query parameters as they are
        (``name``, ``owner``, ``status``, ``visibility``, ``sort_key``…).

        ``ids`` asks for those images only, with Glance's ``id=in:`` filter: one request
        for up to ``IDS_PER_REQUEST`` of them, so a poller watching many imports asks once
        per round (and no second request for the empty page after a full one). Ids the
        cloud does not know (or no longer shows) are simply absent;
        an empty ``ids`` asks nothing. A cloud that answers with images not asked for
        does not know the filter: ``MalformedResponse``, before a second page is read.
        """
        if ids is None:
            params = {**filters, "limit": _page_limit(limit, page_size)}
            yield from self._paginate("/v2/images", params, "images", Image.from_json, limit)
            return
        wanted = list(dict.fromkeys(ids))
        for image_id in wanted:
            if not image_id or any(char in image_id for char in ',"'):
                raise ValueError(f"not an image id an in: filter can carry: {image_id!r}")
        yielded = 0
        for start in range(0, len(wanted), IDS_PER_REQUEST):
            batch = wanted[start : start + IDS_PER_REQUEST]
            left = limit - yielded if limit else None
            params = {
                **filters,
                "id": "in:" + ",".join(batch),
                "limit": _page_limit(left, page_size or len(batch)),
            }
            asked, found = set(batch), set()
            for image in self._paginate("/v2/images", params, "images", Image.from_json, left):
                if image.id not in asked:
                    # Without the filter the walk would read every image of the account.
                    raise MalformedResponse(
                        f"the image list holds {image.id!r}, not asked for: this cloud "
                        "ignores the id=in: filter; read the images one by one"
                    )
                yield image
                yielded += 1
                found.add(image.id)
                if found == asked:
                    break  # every image asked for: the `next` of a full page has nothing more
            if limit and yielded >= limit:
                return

    def scan_images(
        self, *, limit: int | None = None, page_size: int | None = None, **filters: Any
    ) -> Iterator[Image | Unreadable]:
        """Images as ``list_images`` lists them without ids, but an entry that is not a
        readable image comes as ``Unreadable`` instead of failing its page, so a scan over
        many images (discovery) goes past one hostile entry and can say which it was."""
        params = {**filters, "limit": _page_limit(limit, page_size)}
        yield from self._paginate("/v2/images", params, "images", image_or_unreadable, limit)

    # Paging ---------------------------------------------------------------------------

    def _paginate(
        self,
        path: str,
        params: dict[str, Any],
        key: str,
        build: Callable[[Any], T],
        limit: int | None,
        *,
        grow_to: int | None = None,
    ) -> Iterator[T]:
        url: str | None = self.root + path
        query: dict[str, Any] | None = {k: v for k, v in params.items() if v is not None}
        yielded = 0
        page_size = params.get("limit")  # what the page asks, when growing
        while url:
            response = self._session.request("GET", url, params=query)
            page = self._session.decode(response, lambda body: Page.from_json(body, key, build))
            for item in page.items:
                yield item
                yielded += 1
                if limit and yielded >= limit:
                    return
            # An empty page ends the walk: Glance sends a `next` after every full page,
            # so the page after the last full one comes back empty.
            if not page.items or not page.next_link:
                return
            next_url = self._resolve(page.next_link)
            if next_url == response.url:
                raise MalformedResponse(f"the {key} list links to itself as its next page")
            if grow_to:
                page_size = min(grow_to, (page_size or len(page.items)) * PAGE_GROWTH)
                next_url = _with_limit(next_url, page_size)
            url, query = next_url, None

    def _resolve(self, link: str) -> str:
        """An absolute URL for a ``next`` link, which is relative to the image root.

        A server behind a path prefix may also write the prefix into its links; both forms
        work. A link to another host is refused: the token would go with it.
        """
        root = urlsplit(self.root)
        target = urlsplit(link)
        if target.scheme or target.netloc:
            if (target.scheme, target.netloc) != (root.scheme, root.netloc):
                raise MalformedResponse(f"a next link points to another host: {target.netloc}")
            return link
        link = "/" + link.lstrip("/")
        prefix = root.path.rstrip("/")
        if prefix and link.startswith(prefix + "/v2/"):
            return f"{root.scheme}://{root.netloc}{link}"
        return self.root + link
