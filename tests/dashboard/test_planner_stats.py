"""The task table's default page is read off its index once planner statistics exist."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from imagetasks.dashboard import statuses, tables
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.upkeep import planner_stats
from tests.support.factories import make_cloud

pytestmark = pytest.mark.django_db


def _plan_of_the_default_page(user, **filters) -> str:
    table = tables.TableQuery(size=50, **filters)
    query = tables.filter_tasks(user, table).values_list("pk", "version")
    sql, params = query[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " ".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return " ".join(row[0] for row in cursor.fetchall())


def _plan_of_the_count(user, **filters) -> str:
    """The plan of the pager's count, as ``tables.capped_count`` sends it (SQLite)."""
    with CaptureQueriesContext(connection) as captured:
        tables.capped_count(tables.filter_tasks(user, tables.TableQuery(**filters)))
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {captured.captured_queries[-1]['sql']}")
        return " ".join(str(row[-1]) for row in cursor.fetchall())


def test_the_newest_first_page_walks_the_task_recent_index_after_a_statistics_refresh(owner):
    clouds = [make_cloud(name) for name in ("dfw", "iad", "ord", "lon")]
    for granted in clouds[:3]:
        granted.users.add(owner)
    ImageTask.objects.bulk_create(
        ImageTask(cloud=clouds[n % 4], type="import", name=f"web-{n}", remote_id=str(uuid.uuid4()))
        for n in range(4000)
    )

    refreshed = planner_stats.refresh()
    if connection.vendor == "postgresql":
        # PostgreSQL keeps its own statistics; the job leaves it alone.
        assert refreshed is False
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dashboard_imagetask")
    else:
        assert refreshed is True

    plan = _plan_of_the_default_page(owner)
    assert "task_recent" in plan, plan
    # Read in order off the index and stopped after the page: no sort of every visible task.
    assert "TEMP B-TREE" not in plan and "Sort" not in plan, plan


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE dashboard_imagetask")
    else:
        planner_stats.refresh()


def test_dismissed_tasks_keep_the_default_page_on_task_recent_and_have_an_index_of_their_own(
    owner,
):
    clouds = [make_cloud(name) for name in ("dfw", "iad", "ord", "lon")]
    for granted in clouds[:3]:
        granted.users.add(owner)
    ImageTask.objects.bulk_create(
        ImageTask(
            cloud=clouds[n % 4],
            type="import",
            name=f"web-{n}",
            remote_id=str(uuid.uuid4()),
            status=statuses.FAILURE if n % 5 == 0 else statuses.SUCCESS,
        )
        for n in range(4000)
    )
    ImageTask.objects.filter(status=statuses.FAILURE).update(
        dismissed_at=timezone.now(), dismissed_by=owner
    )
    _analyze()

    default = _plan_of_the_default_page(owner)
    assert "task_recent" in default and "task_dismissed_recent" not in default, default
    assert "TEMP B-TREE" not in default and "Sort" not in default, default

    dismissed = _plan_of_the_default_page(owner, dismissed=True)
    assert "task_dismissed_recent" in dismissed, dismissed
    assert "TEMP B-TREE" not in dismissed and "Sort" not in dismissed, dismissed

    if connection.vendor == "sqlite":
        # The pager's count reads a partial index alone, as it read the cloud's before.
        counted = _plan_of_the_count(owner)
        assert "COVERING INDEX task_cloud_undismissed" in counted, counted
        counted = _plan_of_the_count(owner, dismissed=True)
        assert "COVERING INDEX task_cloud_dismissed" in counted, counted
