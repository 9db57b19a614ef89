"""Bodies the scripted cloud serves: the reference's own samples (files in ``reference/``,
verbatim from images-v2-tasks.md) and builders for identity answers and Glance tasks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from imagetasks.openstack import CloudConfig
from tests.openstack.scripted import Reply, ScriptedCloud

REFERENCE = Path(__file__).parent / "reference"

# Recognisable on sight, so a leak anywhere is easy to find.
SECRET = "Sekrit-Pa55w0rd-7a1c0ffee"
TOKEN = "gAAAAA-Token-9f8e7d6c5b4a-ONE"
SECOND_TOKEN = "gAAAAA-Token-0123456789ab-TWO"
PROJECT_ID = "5ef70662f8b34079a6eddb8da9d75fe8"
IDENTITY_PATH = "/identity/v3/auth/tokens"
IMAGE_PATH = "/image"
SWIFT_PATH = f"/swift/v1/AUTH_{PROJECT_ID}"
TASK_ID = "fc29a67c-ad76-49bc-a317-a5f38dcb44c0"


def reference_text(name: str) -> str:
    return (REFERENCE / f"{name}.json").read_text()


def reference_json(name: str) -> Any:
    return json.loads(reference_text(name))


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def keystone_body(
    cloud: ScriptedCloud,
    *,
    expires_at: datetime,
    image_url: str = "",
    image_regions: dict[str, str] | None = None,
) -> dict:
    """A Keystone v3 token body with image and object-store endpoints on the scripted cloud;
    ``image_regions`` adds an image endpoint (all three interfaces) for each further region
    (its name → URL), after RegionOne's."""
    body = {
        "token": {
            "methods": ["password"],
            "expires_at": timestamp(expires_at),
            "issued_at": timestamp(expires_at - timedelta(hours=24)),
            "project": {"id": PROJECT_ID, "name": "demo", "domain": {"id": "default"}},
            "catalog": [
                {
                    "type": "image",
                    "name": "glance",
                    "endpoints": [
                        {
                            "interface": "public",
                            "region": "RegionOne",
                            "url": image_url or cloud.url + IMAGE_PATH,
                        }
                    ],
                },
                {
                    "type": "object-store",
                    "name": "swift",
                    "endpoints": [
                        {
                            "interface": "public",
                            "region": "RegionOne",
                            "url": cloud.url + SWIFT_PATH,
                        }
                    ],
                },
            ],
        }
    }
    image_endpoints = body["token"]["catalog"][0]["endpoints"]
    for region, url in (image_regions or {}).items():
        image_endpoints += [
            {"interface": interface, "region": region, "url": url}
            for interface in ("public", "internal", "admin")
        ]
    return body


def keystone_reply(cloud: ScriptedCloud, token: str = TOKEN, **body: Any) -> Reply:
    body.setdefault("expires_at", datetime.now(UTC) + timedelta(hours=24))
    return Reply(201, json=keystone_body(cloud, **body), headers={"X-Subject-Token": token})


def v3_config(cloud: ScriptedCloud, **fields: Any) -> CloudConfig:
    defaults: dict[str, Any] = {
        "auth_url": cloud.url + "/identity",
        "auth_type": "v3password",
        "username": "olivia",
        "secret": SECRET,
        "project_name": "demo",
        "timeout": (2.0, 5.0),
    }
    return CloudConfig(**{**defaults, **fields})


def glance_import_input() -> dict[str, Any]:
    """The ``input`` Glance's own task form builds to import a raw cirros image by URL."""
    return {
        "import_from": "http://127.0.0.1:8000/cirros.raw",
        "import_from_format": "raw",
        "image_properties": {
            "name": "cirros",
            "disk_format": "raw",
            "container_format": "bare",
            "owner": PROJECT_ID,
        },
    }


def glance_task(status: str = "processing", **fields: Any) -> dict[str, Any]:
    """A Glance 33 detail view: message "", result null, no expires_at until it ends."""
    task = {
        "created_at": "2026-05-05T17:15:10Z",
        "id": "2b61ed2b-f800-4da0-99ff-396b742b8646",
        "input": glance_import_input(),
        "message": "",
        "owner": PROJECT_ID,
        "request_id": "req-4bd3bb4c-0b6a-4e8e-9f36-6d8a3b0e2a11",
        "result": None,
        "schema": "/v2/schemas/task",
        "self": "/v2/tasks/2b61ed2b-f800-4da0-99ff-396b742b8646",
        "status": status,
        "type": "import",
        "updated_at": "2026-05-05T17:15:11Z",
        "user_id": "9a1f7d2c3b4e4f5a8b6c7d8e9f0a1b2c",
    }
    task.update(fields)
    return task


def task_schema(*types: str) -> dict[str, Any]:
    """The minimal task schema with the given ``type`` enum."""
    schema = reference_json("rackspace_task_schema")
    schema["properties"]["type"]["enum"] = list(types)
    return schema
