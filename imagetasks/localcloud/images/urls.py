"""Images v2 under /localcloud/image/ (the v3 catalog's root; the v2.0 catalog adds /v2)."""

from django.urls import path, re_path

from imagetasks.localcloud.images import (
    image_views,
    info_views,
    schema_views,
    task_views,
    version_views,
)

urlpatterns = [
    path("", version_views.root, name="image-versions"),
    path("versions", version_views.listing),
    path("v2", version_views.v2),
    path("v2/", version_views.v2),
    path("v2/images", image_views.images, name="image-list"),
    path("v2/images/<str:image_id>", image_views.image, name="image-detail"),
    path("v2/images/<str:image_id>/file", image_views.image_file, name="image-file"),
    path("v2/images/<str:image_id>/stage", image_views.image_stage, name="image-stage"),
    path("v2/images/<str:image_id>/import", image_views.image_import, name="image-import"),
    path("v2/images/<str:image_id>/tasks", image_views.image_tasks, name="image-tasks"),
    path("v2/info/import", info_views.import_methods, name="info-import"),
    path("v2/info/stores", info_views.image_stores, name="info-stores"),
    re_path(r"^v2/schemas/(?P<name>tasks?|images?)$", schema_views.schema, name="image-schema"),
    path("v2/tasks", task_views.tasks, name="task-list"),
    # Any rest, even empty or with slashes, is a task id: unknown ones are a JSON 404.
    re_path(r"^v2/tasks/(?P<task_id>.*)$", task_views.task, name="task-detail"),
]
