"""The live task table: filters, the empty answer to unchanged polls, constant queries."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from imagetasks.dashboard import statuses, tables
from imagetasks.dashboard.models import ImageTask
from tests.support.factories import add_snapshot, make_cloud, make_task

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture(autouse=True)
def fixed_minute(monkeypatch):
    """The version includes the minute; a test must not straddle two."""
    monkeypatch.setattr(tables, "time_bucket", lambda: 1)


def shown_version(html: str) -> str:
    return re.search(r'data-version="([0-9a-f]+)"', html).group(1)


def test_an_unchanged_poll_gets_an_empty_204(owner_client, cloud, owner):
    make_task(cloud, owner)
    version = shown_version(owner_client.get("/").content.decode())
    response = owner_client.get(f"/tasks/rows/?v={version}", HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response.content == b""


def test_a_changed_task_makes_the_poll_return_the_rows(owner_client, cloud, owner):
    task = make_task(cloud, owner)
    version = shown_version(owner_client.get("/").content.decode())
    ImageTask.objects.filter(pk=task.pk).update(status=statuses.SUCCESS, version=F("version") + 1)
    response = owner_client.get(f"/tasks/rows/?v={version}", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="task-rows"' in html and "Success" in html
    assert shown_version(html) != version


def test_a_new_task_makes_the_poll_return_the_rows(owner_client, cloud, owner):
    version = shown_version(owner_client.get("/").content.decode())
    make_task(cloud, owner)
    assert owner_client.get(f"/tasks/rows/?v={version}").status_code == 200


def test_the_refresh_is_fast_while_a_task_is_in_flight_and_slow_otherwise(
    owner_client, cloud, owner
):
    task = make_task(cloud, owner, status=statuses.PROCESSING)
    html = owner_client.get("/").content.decode()
    assert 'hx-trigger="every 2s, visibilitychange from:document" data-live' in html
    assert "<title>(1) Tasks · imagetasks</title>" in html
    ImageTask.objects.filter(pk=task.pk).update(status=statuses.SUCCESS)
    html = owner_client.get("/").content.decode()
    assert 'hx-trigger="every 4s, visibilitychange from:document" data-live' in html
    assert "<title>Tasks · imagetasks</title>" in html


def test_the_rows_fragment_updates_the_title_with_the_tasks_in_flight(owner_client, cloud, owner):
    make_task(cloud, owner, status=statuses.PENDING)
    make_task(cloud, owner, status=statuses.PROCESSING)
    html = owner_client.get("/tasks/rows/", HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith("<title>(2) Tasks · imagetasks</title>")


@pytest.mark.parametrize("size", [10, 50])
def test_the_number_of_queries_does_not_grow_with_the_page(
    owner_client, cloud, owner, size, django_assert_max_num_queries
):
    for index in range(size):
        task = make_task(cloud, owner, status=statuses.FAILURE, message=f"failed {index}")
        add_snapshot(task, "failure", f"failed {index}")
    # Session, user, groups, clouds (access, filter list), the page, its copies, three
    # counters, recent copies and the remembered filter: a fixed number, whatever the size.
    with django_assert_max_num_queries(14):
        response = owner_client.get(f"/?size={size}")
    assert response.content.decode().count('data-status="failure"') == size
    with django_assert_max_num_queries(12):
        owner_client.get(f"/tasks/rows/?size={size}")


def test_filters_combine_status_type_cloud_mine_and_search(client, cloud, owner, colleague):
    other_cloud = make_cloud("globex")
    other_cloud.users.add(owner)
    mine = make_task(cloud, owner, status=statuses.PENDING, name="web-01")
    failed = make_task(cloud, owner, status=statuses.FAILURE, name="db-02")
    theirs = make_task(cloud, colleague, status=statuses.PENDING, name="web-03")
    export = make_task(other_cloud, owner, type="export", status=statuses.SUCCESS)
    client.force_login(owner)

    def shown(query: str) -> set:
        html = client.get(f"/?{query}").content.decode()
        return {t for t in (mine, failed, theirs, export) if f"task-{t.pk}" in html}

    assert shown("") == {mine, failed, theirs, export}
    assert shown("status=pending&status=failure") == {mine, failed, theirs}
    assert shown("type=export") == {export}
    assert shown("cloud=globex") == {export}
    assert shown("mine=1") == {mine, failed, export}
    assert shown("q=web-0") == {mine, theirs}
    assert shown(f"q={theirs.remote_id}") == {theirs}
    assert shown("q=images/web.vhd") == {mine, failed, theirs}


def test_a_nul_character_in_a_filter_is_dropped_not_a_server_error(owner_client, cloud, owner):
    web = make_task(cloud, owner, status=statuses.PENDING, name="web-01")
    make_task(cloud, owner, status=statuses.PENDING, name="db-02")

    page = owner_client.get("/", {"q": "web-01\x00", "cloud": cloud.name + "\x00"})
    rows = owner_client.get("/tasks/rows/", {"q": "\x00"})

    assert page.status_code == 200 and rows.status_code == 200
    assert f"task-{web.pk}" in page.content.decode() and "db-02" not in page.content.decode()


def test_pages_link_to_each_other_with_real_hrefs(owner_client, cloud, owner):
    for _ in range(3):
        make_task(cloud, owner)
    html = owner_client.get("/?size=2").content.decode()
    assert 'href="/?size=2&amp;page=2"' in html
    html = owner_client.get("/?size=2&page=2").content.decode()
    assert 'href="/?size=2"' in html and html.count('data-status="pending"') == 1


def test_sorting_by_last_change(owner_client, cloud, owner):
    old = make_task(cloud, owner, name="old")
    new = make_task(cloud, owner, name="new")
    ImageTask.objects.filter(pk=old.pk).update(changed_at=timezone.now() + timedelta(minutes=1))
    html = owner_client.get("/?sort=-changed").content.decode()
    assert html.index(f"task-{old.pk}") < html.index(f"task-{new.pk}")


def test_without_javascript_the_table_has_a_filter_form_and_a_refresh_link(owner_client):
    html = owner_client.get("/").content.decode()
    assert '<form id="filters" class="card filters" method="get" action="/"' in html
    assert ">Refresh</a>" in html


def test_a_row_shows_source_target_expiry_result_and_a_hint(owner_client, cloud, owner):
    image_id = "11111111-2222-3333-4444-555555555555"
    make_task(
        cloud, owner, status=statuses.SUCCESS, result={"image_id": image_id},
        expires_at=timezone.now() + timedelta(hours=47, minutes=30),
    )  # fmt: skip
    make_task(
        cloud, owner, status=statuses.FAILURE,
        message="Image cannot be imported. Error code: '396'",
    )  # fmt: skip
    make_task(
        cloud, owner, status=statuses.SUCCESS, result={"image_id": "gone"},
        expires_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip
    html = owner_client.get("/").content.decode()
    assert "images/web.vhd</code> → web" in html
    assert "expires in 47 h" in html
    assert f'href="/clouds/acme/images/{image_id}/"' in html
    assert "expired on the cloud — result kept" in html
    assert "resubmitting the same import usually works" in html


def test_a_cloud_message_with_a_script_is_escaped_in_the_table_and_on_the_task_page(
    owner_client, cloud, owner
):
    task = make_task(cloud, owner, status=statuses.FAILURE, message=SCRIPT)
    add_snapshot(task, "failure", SCRIPT)
    for html in (
        owner_client.get("/").content.decode(),
        owner_client.get("/tasks/rows/").content.decode(),
        owner_client.get(f"/tasks/{task.pk}/").content.decode(),
    ):
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_the_task_page_polls_its_status_while_in_flight_and_answers_204_when_unchanged(
    owner_client, cloud, owner
):
    task = make_task(cloud, owner, status=statuses.PROCESSING)
    add_snapshot(task, "pending")
    add_snapshot(task, "processing")
    html = owner_client.get(f"/tasks/{task.pk}/").content.decode()
    assert f'hx-get="/tasks/{task.pk}/?v={task.version}"' in html and 'aria-live="polite"' in html
    assert "<details><summary>Raw JSON</summary>" in html
    status_part = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "task-status"}
    unchanged = owner_client.get(f"/tasks/{task.pk}/?v={task.version}", **status_part)
    assert unchanged.status_code == 204 and unchanged.content == b""
    ImageTask.objects.filter(pk=task.pk).update(
        status="success", result={"image_id": "img-7f3a"}, version=F("version") + 1
    )
    changed = owner_client.get(f"/tasks/{task.pk}/?v={task.version}", **status_part)
    assert changed.status_code == 200 and 'id="task-status"' in changed.content.decode()
    assert "hx-trigger" not in changed.content.decode()
    assert "img-7f3a" in changed.content.decode(), "the refreshed part carries the result"


def test_staff_download_the_current_filter_as_csv_with_cells_escaped(client, cloud, owner):
    owner.is_staff = True
    owner.save()
    task = make_task(cloud, owner, status=statuses.FAILURE, message='=HYPERLINK("x")' + SCRIPT)
    add_snapshot(task, "failure", task.message)
    client.force_login(owner)
    response = client.get("/tasks/export.csv?status=failure")
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Type"].startswith("text/csv")
    assert str(task.pk) in body and "'=HYPERLINK" in body
    assert "secret" not in body.lower()


def test_people_who_are_not_staff_cannot_download_the_csv(client, owner):
    client.force_login(owner)
    assert client.get("/tasks/export.csv").status_code == 403


def test_a_row_drawn_before_shows_the_tasks_new_state_after_a_change(owner_client, cloud, owner):
    task = make_task(cloud, owner, status=statuses.PROCESSING)
    assert 'data-status="processing"' in owner_client.get("/tasks/rows/").content.decode()

    ImageTask.objects.filter(pk=task.pk).update(
        status=statuses.FAILURE, message="396: image corrupt", version=F("version") + 1
    )
    html = owner_client.get("/tasks/rows/").content.decode()

    assert 'data-status="failure"' in html
    assert "396: image corrupt" in html


def test_renaming_a_cloud_shows_in_rows_drawn_before(owner_client, cloud, owner):
    make_task(cloud, owner)
    owner_client.get("/tasks/rows/")

    cloud.region = "SYD"
    cloud.save()

    assert "SYD" in owner_client.get("/tasks/rows/").content.decode()


def test_search_ignores_case_and_finds_a_result_recorded_after_submission(
    owner_client, cloud, owner
):
    task = make_task(cloud, owner, name="Web-Frontend", status=statuses.PROCESSING)
    other = make_task(cloud, owner, name="db")

    def shown(q: str) -> set:
        html = owner_client.get("/tasks/rows/", {"q": q}).content.decode()
        return {t for t in (task, other) if f"task-{t.pk}" in html}

    assert shown("WEB-front") == {task}
    assert shown("image-7f3a") == set()
    # The poller records the result with an UPDATE; the search sees it at once.
    ImageTask.objects.filter(pk=task.pk).update(
        status=statuses.SUCCESS, result={"image_id": "Image-7F3A"}, version=F("version") + 1
    )
    assert shown("image-7f3a") == {task}
    assert shown(str(task.pk)) == {task}


def test_search_takes_short_terms_and_quotes_without_an_error(owner_client, cloud, owner):
    quoted = make_task(cloud, owner, name='say "hi"')
    plain = make_task(cloud, owner, name="zq")

    def shown(q: str) -> set:
        response = owner_client.get("/tasks/rows/", {"q": q})
        assert response.status_code == 200
        return {t for t in (quoted, plain) if f"task-{t.pk}" in response.content.decode()}

    # Shorter than a trigram: scanned. Not hexadecimal, so no random remote id contains it.
    assert shown("zq") == {plain}
    assert shown('"hi"') == {quoted}
    assert shown('y "h') == {quoted}
    assert shown("*") == set()


def test_a_header_sorts_by_its_column_and_the_next_click_reverses_it(owner_client, cloud, owner):
    make_task(cloud, owner, name="alpha")
    make_task(cloud, owner, name="beta")
    html = owner_client.get("/").content.decode()
    assert '<th scope="col" aria-sort="descending"><a href="/?sort=submitted">Submitted' in html
    assert '<a href="/?sort=name">Name<span aria-hidden="true"></span>' in html

    by_name = owner_client.get("/?sort=name").content.decode()
    assert by_name.index(">alpha</a>") < by_name.index(">beta</a>")
    assert '<th scope="col" aria-sort="ascending"><a href="/?sort=-name">Name' in by_name
    assert "▲" in by_name

    reversed_ = owner_client.get("/?sort=-name").content.decode()
    assert reversed_.index(">beta</a>") < reversed_.index(">alpha</a>")
    assert '<th scope="col" aria-sort="descending"><a href="/?sort=name">Name' in reversed_


def test_every_sort_ends_on_the_primary_key_and_reverses_exactly():
    for key, order in tables.SORTS.items():
        assert order[-1] in ("id", "-id"), key
        if key.startswith("-"):
            assert tables.SORTS[key[1:]] == tables._reversed(order)


def test_the_name_column_shows_what_it_sorts_by_and_where_the_bytes_go(owner_client, cloud, owner):
    make_task(cloud, owner, name="web-01")
    html = owner_client.get("/").content.decode()
    assert re.search(r'<a id="task-link-[0-9a-f-]+" href="/tasks/[0-9a-f-]+/">web-01</a>', html)
    assert "<code>images/web.vhd</code> → web" in html


def test_the_pager_says_which_rows_of_how_many(owner_client, cloud, owner):
    for _ in range(7):
        make_task(cloud, owner)
    first = owner_client.get("/?size=3").content.decode()
    assert "1–3 of 7" in first and "Next →" in first
    last = owner_client.get("/?size=3&page=3").content.decode()
    assert "7–7 of 7" in last and "← Previous" in last and "Next →" not in last


def test_past_ten_thousand_the_total_says_more_than(owner_client, cloud, owner, monkeypatch):
    monkeypatch.setattr(tables, "COUNT_CAP", 4)
    for _ in range(6):
        make_task(cloud, owner)
    html = owner_client.get("/?size=2").content.decode()
    assert "1–2 of more than 4" in html


def test_the_counters_link_to_what_they_count(owner_client, cloud, owner):
    make_task(cloud, owner, status=statuses.PROCESSING)
    make_task(cloud, owner, status=statuses.PENDING)
    make_task(cloud, owner, status=statuses.FAILURE)
    old = make_task(cloud, owner, status=statuses.FAILURE)
    ImageTask.objects.filter(pk=old.pk).update(changed_at=timezone.now() - timedelta(days=2))
    make_task(cloud, owner, status=statuses.SUCCESS)
    html = owner_client.get("/").content.decode()
    counters = html[
        html.index('<ul class="counters"') : html.index("</ul>", html.index("counters"))
    ]
    assert re.search(r"<strong>2</strong> in flight", counters)
    assert re.search(r"<strong>1</strong> failed in the last 24 h", counters)
    assert re.search(r"<strong>1</strong> succeeded in the last 24 h", counters)

    failed_link = re.search(r'href="([^"]+)"><strong>1</strong> failed', counters).group(1)
    listed = owner_client.get(failed_link.replace("&amp;", "&")).content.decode()
    assert listed.count('data-status="failure"') == 1  # the one of two days ago is left out


def test_the_two_tasks_of_a_copy_are_shown_together_under_it(owner_client, cloud, owner):
    from imagetasks.dashboard.models import Copy

    target = make_cloud("globex")
    target.users.add(owner)
    export = make_task(cloud, owner, type="export", name="web-01")
    between = make_task(cloud, owner, name="unrelated")
    staged = {"import_from": "imagetasks-copy-x/y.vhd", "image_properties": {"name": "web-01"}}
    imported = make_task(target, owner, name="web-01", input=staged)
    Copy.objects.create(
        source_cloud=cloud, source_image_id="img-1", source_image_name="web-01",
        target_cloud=target, target_name="web-01", export_task=export, import_task=imported,
        staging_container="imagetasks-copy-x",
    )  # fmt: skip
    html = owner_client.get("/").content.decode()
    group = html.index("Copy <a href=")
    assert group < html.index(f"task-{imported.pk}") < html.index(f"task-{export.pk}")
    assert html.index(f"task-{export.pk}") < html.index(f"task-{between.pk}")
    assert "import from the copy's staging" in html and "imagetasks-copy-x/y.vhd" not in html


def test_durations_read_from_submission_to_the_end_or_as_running(owner_client, cloud, owner):
    done = make_task(cloud, owner, status=statuses.SUCCESS)
    ImageTask.objects.filter(pk=done.pk).update(
        changed_at=done.submitted_at + timedelta(seconds=75)
    )
    running = make_task(cloud, owner, status=statuses.PROCESSING)
    ImageTask.objects.filter(pk=running.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=3, seconds=5)
    )
    html = owner_client.get("/").content.decode()
    assert '<td data-label="Duration">1 min 15 s</td>' in html
    assert '<td data-label="Duration">running for 3 min</td>' in html


def test_submitted_times_carry_the_full_time_and_zone_on_hover(owner_client, cloud, owner):
    make_task(cloud, owner)
    html = owner_client.get("/").content.decode()
    assert re.search(r'<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">', html)


def test_the_empty_table_offers_a_new_import(owner_client):
    html = owner_client.get("/").content.decode()
    empty = html[html.index("No tasks yet") :]
    assert 'href="/tasks/new/import/">New import</a>' in empty
