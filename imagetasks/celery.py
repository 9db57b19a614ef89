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
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagetasks.settings")

app = Celery("imagetasks")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")


def _close_old_connections(sender: Any = None, **kwargs: Any) -> None:
    """Around each job, as Django does around each request: a connection past
    CONN_MAX_AGE, or one an error left unusable, is closed, and a kept one is
    health-checked before its next use (SQLite's CONN_MAX_AGE is 0: its connections
    still end with each job). A job run in the caller's process (``apply``) is left
    alone, as Celery's own closing leaves it: its caller may be inside a transaction.

    Django's database layer is imported here, not with this module: gunicorn's master
    imports this package (its logger class lives here) before its gevent processes patch
    threading, and a ``django.db`` imported then shares one connection among all of a
    process's requests."""
    if not getattr(sender.request, "is_eager", False):
        from django.db import close_old_connections

        close_old_connections()


task_prerun.connect(_close_old_connections, weak=False, dispatch_uid="close_old_before_job")
task_postrun.connect(_close_old_connections, weak=False, dispatch_uid="close_old_after_job")


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
