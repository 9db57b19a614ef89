"""The service catalog the built-in Identity returns with every token.

Clients find the Images and Object Storage endpoints only through it, so the
URLs here are the contract between Identity and the other services. Two
flavours exist because the two identity APIs disagree: a Keystone v3 catalog
names Glance's unversioned root (clients add ``/v2``), while a Rackspace v2.0
catalog's image URL already ends in ``/v2``.

A project may have extra regions (``Project.extra_regions``): each adds an Images
endpoint of its own, ``/localcloud/regions/<region>/image``, and an Object Storage
endpoint naming the same account as the main region's, since the regions share one
object store. The main region's entries come first; a project without extra regions
gets exactly the catalog it always had.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest

from imagetasks.localcloud.models import Project

INTERFACES = ("public", "internal", "admin")
# Fixed ids, so a catalog is the same on every token and clients may cache it.
_NAMESPACE = uuid.UUID("0b7d3c8e-3f57-4a53-9a44-4f1f3c0a6b21")


def base_url(request: HttpRequest) -> str:
    """Where clients reach this server: the configured public URL, else the request's host."""
    configured = settings.LOCALCLOUD_PUBLIC_URL
    if configured:
        return configured.rstrip("/")
    return f"{request.scheme}://{request.get_host()}"


def object_store_url(request: HttpRequest, project: Project) -> str:
    return f"{base_url(request)}/localcloud/object/v1/{account_name(project)}"


def account_name(project: Project) -> str:
    """The Swift account of a project, as it appears in object-store paths."""
    return f"AUTH_{project.id}"


def image_url(request: HttpRequest, region: str = "") -> str:
    """The Images service root of ``region`` ("" or the main region: /localcloud/image)."""
    if not region or region == settings.LOCALCLOUD_REGION:
        return f"{base_url(request)}/localcloud/image"
    return f"{base_url(request)}/localcloud/regions/{quote(region, safe='')}/image"


def identity_url(request: HttpRequest, version: str) -> str:
    return f"{base_url(request)}/localcloud/identity/{version}"


def keystone_catalog(request: HttpRequest, project: Project) -> list[dict]:
    """The ``catalog`` of a Keystone v3 token."""
    main = settings.LOCALCLOUD_REGION
    regions = project.regions()
    services = [
        ("identity", "keystone", [(main, identity_url(request, "v3"))]),
        ("image", "glance", [(region, image_url(request, region)) for region in regions]),
        (
            "object-store",
            "swift",
            [(region, object_store_url(request, project)) for region in regions],
        ),
    ]
    return [
        {
            "id": _stable_id(service_type),
            "type": service_type,
            "name": name,
            "endpoints": [
                {
                    "id": _endpoint_id(service_type, interface, region),
                    "interface": interface,
                    "region": region,
                    "region_id": region,
                    "url": url,
                }
                for region, url in endpoints
                for interface in INTERFACES
            ],
        }
        for service_type, name, endpoints in services
    ]


def rackspace_catalog(request: HttpRequest, project: Project) -> list[dict]:
    """The ``serviceCatalog`` of a v2.0 token, named as Rackspace names its services."""
    main = settings.LOCALCLOUD_REGION
    regions = project.regions()
    services = [
        ("identity", "cloudIdentity", [(main, identity_url(request, "v2.0"))], project.id),
        (
            "image",
            "cloudImages",
            [(region, f"{image_url(request, region)}/v2") for region in regions],
            project.id,
        ),
        (
            "object-store",
            "cloudFiles",
            [(region, object_store_url(request, project)) for region in regions],
            account_name(project),
        ),
    ]
    return [
        {
            "name": name,
            "type": service_type,
            "endpoints": [
                {
                    "publicURL": url,
                    "internalURL": url,
                    "adminURL": url,
                    "region": region,
                    "tenantId": tenant_id,
                }
                for region, url in endpoints
            ],
        }
        for service_type, name, endpoints, tenant_id in services
    ]


def _endpoint_id(service_type: str, interface: str, region: str) -> str:
    """The main region's ids are the ones tokens always had; other regions' are named."""
    if region == settings.LOCALCLOUD_REGION:
        return _stable_id(f"{service_type}/{interface}")
    return _stable_id(f"{service_type}/{interface}/{region}")


def _stable_id(name: str) -> str:
    return uuid.uuid5(_NAMESPACE, name).hex
