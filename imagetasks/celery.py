"""The Celery application shared by the dashboard's and the built-in cloud's jobs.

Jobs live in each app's ``jobs`` module (the word "task" is taken by the
Images v2 API). The beat schedule is code, not database rows, so every
deployment runs the same periodic work.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagetasks.settings")

app = Celery("imagetasks")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = {
        "heartbeat": {
            "task": "imagetasks.dashboard.heartbeat",
            "schedule": settings.HEARTBEAT_INTERVAL,
            "options": {"expires": settings.HEARTBEAT_INTERVAL * 2},
        },
        # Every second: claim due tasks and hand them to workers. A tick that no
        # worker picks up in time is dropped; the next one claims the same tasks.
        "dispatch-polls": {
            "task": "imagetasks.dashboard.dispatch_polls",
            "schedule": 1.0,
            "options": {"expires": 5},
        },
        # Copies to another cloud: move on those with a step due, and take back those
        # whose job died with its worker (their lease ran out).
        "advance-copies": {
            "task": "imagetasks.dashboard.advance_copies",
            "schedule": 2.0,
            "options": {"expires": 10},
        },
        "delete-imported-sources": {
            "task": "imagetasks.dashboard.delete_imported_sources",
            "schedule": 10.0,
            "options": {"expires": 10},
        },
        # SQLite's planner statistics, as the tables grow (see dashboard/planner_stats.py).
        "refresh-planner-statistics": {
            "task": "imagetasks.dashboard.refresh_planner_statistics",
            "schedule": 600.0,
            "options": {"expires": 600},
        },
        # Every two seconds: send the notifications that are due, and those a dead
        # worker left claimed. They are rows in the database, so a dropped tick loses none.
        "dispatch-notifications": {
            "task": "imagetasks.dashboard.dispatch_notifications",
            "schedule": 2.0,
            "options": {"expires": 10},
        },
        "discover-tasks": {
            "task": "imagetasks.dashboard.discover_tasks",
            "schedule": 60.0,
            "options": {"expires": 60},
        },
    }
    if settings.LOCALCLOUD_ENABLED:
        sender.conf.beat_schedule |= {
            "localcloud-recover-tasks": {
                "task": "imagetasks.localcloud.recover_tasks",
                "schedule": 30.0,
                "options": {"expires": 30},
            },
            "localcloud-purge-expired-tasks": {
                "task": "imagetasks.localcloud.purge_expired_tasks",
                "schedule": 600.0,
                "options": {"expires": 600},
            },
        }
