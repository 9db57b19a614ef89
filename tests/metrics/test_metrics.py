"""/metrics as a scraper reads it: the families parsed back from the text format after a
scripted set of tasks on two clouds, who may scrape, hostile names, and a scrape's cost."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, Heartbeat, ImageTask, Notification
from tests.support.factories import make_cloud, make_copy, make_notification, make_task

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"
ROOT = Path(__file__).resolve().parents[2]


def scrape(client, **headers) -> dict[str, dict[tuple, float]]:
    """Every sample of a scrape, by its name, then by its labels (sorted pairs)."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(response.content.decode())


def samples(text: str) -> dict[str, dict[tuple, float]]:
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(found, name: str, **labels) -> float:
    return found[name][tuple(sorted(labels.items()))]


def ended(cloud: Cloud, status: str, *, latency: float, recorded_ago=timedelta(0), **fields):
    """A task whose end the cloud stamped ``latency`` seconds before we recorded it."""
    task = make_task(cloud, status=status, **fields)
    recorded = timezone.now() - recorded_ago
    ImageTask.objects.filter(pk=task.pk).update(
        changed_at=recorded, remote_updated_at=recorded - timedelta(seconds=latency)
    )
    return task


@pytest.fixture
def two_clouds(db):
    """North follows tasks-API imports and exports; south an interoperable import."""
    north, south = make_cloud("north"), make_cloud("south")
    oldest = make_task(north, status=statuses.PENDING)
    ImageTask.objects.filter(pk=oldest.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=10)
    )
    make_task(north, status=statuses.PENDING)
    make_task(north, type="export", status=statuses.PROCESSING, stale_since=timezone.now())
    ended(north, statuses.SUCCESS, latency=4)
    ended(north, statuses.FAILURE, latency=25, type="export")
    ended(north, statuses.SUCCESS, latency=3, recorded_ago=timedelta(hours=2))  # long ago
    make_task(north, status=statuses.VANISHED, watching=False)
    make_task(south, status=statuses.PROCESSING, method=ImageTask.Method.WEB_DOWNLOAD)
    make_task(south, status=statuses.PROCESSING, watching=False)  # no longer followed
    ended(south, statuses.SUCCESS, latency=7200, origin=ImageTask.Origin.DISCOVERED)
    Cloud.objects.filter(pk=north.pk).update(poll_requests=40, poll_request_errors=3)
    return north, south


# What a scrape reads -----------------------------------------------------------------------


def test_it_counts_the_tasks_of_each_cloud_by_type_method_and_status(client, two_clouds):
    found = scrape(client)

    tasks = found["imagetasks_tasks"]
    assert value(found, "imagetasks_tasks", cloud="north", type="import", method="tasks-api",
                 status="pending") == 2  # fmt: skip
    assert value(found, "imagetasks_tasks", cloud="north", type="import", method="tasks-api",
                 status="success") == 2  # fmt: skip
    assert value(found, "imagetasks_tasks", cloud="south", type="import",
                 method="web-download", status="processing") == 1  # fmt: skip
    assert sum(tasks.values()) == ImageTask.objects.count() == 10


def test_it_shows_the_watched_tasks_in_flight_and_how_old_the_oldest_is(client, two_clouds):
    found = scrape(client)

    assert value(found, "imagetasks_tasks_in_flight", cloud="north") == 3
    assert value(found, "imagetasks_tasks_in_flight", cloud="south") == 1, "unwatched left out"
    age = value(found, "imagetasks_oldest_in_flight_age_seconds", cloud="north")
    assert 600 <= age < 660


def test_a_cloud_with_nothing_in_flight_reads_zero_rather_than_missing(client, two_clouds):
    make_cloud("idle")

    found = scrape(client)

    assert value(found, "imagetasks_tasks_in_flight", cloud="idle") == 0
    assert value(found, "imagetasks_oldest_in_flight_age_seconds", cloud="idle") == 0
    assert value(found, "imagetasks_tasks_stale", cloud="idle") == 0
    assert value(found, "imagetasks_poll_requests_total", cloud="idle") == 0


def test_it_counts_stale_and_vanished_tasks_per_cloud(client, two_clouds):
    found = scrape(client)

    assert value(found, "imagetasks_tasks_stale", cloud="north") == 1
    assert value(found, "imagetasks_tasks_vanished", cloud="north") == 1
    assert value(found, "imagetasks_tasks_stale", cloud="south") == 0
    assert value(found, "imagetasks_tasks_vanished", cloud="south") == 0


def test_poll_requests_and_errors_are_counters_read_from_each_clouds_row(client, two_clouds):
    found = scrape(client)

    assert value(found, "imagetasks_poll_requests_total", cloud="north") == 40
    assert value(found, "imagetasks_poll_request_errors_total", cloud="north") == 3
    assert value(found, "imagetasks_poll_requests_total", cloud="south") == 0


