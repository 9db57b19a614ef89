"""The service catalog: where a cloud says its image and object-store services live.

Keystone v3 lists one endpoint per interface (``interface`` + ``url``); v2.0 (Rackspace)
lists one entry per region with ``publicURL``/``internalURL``/``adminURL``. Both are read
into the same flat list so lookup is one rule: service type, then interface, then region.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from imagetasks.openstack.errors import EndpointNotFound
from imagetasks.openstack.types import ShapeError

_V2_URL_KEYS = {"public": "publicURL", "internal": "internalURL", "admin": "adminURL"}


@dataclass(frozen=True)
class Endpoint:
    service_type: str
    interface: str
    region: str
    url: str

    def describe(self) -> str:
        return f"{self.service_type} {self.interface} {self.region or '(no region)'}"


def _entries(catalog: Any) -> list[dict[str, Any]]:
    if not isinstance(catalog, list) or not all(isinstance(e, dict) for e in catalog):
        raise ShapeError("the service catalog is not a list of services")
    return catalog


def _endpoints_of(service: dict[str, Any]) -> list[dict[str, Any]]:
    endpoints = service.get("endpoints") or []
    if not isinstance(endpoints, list) or not all(isinstance(e, dict) for e in endpoints):
        raise ShapeError(f"catalog service {service.get('type')!r} has no list of endpoints")
    return endpoints


class Catalog:
    """The endpoints of one token, searchable by service type, interface and region."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()):
        self.endpoints = tuple(endpoints)

    @classmethod
    def from_v3(cls, catalog: Any) -> Catalog:
        return cls(
            Endpoint(
                service_type=str(service.get("type", "")),
                interface=str(endpoint.get("interface", "")),
                region=str(endpoint.get("region") or endpoint.get("region_id") or ""),
                url=str(endpoint.get("url", "")),
            )
            for service in _entries(catalog)
            for endpoint in _endpoints_of(service)
            if endpoint.get("url")
        )

    @classmethod
    def from_v2(cls, catalog: Any) -> Catalog:
        return cls(
            Endpoint(
                service_type=str(service.get("type", "")),
                interface=interface,
                region=str(endpoint.get("region") or ""),
                url=str(endpoint[key]),
            )
            for service in _entries(catalog)
            for endpoint in _endpoints_of(service)
            for interface, key in _V2_URL_KEYS.items()
            if endpoint.get(key)
        )

    def url_for(self, service_type: str, *, interface: str = "public", region: str = "") -> str:
        """The first matching URL; regions compare without case ("dfw" finds "DFW")."""
        for endpoint in self.endpoints:
            if (
                endpoint.service_type == service_type
                and endpoint.interface == interface
                and (not region or endpoint.region.lower() == region.lower())
            ):
                return endpoint.url
        raise EndpointNotFound(self._not_found(service_type, interface, region))

    def regions_of(self, service_type: str, *, interface: str = "public") -> tuple[str, ...]:
        """The named regions with an endpoint of ``service_type`` on ``interface``, in the
        catalog's order, each once (regions compare without case, the first spelling kept)."""
        seen: dict[str, str] = {}
        for endpoint in self.endpoints:
            if (
                endpoint.service_type == service_type
                and endpoint.interface == interface
                and endpoint.region
            ):
                seen.setdefault(endpoint.region.lower(), endpoint.region)
        return tuple(seen.values())

    def _not_found(self, service_type: str, interface: str, region: str) -> str:
        wanted = f"no {service_type!r} endpoint with interface {interface!r}"
        if region:
            wanted += f" in region {region!r}"
        if not self.endpoints:
            return f"{wanted}: the catalog is empty; set endpoint_overrides[{service_type!r}]"
        have = ", ".join(endpoint.describe() for endpoint in self.endpoints)
        return f"{wanted}; the catalog has: {have}"
