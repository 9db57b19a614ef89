"""GET /api/v1/clouds: the clouds the caller may see, as the dashboard's forms offer them."""

from __future__ import annotations

from ninja import Router

from imagetasks.dashboard import access
from imagetasks.dashboard.api import schemas
from imagetasks.dashboard.api.errors import ERRORS
from imagetasks.dashboard.models import Cloud

router = Router(tags=["clouds"])


def _names(value: object, key: str | None = None) -> list[str] | None:
    """A discovered list as names: entries of another shape are left out (null: unknown)."""
    if not isinstance(value, list):
        return None
    if key is not None:
        value = [entry.get(key) for entry in value if isinstance(entry, dict)]
    return [entry for entry in value if isinstance(entry, str) and entry]


def cloud_out(cloud: Cloud, may_submit: bool) -> schemas.Cloud:
    return schemas.Cloud(
        name=cloud.name,
        description=cloud.description,
        region=cloud.region,
        enabled=cloud.enabled,
        may_submit=may_submit and cloud.enabled,
        images_api_version=cloud.images_api_version,
        import_methods=_names(cloud.import_methods),
        image_stores=_names(cloud.image_stores, "id"),
        tasks_api=cloud.tasks_api,
    )


@router.get(
    "", response={200: list[schemas.Cloud], **ERRORS}, url_name="clouds", operation_id="listClouds"
)
def list_clouds(request):
    """The clouds granted to the caller or their groups (every cloud for superusers)."""
    may_submit = access.can_submit(request.user)
    return [cloud_out(cloud, may_submit) for cloud in access.visible_clouds(request.user)]
