from django.urls import path

from imagetasks.dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    path("tasks/rows/", views.rows, name="rows"),
    path("tasks/export.csv", views.tasks_csv, name="tasks_csv"),
    path("tasks/dismiss/", views.dismiss_all, name="dismiss_all"),
    path("tasks/new/import/", views.import_task, name="import"),
    path("tasks/new/export/", views.export_task, name="export"),
    path("clouds/<slug:cloud_name>/check/import/", views.import_check, name="import_check"),
    path("clouds/<slug:cloud_name>/check/export/", views.export_check, name="export_check"),
    path("tasks/<uuid:task_id>/", views.task_detail, name="task"),
    path("tasks/<uuid:task_id>/resubmit/", views.resubmit, name="resubmit"),
    path("tasks/<uuid:task_id>/stop/", views.stop_watching, name="stop_watching"),
    path("tasks/<uuid:task_id>/dismiss/", views.dismiss, name="dismiss"),
    path("tasks/<uuid:task_id>/restore/", views.restore, name="restore"),
    path("clouds/<slug:cloud_name>/browse/", views.browse, name="browse"),
    path("clouds/<slug:cloud_name>/image-picker/", views.pick_image, name="image_picker"),
    path("clouds/<slug:cloud_name>/images/<str:image_id>/", views.image_detail, name="image"),
    path(
        "clouds/<slug:cloud_name>/images/<str:image_id>/copy-to-stores/",
        views.copy_to_stores,
        name="copy_to_stores",
    ),
    path(
        "clouds/<slug:cloud_name>/upload/<str:container>/<path:name>",
        views.upload_object,
        name="upload",
    ),
    path("clouds/<slug:cloud_name>/upload-image/", views.upload_image, name="upload_image"),
    path(
        "clouds/<slug:cloud_name>/upload-plan/<str:container>/<path:name>",
        views.upload_plan,
        name="upload_plan",
    ),
    path(
        "clouds/<slug:cloud_name>/upload-segment/<str:container>/<path:name>",
        views.upload_segment,
        name="upload_segment",
    ),
    path(
        "clouds/<slug:cloud_name>/upload-manifest/<str:container>/<path:name>",
        views.upload_manifest,
        name="upload_manifest",
    ),
    path(
        "clouds/<slug:cloud_name>/upload-cancel/<str:container>/<path:name>",
        views.upload_cancel,
        name="upload_cancel",
    ),
    path(
        "clouds/<slug:cloud_name>/download/<str:container>/<path:name>",
        views.object_download,
        name="object_download",
    ),
    path(
        "clouds/<slug:cloud_name>/objects/<str:container>/<path:name>",
        views.object_detail,
        name="object",
    ),
    path("copies/new/", views.copy_image, name="copy_new"),
    path("copies/rows/", views.copies_rows, name="copies_rows"),
    path("copies/<uuid:copy_id>/", views.copy_detail, name="copy"),
    path("profile/", views.profile, name="profile"),
    path("profile/tokens/", views.create_token, name="create_token"),
    path("profile/tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
]