def test_detection_latency_covers_the_tasks_recorded_ending_in_the_last_hour(client, two_clouds):
    found = scrape(client)

    bucket = "imagetasks_detection_latency_seconds_bucket"
    assert value(found, bucket, cloud="north", le="3.0") == 0
    assert value(found, bucket, cloud="north", le="5.0") == 1
    assert value(found, bucket, cloud="north", le="20.0") == 1
    assert value(found, bucket, cloud="north", le="30.0") == 2
    assert value(found, bucket, cloud="north", le="+Inf") == 2, "the one two hours ago is out"
    total = value(found, "imagetasks_detection_latency_seconds_gsum", cloud="north")
    assert total == pytest.approx(29, abs=0.01)
    assert value(found, "imagetasks_detection_latency_seconds_gcount", cloud="north") == 2
    assert not any(dict(labels)["cloud"] == "south" for labels in found[bucket]), (
        "a task adopted by discovery was not detected ending"
    )


def test_the_outbox_shows_its_backlog_and_its_failures_by_channel(client, two_clouds):
    north, _ = two_clouds
    written = timezone.now() - timedelta(minutes=5)
    waiting = make_notification(make_task(north, status=statuses.SUCCESS))
    Notification.objects.filter(pk=waiting.pk).update(created_at=written)
    make_notification(
        make_task(north, status=statuses.FAILURE),
        channel=Notification.Channel.WEBHOOK, attempts=2, last_error="HTTP 502",
    )  # fmt: skip
    for _ in range(2):
        make_notification(
            make_task(north, status=statuses.FAILURE),
            channel=Notification.Channel.WEBHOOK,
            status=Notification.Status.FAILED,
            attempts=6,
            last_error="HTTP 502",
        )
    make_notification(make_task(north, status=statuses.SUCCESS), status="sent", attempts=1)

    found = scrape(client)

    assert value(found, "imagetasks_notifications_pending", channel="email") == 1
    assert value(found, "imagetasks_notifications_pending", channel="webhook") == 1
    assert value(found, "imagetasks_notifications_retrying", channel="webhook") == 1
    assert value(found, "imagetasks_notifications_retrying", channel="email") == 0
    assert value(found, "imagetasks_notifications_failed", channel="webhook") == 2
    age = value(found, "imagetasks_oldest_pending_notification_age_seconds", channel="email")
    assert 300 <= age < 360


def test_copies_are_counted_by_status_and_the_step_it_runs(client, two_clouds):
    north, south = two_clouds
    make_copy(north, south, status=statuses.COPY_TRANSFERRING)
    make_copy(north, south, status=statuses.COPY_TRANSFERRING)
    make_copy(south, north, status=statuses.COPY_SUCCEEDED)

    found = scrape(client)

    assert value(found, "imagetasks_copies", status="transferring", step="transfer") == 2
    assert value(found, "imagetasks_copies", status="succeeded", step="") == 1
    assert value(found, "imagetasks_copies", status="exporting", step="export") == 0


def test_heartbeat_ages_say_how_long_each_part_has_been_silent(client, db, settings):
    settings.HEARTBEAT_MAX_AGE = 45
    Heartbeat.objects.create(part="worker", last_seen=timezone.now() - timedelta(seconds=30))

    found = scrape(client)

    assert 30 <= value(found, "imagetasks_heartbeat_age_seconds", part="worker") < 40
    assert math.isinf(value(found, "imagetasks_heartbeat_age_seconds", part="beat")), (
        "a part that never reported is infinitely old, so an alert on age fires"
    )
    assert value(found, "imagetasks_heartbeat_max_age_seconds") == 45


# HTTP latency of this process -------------------------------------------------------------


def request_count(found, view: str, method: str = "GET") -> float:
    counts = found.get("imagetasks_http_request_duration_seconds_count", {})
    return counts.get(tuple(sorted({"view": view, "method": method}.items())), 0)


def test_request_latency_is_labelled_by_view_not_by_path(client, two_clouds):
    north, _ = two_clouds
    before = scrape(client)

    client.get("/healthz")
    for task in ImageTask.objects.filter(cloud=north)[:3]:
        client.get(f"/tasks/{task.pk}/")  # anonymous: sent to the login page, by the view
    client.get("/no/such/page/")
    client.generic("BREW", "/healthz")
    after = scrape(client)

    assert request_count(after, "healthz") == request_count(before, "healthz") + 1
    assert request_count(after, "dashboard:task") == request_count(before, "dashboard:task") + 3
    assert request_count(after, "<unresolved>") == request_count(before, "<unresolved>") + 1
    assert request_count(after, "healthz", "other") == request_count(before, "healthz", "other") + 1
    views = {
        dict(labels)["view"] for labels in after["imagetasks_http_request_duration_seconds_count"]
    }
    assert "metrics" not in views, "scrapes do not measure themselves"
    assert not any("/" in view for view in views), "no raw path becomes a label"


