"""HTTP for one cloud account: token, timeouts, retries, re-authentication, logging.

Every call of the package goes through ``CloudSession.request`` so the rules hold
everywhere: a (connect, read) timeout on every request; ``Accept: application/json`` (Glance
negotiates its error bodies on it) and our User-Agent; GET and HEAD retried on connection
errors, 429 and 502/503/504 honouring ``Retry-After``; nothing else retried unless the
caller says the request is idempotent, because a repeated POST may create a second task;
a 401 re-authenticates once and replays the request once. Secrets never reach a log line
or an exception.
"""

from __future__ import annotations

import importlib.metadata
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter

from imagetasks.openstack import jsonbody
from imagetasks.openstack.auth import Token, plugin_for
from imagetasks.openstack.config import CATALOG_FREE, CloudConfig
from imagetasks.openstack.errors import (
    BODY_LIMIT,
    AuthError,
    CloudError,
    MalformedResponse,
    body_text,
    error_from_response,
    request_id_of,
    truncate,
)
from imagetasks.openstack.retry import RetryPolicy
from imagetasks.openstack.transport import Timeout, transport_error, where
from imagetasks.openstack.types import ShapeError

log = logging.getLogger("imagetasks.openstack")

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
# Tokens held over a session's life, kept to scrub them from error texts of late answers.
_REMEMBERED_TOKENS = 4


def _user_agent() -> str:
    try:
        version = importlib.metadata.version("imagetasks")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"imagetasks/{version}"


USER_AGENT = _user_agent()


def _is_stream(data: Any) -> bool:
    return data is not None and not isinstance(data, bytes | str)


