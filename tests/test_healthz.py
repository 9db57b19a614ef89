"""/healthz tells a load balancer, and a person, which part is down."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard.models import Heartbeat


@pytest.fixture
def fresh_heartbeats(db):
    for part in ("worker", "beat", "dispatcher"):
        Heartbeat.objects.create(part=part, last_seen=timezone.now())


def test_it_answers_200_when_everything_is_up(client, fresh_heartbeats):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "worker", "beat", "dispatcher"}


def test_it_needs_no_login(client, fresh_heartbeats):
    assert client.get("/healthz").status_code == 200


def test_it_names_the_broker_when_the_broker_port_is_closed(client, fresh_heartbeats, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["broker"]
    assert "broker unreachable" in body["checks"]["broker"]["problem"]


def test_it_names_the_worker_when_no_heartbeat_is_recent(client, db, settings):
    settings.HEARTBEAT_MAX_AGE = 30
    started = timezone.now()
    Heartbeat.objects.create(part="beat", last_seen=started)
    Heartbeat.objects.create(part="dispatcher", last_seen=started)
    Heartbeat.objects.create(part="worker", last_seen=started - timedelta(minutes=5))
    response = client.get("/healthz")
    waited = (timezone.now() - started).total_seconds()
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["worker"]
    # The age counts on while the request runs (its broker check alone may take seconds
    # on a loaded machine): five minutes, plus at most the time this test waited.
    silent = re.fullmatch(r"worker silent for (\d+) s", body["checks"]["worker"]["problem"])
    assert silent, body["checks"]["worker"]["problem"]
    assert 300 <= int(silent.group(1)) <= 300 + waited


def test_it_says_when_a_part_has_never_reported(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["problem"] == "beat has never reported"


def test_beat_records_its_pulse_when_it_publishes_the_heartbeat(db, monkeypatch):
    from imagetasks.dashboard.upkeep import heartbeat as module

    monkeypatch.setattr(module, "_in_beat_process", True)
    module._record_beat_pulse(sender=module.HEARTBEAT_JOB)
    module._record_beat_pulse(sender="some.other.job")
    assert Heartbeat.objects.filter(part="beat").count() == 1


def test_it_names_the_broker_when_the_broker_folder_is_gone(client, fresh_heartbeats, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": "/nonexistent/queue"}
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["problem"] == (
        "broker folder /nonexistent/queue is missing or not writable"
    )


def test_it_names_the_dispatcher_when_its_ticks_stopped(client, fresh_heartbeats, settings):
    """Worker and beat alive, but nothing runs the dispatcher's ticks: no task is polled."""
    settings.HEARTBEAT_MAX_AGE = 30
    Heartbeat.objects.filter(part="dispatcher").update(
        last_seen=timezone.now() - timedelta(minutes=2)
    )
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["dispatcher"]
    assert response.json()["checks"]["dispatcher"]["problem"].startswith("dispatcher silent for")


def test_a_dispatcher_tick_records_its_pulse_once_per_heartbeat_interval(db, settings, monkeypatch):
    from imagetasks.dashboard import jobs
    from imagetasks.dashboard.upkeep import heartbeat as module

    settings.HEARTBEAT_INTERVAL = 10
    clock = iter([1000.0, 1005.0, 1011.0])
    monkeypatch.setattr(module, "_dispatcher_pulse_at", float("-inf"))
    monkeypatch.setattr(module, "_clock", lambda: next(clock))

    jobs.dispatch_polls()
    first = Heartbeat.objects.get(part="dispatcher").last_seen
    jobs.dispatch_polls()  # 5 s later: a tick every second must not write every second
    assert Heartbeat.objects.get(part="dispatcher").last_seen == first
    jobs.dispatch_polls()
    assert Heartbeat.objects.get(part="dispatcher").last_seen > first
