"""GET /api/v1/tasks and /api/v1/tasks/{id}: the task table's filters, orders and access,
paged by cursor, and one task with its timeline."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses, tables
from imagetasks.dashboard.api import cursors
from imagetasks.dashboard.models import ApiToken, ImageTask
from tests.support import retention
from tests.support.factories import add_snapshot, make_cloud, make_task

TASKS = "/api/v1/tasks"


def body(response) -> dict:
    return json.loads(response.content)


def names(response) -> list[str]:
    return [item["name"] for item in body(response)["items"]]


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("colleague", 200), ("viewer", 200), ("outsider", 404)],
)
def test_one_task_is_seen_by_whoever_sees_its_cloud(request, api, token_for, task, who, status):
    add_snapshot(task, "pending")
    add_snapshot(task, "processing", result=None)

    response = api.get(f"{TASKS}/{task.pk}", token=token_for(request.getfixturevalue(who)))

    assert response.status_code == status
    if status == 200:
        seen = body(response)
        assert seen["id"] == str(task.pk) and seen["cloud"] == "acme"
        assert seen["submitted_by"] == "owen" and seen["phase"] == "in_flight"
        assert [s["status"] for s in seen["snapshots"]] == ["pending", "processing"]
        assert seen["page"] == f"/tasks/{task.pk}/" and seen["url"] == f"{TASKS}/{task.pk}"
    else:
        assert body(response) == {"detail": "Not found."}


def test_the_list_holds_only_the_tasks_of_the_callers_clouds(
    api, token_for, owner, outsider, cloud
):
    make_task(cloud, owner, name="ours")
    other = make_cloud("globex")
    other.users.add(outsider)
    make_task(other, outsider, name="theirs")

    assert names(api.get(TASKS, token=token_for(owner))) == ["ours"]
    assert names(api.get(TASKS, token=token_for(outsider))) == ["theirs"]


def test_an_anonymous_or_revoked_caller_reads_no_task(api, owner, task, token_for):
    value = token_for(owner)
    ApiToken.objects.update(revoked_at=timezone.now())

    for token in (None, value):
        for path in (TASKS, f"{TASKS}/{task.pk}"):
            response = api.get(path, token=token)
            assert response.status_code == 401 and "detail" in body(response)


@pytest.mark.parametrize(
    "path",
    [f"{TASKS}/6f1c2b9e-0000-4000-8000-000000000001", f"{TASKS}/not-a-uuid", f"{TASKS}/1%00"],
)
def test_an_unknown_task_is_a_404(api, owner, task, token_for, path):
    response = api.get(path, token=token_for(owner))

    assert response.status_code == 404
    assert body(response) == {"detail": "Not found."}


def test_the_filters_are_the_tables(api, owner, colleague, cloud, token_for):
    make_task(cloud, owner, name="alpha", status=statuses.SUCCESS)
    make_task(cloud, colleague, name="beta", status=statuses.FAILURE)
    make_task(cloud, owner, name="gamma", type="export")
    old = make_task(cloud, owner, name="delta", status=statuses.FAILURE)
    ImageTask.objects.filter(pk=old.pk).update(changed_at=timezone.now() - timedelta(days=3))
    token = token_for(owner)

    def listed(**params) -> list[str]:
        return sorted(names(api.get(TASKS, params, token=token)))

    assert listed(status=["success", "failure"]) == ["alpha", "beta", "delta"]
    assert listed(status="failure", recent="true") == ["beta"]
    assert listed(type="export") == [str(ImageTask.objects.get(name="gamma").name)]
    assert listed(mine="true") == ["alpha", "delta", "gamma"]
    assert listed(cloud="acme") == ["alpha", "beta", "delta", "gamma"]
    assert listed(cloud="nowhere") == []
    assert listed(q="ALP") == ["alpha"]


@pytest.mark.parametrize("sort", sorted(tables.SORTS))
def test_paging_by_cursor_walks_every_task_once_in_the_tables_order(
    api, owner, cloud, token_for, sort
):
    moment = timezone.now()
    for index in range(7):
        task = make_task(
            cloud,
            owner,
            name=f"task-{index % 3}",
            status=[statuses.PENDING, statuses.SUCCESS][index % 2],
        )
        # Ties on every timestamp, so the primary key has to settle the order.
        ImageTask.objects.filter(pk=task.pk).update(
            submitted_at=moment - timedelta(seconds=index // 3), changed_at=moment
        )
    token = token_for(owner)
    expected = [
        str(pk)
        for pk in ImageTask.objects.order_by(*tables.SORTS[sort]).values_list("pk", flat=True)
    ]

    seen, params, pages = [], {"sort": sort, "size": 3}, 0
    while True:
        page = body(api.get(TASKS, params, token=token))
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            assert page["next"] is None
            break
        assert page["next"].startswith(f"{TASKS}?") and "cursor=" in page["next"]
        params = {"sort": sort, "size": 3, "cursor": page["next_cursor"]}

    assert seen == expected
    assert pages == 3


def test_the_next_link_carries_the_filters(api, owner, cloud, token_for):
    for _ in range(3):
        make_task(cloud, owner, status=statuses.FAILURE)
    make_task(cloud, owner, status=statuses.SUCCESS)
    token = token_for(owner)

    first = body(api.get(TASKS, {"status": "failure", "size": 2}, token=token))
    second = body(api.get(first["next"], token=token))

    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {item["status"] for item in second["items"]} == {"failure"}
    assert second["next"] is None


def test_a_task_submitted_while_paging_neither_repeats_nor_skips_a_row(
    api, owner, cloud, token_for
):
    for index in range(4):
        make_task(cloud, owner, name=f"before-{index}")
    token = token_for(owner)

    first = body(api.get(TASKS, {"size": 2}, token=token))
    make_task(cloud, owner, name="meanwhile")
    second = body(api.get(TASKS, {"size": 2, "cursor": first["next_cursor"]}, token=token))

    walked = [item["name"] for item in first["items"] + second["items"]]
    assert walked == ["before-3", "before-2", "before-1", "before-0"]


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "e30",
        cursors.cursor_after.__name__,
        "eyJzb3J0IjoiLXN1Ym1pdHRlZCIsImFmdGVyIjpbMV19",
    ],
)
def test_a_cursor_this_api_did_not_make_is_a_400(api, owner, task, token_for, cursor):
    response = api.get(TASKS, {"cursor": cursor}, token=token_for(owner))

    assert response.status_code == 400
    assert "cursor" in body(response)["detail"]


def test_a_cursor_of_another_order_is_a_400_that_says_so(api, owner, cloud, token_for):
    for _ in range(3):
        make_task(cloud, owner)
    token = token_for(owner)
    cursor = body(api.get(TASKS, {"size": 1, "sort": "name"}, token=token))["next_cursor"]

    response = api.get(TASKS, {"cursor": cursor, "sort": "-changed"}, token=token)

    assert response.status_code == 400
    assert "another order" in body(response)["detail"]


@pytest.mark.parametrize(
    "params",
    [{"size": "abc"}, {"size": 0}, {"size": 101}, {"status": "done"}, {"sort": "owner"},
     {"type": "copy"}, {"mine": "perhaps"}, {"q": "x" * 201}, {"cloud": "a\x00b"},
     {"cursor": "not base64!"}],
)  # fmt: skip
def test_a_value_of_the_wrong_type_or_range_is_a_422_naming_it(api, owner, task, token_for, params):
    response = api.get(TASKS, params, token=token_for(owner))

    assert response.status_code == 422
    (problem,) = body(response)["detail"]
    assert next(iter(params)) in problem["loc"] and problem["msg"]


def test_whatever_a_cloud_sent_is_answered_as_json(api, owner, cloud, token_for):
    strange = {"nested": [{"deep": ["\u202e", "😀", None, 1.5]}], "\ud7ff": True}
    task = make_task(cloud, owner, origin="discovered", input=["not", "a", "dict"], result=strange)
    add_snapshot(task, "weird-status", message="<script>alert(1)</script>", extra=[1, {"a": None}])

    seen = body(api.get(f"{TASKS}/{task.pk}", token=token_for(owner)))

    assert seen["input"] == ["not", "a", "dict"] and seen["result"] == strange
    assert seen["snapshots"][0]["message"] == "<script>alert(1)</script>"
    assert seen["snapshots"][0]["body"]["extra"] == [1, {"a": None}]


def test_a_pruned_task_says_its_timeline_has_a_gap(api, owner, cloud, token_for, settings):
    settings.KEEP_SNAPSHOTS_DAYS = retention.KEEP_DAYS
    pruned = retention.task_with_history(cloud, retention.PATH, owner)
    whole = retention.task_with_history(cloud, retention.PATH, owner, ended=timedelta(days=1))
    retention.prune()

    seen = body(api.get(f"{TASKS}/{pruned.pk}", token=token_for(owner)))
    assert [s["status"] for s in seen["snapshots"]] == ["pending", "success"]
    assert seen["history_pruned_at"] is not None

    seen = body(api.get(f"{TASKS}/{whole.pk}", token=token_for(owner)))
    assert len(seen["snapshots"]) == len(retention.PATH)
    assert seen["history_pruned_at"] is None
