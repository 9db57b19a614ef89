"""Static large object manifests: a ``?multipart-manifest=put`` body, checked as Swift checks it.

The body is a JSON list of ``{"path": "/<container>/<object>", "etag", "size_bytes"}``
(``etag`` and ``size_bytes`` may be null). Its shape is checked first, each
problem reported as ``Index <n>: ...`` (a 400); then every segment is looked
up in the caller's account, and those missing, changed or too small are
reported together, as Swift's bulk answer lists them. What is stored is the
resolved list, in Swift's stored form, so a GET can tell later whether a
segment changed since.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

from imagetasks.localcloud.api import ApiError
from imagetasks.localcloud.models import Project, StoredObject
from imagetasks.localcloud.objectstore import headers, limits, names, segments, service, transfer

_KEYS = {"path", "etag", "size_bytes"}


@dataclass(frozen=True)
class Entry:
    """One segment as the client described it."""

    path: str
    container: str
    name: str
    etag: str | None
    size_bytes: int | None


@dataclass(frozen=True)
class Checked:
    """The manifest to store (Swift's form), its total size and its ETag; or the problems."""

    stored: list[dict]
    size: int
    etag: str
    problems: list[list[str]]


def read_body(request) -> bytes:
    """The manifest as sent; 413 when it is larger than Swift's manifest limit."""
    limit = limits.max_manifest_size()
    try:
        return b"".join(transfer.body_chunks(request, limit))
    except ApiError as error:
        if error.status == 413:
            raise ApiError(413, f"Manifest File > {limit} bytes") from None
        raise


def parse(body: bytes, container: str, name: str) -> list[Entry]:
    """The entries of a manifest body for ``container/name``; 400 (or 413) with Swift's words."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ApiError(400, "Manifest must be valid JSON.") from None
    if not isinstance(parsed, list):
        raise ApiError(400, "Manifest must be a list.")
    if not parsed:
        raise ApiError(400, "Manifest must list at least one segment.")
    if len(parsed) > limits.max_manifest_segments():
        raise ApiError(
            413, f"Number of object-backed segments must be <= {limits.max_manifest_segments()}"
        )
    entries, errors = [], []
    for index, item in enumerate(parsed):
        problem, entry = _entry(item, last=index == len(parsed) - 1)
        if entry is not None and (entry.container, entry.name) == (container, name):
            problem = "manifest must not include itself as a segment"
        if problem:
            errors.append(f"Index {index}: {problem}")
        elif entry is not None:
            entries.append(entry)
    if errors:
        raise ApiError(400, "\n".join(errors))
    return entries


def check(project: Project, entries: Sequence[Entry]) -> Checked:
    """Look every segment up; the manifest to store, or what is wrong with which segment."""
    found = segments.find_rows(project, [(entry.container, entry.name) for entry in entries])
    stored: list[dict] = []
    problems: list[list[str]] = []
    size = 0
    minimum = limits.min_segment_size()
    for index, entry in enumerate(entries):
        path = quote(entry.path)
        row = found.get((entry.container, entry.name))
        if row is None:
            problems.append([path, "404 Not Found"])
            continue
        if segments.is_large(row):
            problems.append([path, "Segments may not be large objects themselves."])
            continue
        etag = service.ensure_etag(row)
        if row.size < minimum and index < len(entries) - 1:
            problems.append([path, _too_small(minimum)])
        if entry.size_bytes is not None and entry.size_bytes != row.size:
            problems.append([path, "Size Mismatch"])
        if entry.etag is not None and entry.etag.strip('"').lower() != etag:
            problems.append([path, "Etag Mismatch"])
        size += row.size
        stored.append(stored_entry(entry.container, row))
    return Checked(stored, size, segments.etag_of_hashes(item["hash"] for item in stored), problems)


def stored_entry(container: str, segment: StoredObject) -> dict:
    """A segment as a manifest records it (Swift's stored form)."""
    return {
        "name": f"/{container}/{segment.name}",
        "bytes": segment.size,
        "hash": service.ensure_etag(segment),
        "content_type": segment.content_type,
        "last_modified": headers.listing_time(segment.last_modified),
    }


def _entry(item: object, *, last: bool) -> tuple[str, Entry | None]:
    """(problem, None) or ("", the entry) for one item of the list."""
    if not isinstance(item, dict):
        return "not a JSON object", None
    if "path" not in item:
        return "expected keys to include one of 'path'", None
    extraneous = sorted(key for key in item if key not in _KEYS)
    if extraneous:
        return "extraneous keys " + ", ".join(json.dumps(key) for key in extraneous), None
    path, etag = item["path"], item.get("etag")
    if not isinstance(path, str):
        return '"path" must be a string', None
    if etag is not None and not isinstance(etag, str):
        return '"etag" must be a string or null (if provided)', None
    if "/" not in path.strip("/"):
        return (
            "path does not refer to an object. Path must be of the form /container/object.",
            None,
        )
    try:
        size = _size(item.get("size_bytes"))
    except ValueError:
        return "invalid size_bytes", None
    if size is not None and size < 1 and not last:
        return "too small; each segment must be at least 1 byte.", None
    raw_container, _, raw_name = path.lstrip("/").partition("/")
    try:
        container = names.container_name(raw_container.encode())
        name = names.object_name(raw_name.encode())
    except ApiError as error:
        return error.message, None
    return "", Entry(path, container, name, etag, size)


def _size(value: object) -> int | None:
    """size_bytes as a number (a number or its digits), None when absent; else ValueError."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and headers.is_whole_number(value):
        return headers.whole_number(value, cap=transfer.LENGTH_CAP)
    raise ValueError(value)


def _too_small(minimum: int) -> str:
    unit = "byte" if minimum == 1 else "bytes"
    return f"Too small; each segment must be at least {minimum} {unit}."
