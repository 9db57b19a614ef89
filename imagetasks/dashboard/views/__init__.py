"""The dashboard's pages and fragments, one module per feature."""

from imagetasks.dashboard.views.browse import browse
from imagetasks.dashboard.views.copies import copies_rows, copy_detail, copy_image
from imagetasks.dashboard.views.dismissals import dismiss, dismiss_all, restore
from imagetasks.dashboard.views.form_warnings import export_check, import_check
from imagetasks.dashboard.views.image_picker import pick_image
from imagetasks.dashboard.views.image_upload import upload_image
from imagetasks.dashboard.views.profile import create_token, profile, revoke_token
from imagetasks.dashboard.views.results import image_detail, object_detail, object_download
from imagetasks.dashboard.views.store_copies import copy_to_stores
from imagetasks.dashboard.views.task_detail import resubmit, stop_watching, task_detail
from imagetasks.dashboard.views.task_forms import export_task, import_task
from imagetasks.dashboard.views.tasks import home, rows, tasks_csv
from imagetasks.dashboard.views.upload import upload_object
from imagetasks.dashboard.views.upload_segments import (
    upload_cancel,
    upload_manifest,
    upload_plan,
    upload_segment,
)

__all__ = [
    "browse",
    "copies_rows",
    "copy_detail",
    "copy_image",
    "copy_to_stores",
    "create_token",
    "dismiss",
    "dismiss_all",
    "export_check",
    "export_task",
    "home",
    "image_detail",
    "import_check",
    "import_task",
    "object_detail",
    "object_download",
    "pick_image",
    "profile",
    "restore",
    "resubmit",
    "revoke_token",
    "rows",
    "stop_watching",
    "task_detail",
    "tasks_csv",
    "upload_cancel",
    "upload_image",
    "upload_manifest",
    "upload_object",
    "upload_plan",
    "upload_segment",
]
