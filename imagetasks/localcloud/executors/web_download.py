"""web-download's fetch: an http(s) URL on this machine's loopback, and nowhere else.

The built-in cloud runs beside the dashboard, so a URL it fetches for a user
must not reach into the network around it: only 127.0.0.1, ::1 and localhost
are allowed, as Glance's ``allowed_hosts`` filter would be set. A redirect
must point there too, and at most ``MAX_REDIRECTS`` are followed. The body
is streamed into a blob in constant memory, paced like any task's work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import urljoin, urlsplit

import requests

from imagetasks.localcloud import blobstore
from imagetasks.localcloud.executors.throttle import Pacer

LOOPBACK = ("127.0.0.1", "::1", "localhost")
SCHEMES = ("http", "https")
MAX_REDIRECTS = 3
TIMEOUT = (5.0, 30.0)  # connect, and between bytes
# What Glance's task says of a download that failed (a 404, a refused connection…).
GLANCE_FAILURE = "Task failed due to Internal Error"


class DownloadFailed(Exception):
    """The data could not be fetched; the message is what the task shows."""


def passes_filter(uri: object) -> bool:
    """Whether ``uri`` is an http(s) URL of a loopback host (Glance's URI filter)."""
    if not isinstance(uri, str) or not uri or "\x00" in uri:
        return False
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        return False
    return parts.scheme.lower() in SCHEMES and (parts.hostname or "") in LOOPBACK


def download(
    uri: str, blob_id: str, *, task_id: str, limit: int, pacer: Pacer
) -> blobstore.WrittenBlob:
    """Write what ``uri`` answers into the blob ``blob_id``; ``DownloadFailed`` if it cannot."""
    with requests.Session() as session:
        session.trust_env = False  # no proxy from the environment: loopback means loopback
        response = _follow(session, uri)
        with response:
            expected = _declared_length(response)
            if expected is not None and expected > limit:
                raise DownloadFailed(_too_large(limit))
            chunks = _limited(response.iter_content(blobstore.CHUNK_SIZE), limit, pacer.advance)
            try:
                written = blobstore.write_stream(chunks, blob_id)
            except requests.RequestException:
                raise DownloadFailed(GLANCE_FAILURE) from None
    if expected is not None and written.size != expected:
        blobstore.delete(blob_id)
        raise DownloadFailed(
            f"Task {task_id} failed because downloaded data size {written.size} is different "
            f"from expected {expected}"
        )
    return written


def _follow(session: requests.Session, uri: str) -> requests.Response:
    url = uri
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = session.get(url, stream=True, timeout=TIMEOUT, allow_redirects=False)
        except requests.RequestException:
            raise DownloadFailed(GLANCE_FAILURE) from None
        if not response.is_redirect:
            if response.status_code >= 400:
                response.close()
                raise DownloadFailed(GLANCE_FAILURE)
            return response
        target = urljoin(url, response.headers.get("Location", ""))
        response.close()
        if not passes_filter(target):
            raise DownloadFailed(f"Redirect to disallowed URL: {target}")
        url = target
    raise DownloadFailed(f"Too many redirects (more than {MAX_REDIRECTS}) from {uri}")


def _declared_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() and len(value) < 20 else None


def _limited(
    chunks: Iterator[bytes], limit: int, advance: Callable[[int], None]
) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise DownloadFailed(_too_large(limit))
        advance(len(chunk))
        yield chunk


def _too_large(limit: int) -> str:
    return f"The incoming image is too large: it exceeds the limit of {limit} bytes."