# Who may scrape ---------------------------------------------------------------------------


def test_without_a_token_this_host_may_scrape_without_logging_in(client, db):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_without_a_token_another_host_is_refused_in_plain_words(client, db):
    response = client.get("/metrics", REMOTE_ADDR="10.0.0.7")

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert "IMAGETASKS_METRICS_TOKEN" in response.content.decode()


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="missing"),
        pytest.param("Bearer wrong-token", id="wrong"),
        pytest.param(f"Bearer {TOKEN}x", id="longer"),
        pytest.param(f"Basic {TOKEN}", id="other-scheme"),
        pytest.param("Bearer ", id="empty"),
    ],
)
def test_with_a_token_set_anything_but_that_token_is_a_401(client, db, settings, authorization):
    settings.IMAGETASKS_METRICS_TOKEN = TOKEN
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}

    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", **headers)

    assert response.status_code == 401, "loopback alone is not enough once a token is set"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"].startswith("text/plain")
    assert TOKEN not in response.content.decode()


def test_with_the_token_any_host_may_scrape(client, db, settings):
    settings.IMAGETASKS_METRICS_TOKEN = TOKEN

    found = scrape(client, REMOTE_ADDR="10.0.0.7", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert "imagetasks_tasks_in_flight" in found or "imagetasks_heartbeat_age_seconds" in found


def test_a_scraper_reads_the_metrics_over_http_with_its_token(live_server, db, settings):
    settings.IMAGETASKS_METRICS_TOKEN = TOKEN
    north = make_cloud("north")
    make_task(north, status=statuses.PROCESSING)

    refused = requests.get(f"{live_server.url}/metrics", timeout=10)
    answered = requests.get(
        f"{live_server.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    )

    assert refused.status_code == 401
    assert answered.status_code == 200
    assert value(samples(answered.text), "imagetasks_tasks_in_flight", cloud="north") == 1


def test_a_scraper_on_plain_http_is_not_redirected_to_https(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301, "pages do move to https"
    assert client.get("/metrics").status_code == 200


# Hostile values ---------------------------------------------------------------------------

HOSTILE = [
    'quote"d',
    "new\nline",
    "back\\slash",
    'all"\n\\of}them{',
    "ünïcödé ☃ 𝔘",
    "\u2028sep",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_cloud_name_or_status_comes_back_as_it_was(client, db, name):
    # Names are slugs in every form; a row written some other way must not break a scrape.
    cloud = Cloud.objects.create(name=name[:64], auth_type=Cloud.AuthType.NONE)
    status = name[:16]  # a status from a cloud is kept to 16 characters
    make_task(cloud, status=status)
    ended(cloud, statuses.SUCCESS, latency=2)

    found = scrape(client)

    assert value(found, "imagetasks_tasks", cloud=name, type="import", method="tasks-api",
                 status=status) == 1  # fmt: skip
    assert value(found, "imagetasks_tasks_in_flight", cloud=name) == 1, "unknown reads in flight"
    assert value(found, "imagetasks_detection_latency_seconds_bucket", cloud=name, le="3.0") == 1


# What a scrape costs ----------------------------------------------------------------------


def test_a_scrape_costs_the_same_statements_however_many_tasks_there_are(client, two_clouds):
    north, south = two_clouds
    with CaptureQueriesContext(connection) as few:
        scrape(client)

    for cloud in (north, south, make_cloud("east")):
        for status in (statuses.PENDING, statuses.PROCESSING, statuses.VANISHED, "odd"):
            for _ in range(5):
                make_task(cloud, status=status, stale_since=timezone.now())
        for latency in (1, 8, 50):
            ended(cloud, statuses.FAILURE, latency=latency)
        make_notification(make_task(cloud, status=statuses.SUCCESS))
        make_copy(cloud, north)
    Heartbeat.objects.create(part="worker", last_seen=timezone.now())

    with CaptureQueriesContext(connection) as many:
        scrape(client)

    assert ImageTask.objects.count() > 70
    assert len(many.captured_queries) == len(few.captured_queries) <= 10, [
        q["sql"][:120] for q in many.captured_queries
    ]


# What the shipped dashboard reads ----------------------------------------------------------


def test_every_series_the_grafana_dashboard_reads_is_in_a_scrape(client, two_clouds):
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    wanted = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"imagetasks_[a-z_]+", target["expr"])
    }
    ended(two_clouds[0], statuses.SUCCESS, latency=1)
    client.get("/healthz")

    found = scrape(client)

    assert wanted and wanted <= set(found), wanted - set(found)
