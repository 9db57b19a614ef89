"""Version discovery documents, as Keystone serves them.

keystoneauth reads these before authenticating when given an ``auth_url``
without a token path: it picks a version here and follows its ``self`` link,
so the links must be absolute URLs of this server.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from imagetasks.localcloud.catalog import identity_url


@dataclass(frozen=True)
class Version:
    path: str
    id: str
    status: str
    updated: str
    media_type: str


V3 = Version(
    "v3", "v3.14", "stable", "2020-04-07T00:00:00Z", "application/vnd.openstack.identity-v3+json"
)
V2 = Version(
    "v2.0",
    "v2.0",
    "deprecated",
    "2014-04-17T00:00:00Z",
    "application/vnd.openstack.identity-v2.0+json",
)
VERSIONS = (V3, V2)


def describe(request: HttpRequest, version: Version) -> dict:
    return {
        "id": version.id,
        "status": version.status,
        "updated": version.updated,
        "links": [{"rel": "self", "href": identity_url(request, version.path) + "/"}],
        "media-types": [{"base": "application/json", "type": version.media_type}],
    }
