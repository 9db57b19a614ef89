"""Keeping SQLite's query planner informed, so the task table reads its indexes.

Without statistics SQLite guesses: for the table's default query (visible clouds,
newest first) it picked the foreign-key index on the cloud and sorted every visible
task, 13 ms at 20,000 tasks, instead of walking ``task_recent`` and stopping after
one page, 0.5 ms. ``ANALYZE`` gives it the numbers. It reads every index whole: with
``analysis_limit`` sampling, SQLite misjudged the cloud index (a thousand rows per
cloud instead of five thousand) and kept the slow plan.
PostgreSQL keeps its own statistics (autovacuum), so there this does nothing.
"""

from __future__ import annotations

import logging

from django.db import connections

log = logging.getLogger(__name__)


def refresh(using: str = "default") -> bool:
    """Refresh SQLite's planner statistics; return whether there was anything to do."""
    connection = connections[using]
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    log.debug("refreshed the SQLite planner statistics of %s", using)
    return True


def refresh_after_migrate(sender, using: str = "default", **kwargs) -> None:
    """New indexes come with migrations; give the planner their numbers at once."""
    refresh(using)
