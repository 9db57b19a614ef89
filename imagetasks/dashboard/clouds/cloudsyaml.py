"""Reading OpenStack ``clouds.yaml`` files into ``Cloud`` rows.

The file's names are kept; a second import of the same file updates the rows
instead of adding new ones. A secret missing from the file leaves the stored
one alone, so ``secure.yaml``-style splits can be imported in two steps.
Besides the standard keys, an entry may say ``segment_size``: the bytes per
segment of a large object in that cloud's object storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from imagetasks.dashboard.models import Cloud

_SECRET_KEYS = ("password", "api_key", "application_credential_secret", "token")


class CloudsYamlError(ValueError):
    """The file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class ImportResult:
    created: list[str]
    updated: list[str]


def _auth_type(name: str, entry: dict, auth: dict) -> str:
    declared = str(entry.get("auth_type") or "password").replace("-", "_")
    version = str(entry.get("identity_api_version") or "3")
    if declared in {"password", "v3password", "v2password"}:
        if declared == "v2password" or (declared == "password" and version.startswith("2")):
            return Cloud.AuthType.V2_PASSWORD
        return Cloud.AuthType.V3_PASSWORD
    known = {
        "v3applicationcredential": Cloud.AuthType.V3_APPLICATION_CREDENTIAL,
        "rackspace_apikey": Cloud.AuthType.RACKSPACE_APIKEY,
        "token": Cloud.AuthType.TOKEN,
        "v3token": Cloud.AuthType.TOKEN,
        "admin_token": Cloud.AuthType.TOKEN,
        "none": Cloud.AuthType.NONE,
        "noauth": Cloud.AuthType.NONE,
    }
    if declared not in known:
        raise CloudsYamlError(f"cloud {name!r}: auth_type {declared!r} is not supported")
    return known[declared]


def cloud_fields(name: str, entry: dict) -> tuple[dict, str | None]:
    """The ``Cloud`` fields of one clouds.yaml entry, and its secret (None when absent)."""
    if not isinstance(entry, dict):
        raise CloudsYamlError(f"cloud {name!r} is not a mapping")
    auth = entry.get("auth") or {}
    if not isinstance(auth, dict):
        raise CloudsYamlError(f"cloud {name!r}: 'auth' is not a mapping")
    verify = entry.get("verify", True)
    fields = {
        "auth_type": _auth_type(name, entry, auth),
        "auth_url": str(auth.get("auth_url") or ""),
        "username": str(auth.get("username") or auth.get("user_id") or ""),
        "project_name": str(auth.get("project_name") or auth.get("tenant_name") or ""),
        "project_id": str(auth.get("project_id") or auth.get("tenant_id") or ""),
        "user_domain": str(auth.get("user_domain_name") or auth.get("user_domain_id") or "Default"),
        "project_domain": str(
            auth.get("project_domain_name") or auth.get("project_domain_id") or "Default"
        ),
        "application_credential_id": str(auth.get("application_credential_id") or ""),
        "region": str(entry.get("region_name") or ""),
        "interface": str(entry.get("interface") or "public"),
        "verify_tls": bool(verify),
        "image_endpoint": str(entry.get("image_endpoint_override") or ""),
        "object_store_endpoint": str(entry.get("object_store_endpoint_override") or ""),
    }
    if "segment_size" in entry:
        fields["segment_size"] = _segment_size(name, entry["segment_size"])
    secret = next((str(auth[k]) for k in _SECRET_KEYS if auth.get(k)), None)
    return fields, secret


def _segment_size(name: str, value: object) -> int:
    """Bytes per large-object segment, as a whole number (digits in a string too)."""
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise CloudsYamlError(f"cloud {name!r}: segment_size {value!r} is not a number of bytes")
    return value


def import_file(path: Path) -> ImportResult:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise CloudsYamlError(f"{path}: {error}") from None
    clouds = (document or {}).get("clouds") if isinstance(document, dict) else None
    if not isinstance(clouds, dict) or not clouds:
        raise CloudsYamlError(f"{path}: no 'clouds' mapping")
    created: list[str] = []
    updated: list[str] = []
    with transaction.atomic():
        for name, entry in clouds.items():
            fields, secret = cloud_fields(str(name), entry)
            cloud = Cloud.objects.filter(name=name).first() or Cloud(name=str(name))
            is_new = cloud.pk is None
            for field, value in fields.items():
                setattr(cloud, field, value)
            if secret is not None:
                cloud.set_secret(secret)
            try:
                cloud.full_clean(exclude=["users", "groups"])
            except ValidationError as error:
                raise CloudsYamlError(f"cloud {name!r}: {error.message_dict}") from None
            cloud.save()
            (created if is_new else updated).append(str(name))
    return ImportResult(created=created, updated=updated)