class CloudSession:
    """The HTTP side of one account. Thread-safe: the token is renewed under a lock."""

    def __init__(
        self,
        config: CloudConfig,
        *,
        clock: Callable[[], datetime] | None = None,
    ):
        self.config = config
        self._plugin = plugin_for(config)
        self._retry = RetryPolicy(attempts=config.retries, max_wait=config.max_retry_wait)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._token: Token | None = None
        self._past_tokens: deque[str] = deque(maxlen=_REMEMBERED_TOKENS)
        self._http = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
        self._http.mount("http://", adapter)
        self._http.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"<CloudSession {self.config.auth_type} {self.config.auth_url or '(no identity)'}>"

    def close(self) -> None:
        self._http.close()

    # Identity -------------------------------------------------------------------------

    def authenticate(self) -> Token:
        """A token good for at least two more minutes, fetched only when needed."""
        with self._lock:
            if self._token is None or not self._token.usable_at(self._clock()):
                self._token = self._fetch_token()
            return self._token

    def _renew(self, stale: Token) -> Token:
        """A new token after ``stale`` was refused, unless another thread already got one."""
        with self._lock:
            if self._token is None or self._token is stale:
                self._token = self._fetch_token()
            return self._token

    def _forget(self, stale: Token) -> None:
        with self._lock:
            if self._token is stale:
                self._token = None

    def _fetch_token(self) -> Token:
        started = time.monotonic()
        try:
            token = self._plugin.authenticate(self._identity_post)
        except ShapeError as exc:
            # No body on this error: an identity answer holds a fresh token.
            raise MalformedResponse(
                f"unreadable answer from the identity service: {exc}", outcome_unknown=False
            ) from None
        except CloudError as exc:
            # The caller's own request has not been sent yet, so whatever happened at the
            # identity service, its outcome is known: it did not happen.
            exc.outcome_unknown = False
            raise
        if token.value:
            self._past_tokens.append(token.value)
        log.info(
            "authenticated auth_type=%s project_id=%s expires_at=%s elapsed_ms=%d",
            self.config.auth_type,
            token.project_id,
            token.expires_at.isoformat() if token.expires_at else "-",
            (time.monotonic() - started) * 1000,
        )
        return token

    def _identity_post(self, url: str, body: dict[str, Any]) -> tuple[Mapping[str, str], Any]:
        # Asking for a token twice is harmless, so identity POSTs may be retried.
        response = self._exchange(
            "POST", url, "", retry=True, timeout=self.config.timeouts, json=body
        )
        if response.status_code >= 300:
            error = error_from_response(response, self.scrub)
            if not (400 <= response.status_code < 500) or response.status_code == 429:
                raise error
            raise AuthError(
                f"the identity service refused the credentials ({error.status}): {error.message}",
                status=error.status,
                request_id=error.request_id,
                body=error.body,
            )
        try:
            return response.headers, jsonbody.parse(response.content)
        except ValueError:
            raise MalformedResponse(
                "the identity service answered with a body that is not JSON it can read",
                status=response.status_code,
                request_id=request_id_of(response),
            ) from None

    @property
    def project_id(self) -> str:
        """The project the token is scoped to (Glance imports need it as ``owner``)."""
        return self.authenticate().project_id

    def endpoint(self, service_type: str, *, region: str = "") -> str:
        """The URL of a service: an override if configured, else the token's catalog.

        ``region`` asks for the service of another region of the same cloud (an override
        stands for the account's own region only), always from the catalog.
        """
        if region and region.lower() != self.config.region.lower():
            return self.authenticate().catalog.url_for(
                service_type, interface=self.config.interface, region=region
            )
        override = self.config.endpoint_overrides.get(service_type)
        if override:
            return override
        return self.authenticate().catalog.url_for(
            service_type, interface=self.config.interface, region=self.config.region
        )

    def other_regions(self, service_type: str) -> tuple[str, ...]:
        """The catalog's regions other than this account's own that offer ``service_type``
        on its interface; none without a catalog (a fixed token, no authentication).

        The own region is the configured one, or, when none is, the region of the first
        endpoint the catalog lists for the service (the one ``endpoint`` would use).
        """
        if self.config.auth_type in CATALOG_FREE:
            return ()
        regions = self.authenticate().catalog.regions_of(
            service_type, interface=self.config.interface
        )
        own = (self.config.region or (regions[0] if regions else "")).lower()
        return tuple(region for region in regions if region.lower() != own)

    def scrub(self, text: str) -> str:
        """The text with this session's secret and tokens masked."""
        for secret in (self.config.secret, *self._past_tokens):
            if secret:
                text = text.replace(secret, "***")
        return text

    # Requests -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: Timeout | None = None,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send a request with the token; any answer but 2xx raises a ``CloudError``.

        ``idempotent`` allows retries for a method other than GET/HEAD (a container PUT).
        A streamed body cannot be replayed, so its 401 is raised (after dropping the
        token, so the next call re-authenticates) instead of being retried.
        """
        retry = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        options = {
            "params": params,
            "json": json,
            "data": data,
            "headers": headers,
            "stream": stream,
            "timeout": timeout or self.config.timeouts,
        }
        token = self.authenticate()
        response = self._exchange(method, url, token.value, retry=retry, **options)
        if response.status_code == 401 and self._plugin.reauthenticates:
            if _is_stream(data):
                self._forget(token)
            else:
                response.close()
                token = self._renew(token)
                response = self._exchange(method, url, token.value, retry=retry, **options)
        # Redirects are not followed (a redirect elsewhere would carry the token along), so
        # a 3xx is as unexpected as an error.
        if response.status_code >= 300:
            raise error_from_response(response, self.scrub)
        return response

    def decode(self, response: requests.Response, build: Callable[[Any], T]) -> T:
        """Build a result from a JSON body; anything unreadable is a ``MalformedResponse``."""
        try:
            return build(jsonbody.parse(response.content))
        except ValueError as exc:  # JSONDecodeError and ShapeError alike
            reason = str(exc) if isinstance(exc, ShapeError) else "not JSON"
            raise MalformedResponse(
                f"{response.request.method} {where(response.url)}: unreadable answer ({reason})",
                status=response.status_code,
                request_id=request_id_of(response),
                body=truncate(self.scrub(body_text(response)), BODY_LIMIT),
            ) from None

    def _exchange(
        self, method: str, url: str, token: str, *, retry: bool, timeout: Timeout, **options: Any
    ) -> requests.Response:
        """Send, retrying transport errors and 429/5xx-gateway answers when ``retry``."""
        attempt = 0
        while True:
            try:
                response = self._send(method, url, token, timeout=timeout, **options)
            except requests.RequestException as exc:
                error, retryable = transport_error(method, url, exc, timeout)
                if not (retry and retryable and attempt < self._retry.attempts):
                    raise error from exc
                reason, wait = error.message, self._retry.delay(attempt)
            else:
                status = response.status_code
                if not (retry and attempt < self._retry.attempts and status in RETRY_STATUSES):
                    return response
                reason = str(status)
                wait = self._retry.delay(attempt, response.headers.get("Retry-After"))
                response.close()
            attempt += 1
            log.warning(
                "retrying method=%s url=%s attempt=%d/%d wait_s=%.2f reason=%s",
                method,
                where(url),
                attempt,
                self._retry.attempts,
                wait,
                reason,
            )
            time.sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        timeout: Timeout,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> requests.Response:
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if token:
            sent["X-Auth-Token"] = token
        sent.update(headers or {})
        started = time.monotonic()
        try:
            response = self._http.request(
                method,
                url,
                headers=sent,
                timeout=timeout,
                verify=self.config.verify_tls,
                allow_redirects=False,
                **options,
            )
        except requests.RequestException as exc:
            log.debug(
                "http method=%s url=%s error=%s elapsed_ms=%d",
                method,
                where(url),
                type(exc).__name__,
                (time.monotonic() - started) * 1000,
            )
            raise
        log.debug(
            "http method=%s url=%s status=%d elapsed_ms=%d request_id=%s",
            method,
            where(url),
            response.status_code,
            (time.monotonic() - started) * 1000,
            request_id_of(response) or "-",
        )
        return response
