"""Images v2 under /localcloud/image/ (the v3 catalog's root; the v2.0 catalog adds /v2).

An extra region's Images endpoint, /localcloud/regions/<region>/image/, serves the same
image URLs (``region_urlpatterns``, unnamed so that ``reverse`` names the main region's)
but no tasks API: Glance's tasks are the main region's alone here.
"""

from django.urls import URLPattern, path, re_path

from imagetasks.localcloud.images import (
    image_views,
    info_views,
    schema_views,
    task_views,
    version_views,
)


def _image_patterns(*, named: bool) -> list[URLPattern]:
    def name(value: str) -> str | None:
        return value if named else None

    return [
        path("", version_views.root, name=name("image-versions")),
        path("versions", version_views.listing),
        path("v2", version_views.v2),
        path("v2/", version_views.v2),
        path("v2/images", image_views.images, name=name("image-list")),
        path("v2/images/<str:image_id>", image_views.image, name=name("image-detail")),
        path("v2/images/<str:image_id>/file", image_views.image_file, name=name("image-file")),
        path("v2/images/<str:image_id>/stage", image_views.image_stage, name=name("image-stage")),
        path(
            "v2/images/<str:image_id>/import", image_views.image_import, name=name("image-import")
        ),
        path("v2/images/<str:image_id>/tasks", image_views.image_tasks, name=name("image-tasks")),
        path("v2/info/import", info_views.import_methods, name=name("info-import")),
        path("v2/info/stores", info_views.image_stores, name=name("info-stores")),
        re_path(
            r"^v2/schemas/(?P<name>tasks?|images?)$", schema_views.schema, name=name("image-schema")
        ),
    ]


urlpatterns = [
    *_image_patterns(named=True),
    path("v2/tasks", task_views.tasks, name="task-list"),
    # Any rest, even empty or with slashes, is a task id: unknown ones are a JSON 404.
    re_path(r"^v2/tasks/(?P<task_id>.*)$", task_views.task, name="task-detail"),
]

region_urlpatterns = [
    *_image_patterns(named=False),
    re_path(r"^v2/tasks(?:/.*)?$", version_views.not_found),
]
