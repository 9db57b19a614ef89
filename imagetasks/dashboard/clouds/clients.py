"""Building ``imagetasks.openstack`` clients from ``Cloud`` rows.

A worker process keeps one client per cloud, so its token is reused across
polls until it nears expiry; editing the cloud (or its secret) makes a new one.
"""

from __future__ import annotations

import dataclasses
import hashlib
import threading

from imagetasks.dashboard.models import Cloud
from imagetasks.openstack import CloudClient, CloudConfig

_lock = threading.Lock()
_clients: dict[int, tuple[str, CloudClient]] = {}


CONFIG_FIELDS = (
    "auth_url", "auth_type", "username", "secret_encrypted", "project_name", "project_id",
    "user_domain", "project_domain", "application_credential_id", "region", "interface",
    "verify_tls", "timeout", "image_endpoint", "object_store_endpoint",
)  # fmt: skip


def config_for(cloud: Cloud) -> CloudConfig:
    overrides = {}
    if cloud.image_endpoint:
        overrides["image"] = cloud.image_endpoint
    if cloud.object_store_endpoint:
        overrides["object-store"] = cloud.object_store_endpoint
    return CloudConfig(
        auth_url=cloud.auth_url,
        auth_type=cloud.auth_type,
        username=cloud.username,
        secret=cloud.reveal_secret(),
        project_name=cloud.project_name,
        project_id=cloud.project_id,
        user_domain=cloud.user_domain,
        project_domain=cloud.project_domain,
        app_credential_id=cloud.application_credential_id,
        region=cloud.region,
        interface=cloud.interface,
        verify_tls=cloud.verify_tls,
        timeout=(min(5.0, cloud.timeout), cloud.timeout),
        endpoint_overrides=overrides,
    )


def _identity(cloud: Cloud) -> str:
    """What a cached client depends on: its config (the secret only as a digest).

    Not the whole row: the poller moves bookkeeping fields on every scan, and a
    new client means a new token.
    """
    fields = [str(getattr(cloud, name)) for name in CONFIG_FIELDS]
    return hashlib.sha256("\0".join(fields).encode()).hexdigest()


def client_for(cloud: Cloud) -> CloudClient:
    identity = _identity(cloud)
    with _lock:
        cached = _clients.get(cloud.pk)
        if cached and cached[0] == identity:
            return cached[1]
        client = CloudClient(config_for(cloud))
        if cached:
            cached[1].close()
        _clients[cloud.pk] = (identity, client)
        return client


def probe_client(cloud: Cloud, timeout: tuple[float, float]) -> CloudClient:
    """A client of its own for a few quick questions: ``timeout`` instead of the cloud's,
    and no retries, so a slow or broken cloud costs its caller seconds, not minutes.
    Not cached: the caller closes it."""
    config = dataclasses.replace(config_for(cloud), timeout=timeout, retries=0)
    return CloudClient(config)


def forget_clients() -> None:
    """Drop every cached client (tests; a worker after fork)."""
    with _lock:
        for _, client in _clients.values():
            client.close()
        _clients.clear()
