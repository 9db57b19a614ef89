"""The Celery application shared by the dashboard's and the built-in cloud's jobs.

Jobs live in each app's ``jobs`` module (the word "task" is taken by the
Images v2 API), and so does the part of the beat schedule that sends them.
The schedule is code, not database rows, so every deployment runs the same
periodic work.
"""

import importlib
import importlib.util
import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagetasks.settings")

app = Celery("imagetasks")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


def every(seconds: float, job: str, *, expires: float) -> dict[str, Any]:
    """A beat entry: send ``job`` every ``seconds``; dropped if no worker took it in ``expires``."""
    return {"task": job, "schedule": seconds, "options": {"expires": expires}}


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    """Join the ``beat_schedule()`` of every installed app's ``jobs`` module.

    The modules are found by name, as Celery finds the jobs, so that this module
    imports no app: the built-in cloud imports it and must not reach the dashboard.
    """
    from django.apps import apps

    schedule: dict = {}
    for config in apps.get_app_configs():
        name = f"{config.name}.jobs"
        if importlib.util.find_spec(name) is None:
            continue
        jobs = importlib.import_module(name)
        if hasattr(jobs, "beat_schedule"):
            schedule |= jobs.beat_schedule()
    sender.conf.beat_schedule = schedule
