"""What a cloud offers for imports, discovered over HTTP and kept on its ``Cloud`` row.

Four questions, each its own request: the highest Images API version (``/versions``),
the import methods (``/v2/info/import``), the stores (``/v2/info/stores``) and whether
this account may use the tasks API (one task listed; a 403 means admin-only). They are
asked at once, on a client with short timeouts and no retries, so a cloud that does not
answer holds a refresh for seconds. The sign-in's catalog adds the other regions with an
Images API, where a glance-download may copy from. A question that gets no readable
answer is recorded as unknown, with the error, and the others still count: a refresh
never raises for anything the cloud does.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from imagetasks.dashboard.clouds.clients import probe_client
from imagetasks.dashboard.clouds.secretbox import SecretUnreadable
from imagetasks.dashboard.models import Cloud
from imagetasks.dashboard.tracking import storable
from imagetasks.openstack import CloudClient, CloudError

# A region name is short; a catalog listing more than this many regions is not believed.
REGION_LIMIT = 64
REGIONS_KEPT = 50
# (connect, read) seconds for each question.
PROBE_TIMEOUT = (5.0, 10.0)
ERROR_LIMIT = 2000
VERSION_LIMIT = 16  # the column's length

CAPABILITY_FIELDS = [
    "images_api_version",
    "import_methods",
    "image_stores",
    "image_regions",
    "tasks_api",
    "capabilities_error",
    "capabilities_checked_at",
    "copy_image_refused_at",
]


@dataclass
class Capabilities:
    """What one refresh found; ``None`` (or ``unknown``) where a question went unanswered."""

    images_api_version: str = ""
    import_methods: list[str] | None = None
    image_stores: list[dict[str, Any]] | None = None
    image_regions: list[str] | None = None
    tasks_api: str = Cloud.TasksApi.UNKNOWN
    errors: list[str] = field(default_factory=list)


def discover(client: CloudClient) -> Capabilities:
    """Ask the four questions of the cloud behind ``client``."""
    found = Capabilities()
    try:
        client.session.authenticate()
    except CloudError as exc:
        found.errors.append(f"sign-in: {exc.message}")
        return found
    # The token's catalog is already here: no request of its own.
    found.image_regions = [
        storable.text(region, REGION_LIMIT)
        for region in client.other_image_regions()[:REGIONS_KEPT]
    ]
    questions: dict[str, Callable[[], Any]] = {
        "Images API version": client.imports.images_api_version,
        "import methods": client.imports.import_methods,
        "stores": client.imports.stores,
        "tasks API": client.imports.tasks_api_permitted,
    }
    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        futures = {name: pool.submit(ask) for name, ask in questions.items()}
    answers: dict[str, Any] = {}
    unanswered: list[CloudError] = []
    for name, future in futures.items():
        try:
            answers[name] = future.result()
        except CloudError as exc:
            found.errors.append(f"{name}: {exc.message}")
            unanswered.append(exc)
    if len(unanswered) == len(questions) and all(exc.status is None for exc in unanswered):
        # No HTTP answer at all (refused, timed out): one reason says it.
        found.errors = [f"no answer: {unanswered[0].message}"]
    if "Images API version" in answers:
        found.images_api_version = storable.text(str(answers["Images API version"]), VERSION_LIMIT)
    if "import methods" in answers:
        found.import_methods = [storable.text(name) for name in answers["import methods"]]
    if "stores" in answers:
        found.image_stores = [storable.json_value(store.as_json()) for store in answers["stores"]]
    if "tasks API" in answers:
        permitted = answers["tasks API"]
        found.tasks_api = Cloud.TasksApi.PERMITTED if permitted else Cloud.TasksApi.ADMIN_ONLY
    return found


def refresh(cloud: Cloud) -> Capabilities:
    """Discover what ``cloud`` offers and save it on its row (those fields only)."""
    try:
        client = probe_client(cloud, PROBE_TIMEOUT)
    except (ValueError, SecretUnreadable) as exc:
        # The row's own settings cannot make a client (no auth URL, an unreadable secret).
        found = Capabilities(errors=[f"settings: {exc}"])
    else:
        with client:
            found = discover(client)
    cloud.images_api_version = found.images_api_version
    cloud.import_methods = found.import_methods
    cloud.image_stores = found.image_stores
    cloud.image_regions = found.image_regions
    cloud.tasks_api = found.tasks_api
    cloud.capabilities_error = storable.text("\n".join(found.errors), ERROR_LIMIT)
    cloud.capabilities_checked_at = timezone.now()
    cloud.copy_image_refused_at = None  # a policy may change: the next copy asks again
    cloud.save(update_fields=CAPABILITY_FIELDS)
    return found


def methods_text(cloud: Cloud) -> str:
    if cloud.import_methods is None:
        return "unknown"
    return ", ".join(str(name) for name in cloud.import_methods) or "none"


def stores_text(cloud: Cloud) -> str:
    if cloud.image_stores is None:
        return "unknown"
    return (
        ", ".join(
            f"{store.get('id')} (default)" if store.get("default") else str(store.get("id"))
            for store in cloud.image_stores
            if isinstance(store, dict)
        )
        or "one store"
    )


def regions_text(cloud: Cloud) -> str:
    if cloud.image_regions is None:
        return "unknown"
    return ", ".join(str(name) for name in cloud.image_regions) or "none"


def summary(cloud: Cloud) -> str:
    """One line of what the row says the cloud offers (other regions only when it has some)."""
    regions = f"; other image regions: {regions_text(cloud)}" if cloud.image_regions else ""
    return (
        f"Images API {cloud.images_api_version or 'unknown'}; "
        f"import methods: {methods_text(cloud)}; stores: {stores_text(cloud)}; "
        f"tasks API: {cloud.get_tasks_api_display().lower()}{regions}"
    )
