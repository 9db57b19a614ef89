"""What the client needs to know about one cloud account.

The fields follow ``clouds.yaml`` closely so an account can be copied from one, with a
single ``secret`` for whatever the auth type calls it (password, API key, application
credential secret, token). The secret is left out of ``repr`` so a config can be logged or
shown in a traceback safely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

AUTH_TYPES = (
    "v3password",
    "v3applicationcredential",
    "v2password",
    "rackspace_apikey",
    "token",
    "none",
)
INTERFACES = ("public", "internal", "admin")
SERVICE_TYPES = ("image", "object-store")

# Auth types with no identity service, hence no catalog: endpoints come from overrides.
CATALOG_FREE = ("token", "none")


@dataclass(frozen=True)
class CloudConfig:
    """One account on one cloud. Empty strings mean "not set" (as in a blank form field)."""

    auth_url: str = ""
    auth_type: str = "v3password"
    username: str = ""
    secret: str = field(default="", repr=False)
    project_name: str = ""
    project_id: str = ""
    user_domain: str = "default"
    project_domain: str = ""
    app_credential_id: str = ""
    region: str = ""
    interface: str = "public"
    verify_tls: bool | str = True
    # (connect, read) seconds; one number sets both. A list is accepted as read from JSON.
    timeout: float | tuple[float, float] = (5.0, 30.0)
    endpoint_overrides: Mapping[str, str] = field(default_factory=dict)
    retries: int = 3
    max_retry_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.auth_type not in AUTH_TYPES:
            raise ValueError(f"auth_type {self.auth_type!r} is not one of {', '.join(AUTH_TYPES)}")
        if self.interface not in INTERFACES:
            raise ValueError(f"interface {self.interface!r} is not one of {', '.join(INTERFACES)}")
        if self.auth_type not in CATALOG_FREE and not self.auth_url:
            raise ValueError(f"auth_type {self.auth_type!r} needs an auth_url")
        if self.auth_type == "v3applicationcredential" and not self.app_credential_id:
            raise ValueError("auth_type 'v3applicationcredential' needs an app_credential_id")
        unknown = set(self.endpoint_overrides) - set(SERVICE_TYPES)
        if unknown:
            raise ValueError(f"endpoint_overrides has unknown service types: {sorted(unknown)}")
        if self.retries < 0:
            raise ValueError("retries must be 0 or more")
        if min(self.timeouts) <= 0:
            raise ValueError("timeouts must be positive")

    @property
    def timeouts(self) -> tuple[float, float]:
        """``(connect, read)`` in seconds, as ``requests`` takes them."""
        if isinstance(self.timeout, tuple | list):
            connect, read = self.timeout
            return (float(connect), float(read))
        return (float(self.timeout), float(self.timeout))
