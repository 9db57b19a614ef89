"""Celery jobs of the dashboard (found by ``autodiscover_tasks(related_name="jobs")``)."""

from imagetasks.dashboard.heartbeat import heartbeat

__all__ = ["heartbeat"]
