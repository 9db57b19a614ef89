"""Properties of the object store under arbitrary names and query parameters.

These go through the Django test client rather than the live server: it runs
the same URLs, views and middleware in this process, a hundred times faster,
and it hands the path bytes to Django exactly as given (requests would unquote
``%2E`` and drop dot segments before sending).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import quote_from_bytes

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imagetasks.localcloud.models import StoredObject
from imagetasks.localcloud.objectstore import service

pytestmark = pytest.mark.usefixtures("fast_hashing")

PROPERTY_SETTINGS = settings(
    max_examples=75,
    deadline=None,
    database=None,  # no example database written into the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

TRICKY = [
    "..",
    ".",
    "../..",
    "../../etc/passwd",
    "/etc/passwd",
    "%2e%2e%2f",
    "%00",
    "\x00",
    "a/../../b",
    "//",
    "~",
    "\\..\\..",
    "é" * 200,
    "x" * 1100,
]

# A name as the bytes of a path segment: text (any code point, "/" included),
# arbitrary bytes (often not UTF-8), or a known troublemaker.
raw_names = st.one_of(
    st.text(max_size=300).map(str.encode),
    st.binary(max_size=300),
    st.sampled_from(TRICKY).map(str.encode),
    st.text(alphabet="./%\\~a", max_size=20).map(str.encode),
)
query_values = st.one_of(
    st.text(max_size=40).map(str.encode),
    st.binary(max_size=40),
    st.sampled_from([b"", b"0", b"-1", b"10000", b"10001", b"1e3", b"/", b"%", b".."]),
    st.sampled_from([b"9" * 400, b"9" * 4400]),
)
queries = st.dictionaries(
    st.sampled_from(
        [b"limit", b"marker", b"end_marker", b"prefix", b"delimiter", b"format", b"other"]
    ),
    query_values,
    max_size=6,
)


def encoded(raw: bytes, *, keep_slashes: bool) -> str:
    return quote_from_bytes(raw, safe="/" if keep_slashes else "")


def query_string(params: dict[bytes, bytes]) -> str:
    return "&".join(
        f"{encoded(k, keep_slashes=False)}={encoded(v, keep_slashes=False)}"
        for k, v in params.items()
    )


def files_outside(roots: list[Path], store_dir: Path) -> set[Path]:
    return {
        path
        for root in roots
        for path in root.rglob("*")
        if path.is_file() and not path.is_relative_to(store_dir)
    }


@PROPERTY_SETTINGS
@given(container=raw_names, name=raw_names, query=queries)
def test_arbitrary_names_and_queries_never_cause_a_server_error(
    client, account, store_dir, tmp_path, container, name, query
):
    base = f"/localcloud/object/v1/AUTH_{account.project.id}"
    container_path = f"{base}/{encoded(container, keep_slashes=False)}"
    object_path = f"{container_path}/{encoded(name, keep_slashes=True)}"
    roots = [tmp_path, Path(django_settings.VAR_DIR)]
    before = files_outside(roots, store_dir)
    headers = {"HTTP_X_AUTH_TOKEN": account.token(), "HTTP_ACCEPT": "application/json"}

    statuses = {
        "put container": client.put(container_path, **headers).status_code,
        "put object": client.generic("PUT", object_path, b"body", **headers).status_code,
        "get object": client.get(object_path, **headers).status_code,
        "head object": client.head(object_path, **headers).status_code,
        "list objects": client.get(
            f"{container_path}?{query_string(query)}", **headers
        ).status_code,
        "list containers": client.get(f"{base}?{query_string(query)}", **headers).status_code,
        "delete object": client.delete(object_path, **headers).status_code,
        "delete container": client.delete(container_path, **headers).status_code,
    }

    assert all(status < 500 for status in statuses.values()), statuses
    if statuses["put object"] == 201:
        assert statuses["get object"] == 200
        assert statuses["delete object"] == 204
    assert files_outside(roots, store_dir) == before


# Header values as a WSGI server hands them on: Latin-1 text without line breaks.
header_values = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=255, blacklist_characters="\r\n"), max_size=40),
    st.sampled_from(["", "0", "-1", "9" * 40, "bytes=0-", "bytes=-0", "/docs/x", "/", "%ff"]),
    # Longer than float or int() can read (int() stops at 4,300 digits).
    st.sampled_from(["9" * 400, "9" * 4400, f"bytes={'9' * 4400}-", f"bytes=0-{'9' * 4400}"]),
)
object_headers = st.dictionaries(
    st.sampled_from(
        [
            "HTTP_X_DELETE_AFTER",
            "HTTP_X_DELETE_AT",
            "HTTP_ETAG",
            "HTTP_RANGE",
            "HTTP_X_COPY_FROM",
            "HTTP_X_OBJECT_META_COLOR",
            "HTTP_X_FRESH_METADATA",
            "CONTENT_TYPE",
        ]
    ),
    header_values,
    max_size=5,
)


@PROPERTY_SETTINGS
@given(put_headers=object_headers, get_headers=object_headers)
def test_arbitrary_object_headers_never_cause_a_server_error(
    client, account, store_dir, put_headers, get_headers
):
    container, _ = service.create_container(account.project, "docs")
    service.put_object(container, "x", [b"source bytes"], "text/plain")
    path = f"/localcloud/object/v1/AUTH_{account.project.id}/docs/target"
    auth = {"HTTP_X_AUTH_TOKEN": account.token()}

    statuses = [
        client.generic("PUT", path, b"data", **auth, **put_headers).status_code,
        client.get(path, **auth, **get_headers).status_code,
        client.head(path, **auth, **get_headers).status_code,
        client.post(path, **auth, **put_headers).status_code,
    ]

    assert all(status < 500 for status in statuses), statuses


@PROPERTY_SETTINGS
@given(
    names=st.lists(
        st.text(
            alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=["Cs"]),
            min_size=1,
            max_size=12,
        ),
        min_size=0,
        max_size=25,
        unique=True,
    ),
    prefix=st.sampled_from(["", "a", "a/", "é", "/"]),
    delimiter=st.sampled_from(["", "/", "a", "-"]),
    limit=st.integers(min_value=1, max_value=7),
)
def test_following_markers_lists_every_entry_once_in_byte_order(
    client, account, names, prefix, delimiter, limit
):
    container, _ = service.create_container(account.project, f"c-{uuid.uuid4().hex}")
    StoredObject.objects.bulk_create(
        StoredObject(
            container=container,
            name=name,
            size=0,
            etag="d41d8cd98f00b204e9800998ecf8427e",
            last_modified=timezone.now(),
            blob_id=uuid.uuid4().hex,
        )
        for name in names
    )
    path = f"/localcloud/object/v1/AUTH_{account.project.id}/{container.name}"
    headers = {"HTTP_X_AUTH_TOKEN": account.token(), "HTTP_ACCEPT": "application/json"}

    seen, marker = [], ""
    for _ in range(len(names) + 2):
        params = {"limit": limit, "marker": marker, "prefix": prefix, "delimiter": delimiter}
        page = client.get(path, params, **headers).json()
        if not page:
            break
        seen += [entry.get("subdir", entry.get("name")) for entry in page]
        marker = seen[-1]

    assert seen == expected_listing(names, prefix, delimiter)


def expected_listing(names: list[str], prefix: str, delimiter: str) -> list[str]:
    """Swift's listing, computed the slow way: sort by UTF-8 bytes, fold at the delimiter."""
    entries: list[str] = []
    for name in sorted(names, key=str.encode):
        if not name.startswith(prefix):
            continue
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        entry = name if cut < 0 else name[: cut + len(delimiter)]
        if not entries or entries[-1] != entry:
            entries.append(entry)
    return entries
