"""The task search's trigram index exists after migrate and serves the search."""

from __future__ import annotations

import pytest
from django.db import connection

from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.upkeep import search_index

pytestmark = pytest.mark.django_db


def test_migrate_leaves_a_trigram_index_for_the_search():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE name LIKE 'dashboard_imagetask_search%'"
            )
            names = {row[0] for row in cursor.fetchall()}
            assert {
                "dashboard_imagetask_search",
                "dashboard_imagetask_search_insert",
                "dashboard_imagetask_search_update",
                "dashboard_imagetask_search_delete",
            } <= names
        else:
            cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'task_search_trgm'")
            assert "gin_trgm_ops" in cursor.fetchone()[0]


def test_a_search_of_three_characters_or_more_is_looked_up_in_the_index():
    # No ORDER BY: the table's order has an index of its own that the planner may walk.
    query = ImageTask.objects.filter(search_index.matching("web-00042")).order_by().values("pk")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "VIRTUAL TABLE INDEX" in plan, plan
        else:
            # With few rows PostgreSQL would scan the table or walk some other index with
            # a filter; forbid both, so only an index that can answer the LIKE is left.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "task_search_trgm" in plan, plan


def test_running_the_setup_again_changes_nothing_and_keeps_the_index_in_step():
    ImageTask.objects.create(
        cloud=_cloud(), type="import", name="Gateway-7", input={}, remote_id="r-7"
    )
    assert search_index.ensure() is True
    assert search_index.ensure() is True

    found = ImageTask.objects.filter(search_index.matching("gateway-7"))
    assert [task.name for task in found] == ["Gateway-7"]


def _cloud():
    from imagetasks.dashboard.models import Cloud

    return Cloud.objects.create(name="acme", auth_type=Cloud.AuthType.NONE)
