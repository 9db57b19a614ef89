"""Swift static large objects (SLO): limits, segment naming and the plan of an upload.

A store refuses a single object above ``max_file_size`` (5 GiB by default). Anything
bigger goes up as segments (plain objects in ``<container>_segments``) joined by a
manifest. Segment names follow swiftclient's,
``<name>/slo/<mtime>/<total size>/<segment size>/<index as %08d>``, where ``mtime``
identifies the version of what is uploaded: the same source lands on the same names,
so an upload started again finds the segments already stored.

The limits come from the store's ``/info``; whatever that answers (nothing, an error,
a wrong shape, absurd numbers) ends in usable limits, Swift's defaults where in doubt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Swift's own defaults (swift/common/constraints.py and the slo middleware).
DEFAULT_MAX_FILE_SIZE = 5_368_709_122
DEFAULT_MAX_MANIFEST_SEGMENTS = 1000
DEFAULT_MAX_MANIFEST_SIZE = 8_388_608
DEFAULT_MIN_SEGMENT_SIZE = 1
# No store holds an object above this (it is also the largest number a BigIntegerField
# keeps); a bigger claim in /info is taken as this.
LARGEST = 2**63 - 1
INFO_BODY_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class StoreLimits:
    """What a store accepts: the largest single object and the rules of a manifest."""

    max_file_size: int
    max_manifest_segments: int
    max_manifest_size: int
    min_segment_size: int
    slo: bool


DEFAULT_LIMITS = StoreLimits(
    max_file_size=DEFAULT_MAX_FILE_SIZE,
    max_manifest_segments=DEFAULT_MAX_MANIFEST_SEGMENTS,
    max_manifest_size=DEFAULT_MAX_MANIFEST_SIZE,
    min_segment_size=DEFAULT_MIN_SEGMENT_SIZE,
    slo=True,
)


def info_url(account_url: str) -> str:
    """The ``/info`` URL of a store, as swiftclient and openstacksdk derive it.

    The ``/v1/...`` part of the account URL becomes ``/info``
    (``https://host/object/v1/AUTH_x`` -> ``https://host/object/info``); without a
    ``v1`` segment, ``/info`` sits at the root of the host.
    """
    parts = urlsplit(account_url)
    segments = parts.path.split("/")
    if "v1" in segments:
        last = len(segments) - 1 - segments[::-1].index("v1")
        path = "/".join(segments[:last]) + "/info"
    else:
        path = "/info"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _count(section: Any, key: str, default: int) -> int:
    """A positive whole number from /info, else the default; capped at ``LARGEST``."""
    value = section.get(key) if isinstance(section, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        return default
    return min(value, LARGEST)


def limits_from_info(body: Any) -> StoreLimits:
    """Limits from a parsed ``/info`` body; any part missing or wrong is Swift's default.

    A body that is a JSON object without an ``slo`` section is a store that says it has
    no SLO middleware; anything else that is not an object says nothing, so SLO is
    assumed as on a stock Swift.
    """
    if not isinstance(body, dict):
        return DEFAULT_LIMITS
    swift, slo = body.get("swift"), body.get("slo")
    max_file_size = _count(swift, "max_file_size", DEFAULT_MAX_FILE_SIZE)
    return StoreLimits(
        max_file_size=max_file_size,
        max_manifest_segments=_count(slo, "max_manifest_segments", DEFAULT_MAX_MANIFEST_SEGMENTS),
        max_manifest_size=_count(slo, "max_manifest_size", DEFAULT_MAX_MANIFEST_SIZE),
        # A minimum above the largest object could never be met: the largest object is it.
        min_segment_size=min(
            _count(slo, "min_segment_size", DEFAULT_MIN_SEGMENT_SIZE), max_file_size
        ),
        slo="slo" in body,
    )


@dataclass(frozen=True)
class Segment:
    """One part of an upload: its place in the manifest and the bytes it covers."""

    index: int
    offset: int
    length: int


@dataclass(frozen=True)
class SegmentRef:
    """An entry of an SLO manifest; ``etag`` and ``size_bytes`` are checked by the store
    when given."""

    path: str
    etag: str | None
    size_bytes: int | None

    def as_json(self) -> dict[str, Any]:
        return {"path": self.path, "etag": self.etag, "size_bytes": self.size_bytes}


def segments_container(container: str) -> str:
    """Where the segments of objects in ``container`` go (swiftclient's choice)."""
    return f"{container}_segments"


def segment_prefix(name: str, mtime: str, size: int, segment_size: int) -> str:
    """The common start of the segment names of one version of an object; ends with ``/``."""
    return f"{name}/slo/{mtime}/{size}/{segment_size}/"


def segment_name(prefix: str, index: int) -> str:
    return f"{prefix}{index:08d}"


def segment_index(prefix: str, name: str) -> int | None:
    """The index in a segment's name, or None for a name that is not one of ``prefix``'s."""
    rest = name[len(prefix) :] if name.startswith(prefix) else ""
    return int(rest) if len(rest) >= 8 and rest.isascii() and rest.isdigit() else None


def plan_segments(total: int, segment_size: int) -> list[Segment]:
    """The segments of ``total`` bytes cut every ``segment_size`` bytes; the last is shorter."""
    if segment_size < 1:
        raise ValueError(f"a segment size must be positive, not {segment_size}")
    return [
        Segment(index, offset, min(segment_size, total - offset))
        for index, offset in enumerate(range(0, total, segment_size))
    ]


def choose_segment_size(total: int, wanted: int, limits: StoreLimits) -> int:
    """The segment size closest to ``wanted`` that the store takes for ``total`` bytes.

    At least ``min_segment_size``, at most ``max_file_size``, and large enough that the
    manifest stays within ``max_manifest_segments``. ``ValueError`` when no size fits
    (more than ``max_manifest_segments * max_file_size`` bytes).
    """
    if wanted < 1:
        raise ValueError(f"a segment size must be positive, not {wanted}")
    size = min(max(wanted, limits.min_segment_size), limits.max_file_size)
    if -(-total // size) > limits.max_manifest_segments:
        size = -(-total // limits.max_manifest_segments)
    if size > limits.max_file_size:
        raise ValueError(
            f"{total} bytes do not fit in {limits.max_manifest_segments} segments of at most "
            f"{limits.max_file_size} bytes"
        )
    return size
