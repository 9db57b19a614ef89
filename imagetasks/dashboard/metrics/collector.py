"""The families /metrics reads from the database at scrape time.

Tasks are polled by workers, notifications sent by other workers, heartbeats written by
beat: no web process sees the work happen, and a web server runs several processes that
a scrape reaches one at a time. So nothing here is counted in memory: each scrape asks
the database, where every process already writes, with one aggregate statement per
family (``GROUP BY``, never a loop over rows), so a scrape costs the same few statements
however many tasks there are.

Values a cloud sent (a task's status) and names people typed (a cloud's) become label
values; prometheus-client escapes quotes, backslashes and newlines, and ``_label`` makes
sure what reaches it can be written as UTF-8 at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, Copy, Heartbeat, ImageTask, Notification

# Ended tasks whose detection latency the histogram shows: those recorded this recently.
DETECTION_WINDOW = timedelta(hours=1)
# Seconds from the cloud's end of a task to our record of it. Polls start every 2 s and
# back off to the cloud's maximum interval (60 s by default); remote clocks have seconds.
DETECTION_BUCKETS = (1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 900.0)
# The parts whose silence /healthz reports; each gets an age even before its first pulse.
HEARTBEAT_PARTS = ("worker", "beat", "dispatcher")
# The label of a task followed through the tasks API, whose method is blank in the row.
TASKS_API = "tasks-api"


def _label(value: object) -> str:
    """A label value that can always be written: text, with anything UTF-8 cannot encode
    (a lone surrogate) replaced. Quoting and escaping are the library's."""
    return str(value).encode("utf-8", "replace").decode("utf-8")


def _age(now: datetime, then: datetime | None) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


class DatabaseCollector(Collector):
    """Every family of the deployment's state, read at each scrape."""

    def describe(self) -> Iterable[Metric]:
        # Nothing to announce ahead: registering must not query a database that may not
        # exist yet (imports at start-up, migrations).
        return []

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        clouds = {
            pk: (_label(name), requests, errors)
            for pk, name, requests, errors in Cloud.objects.values_list(
                "pk", "name", "poll_requests", "poll_request_errors"
            )
        }
        names = {pk: name for pk, (name, _requests, _errors) in clouds.items()}
        yield from _tasks(names)
        yield from _in_flight(names, now)
        yield from _stale_and_vanished(names)
        yield from _polls(clouds)
        yield _detection_latency(names, now)
        yield from _notifications(now)
        yield _copies()
        yield from _heartbeats(now)


def _cloud(names: dict[int, str], pk: int) -> str:
    # A cloud made between the two statements of one scrape has no name here yet.
    return names.get(pk, f"#{pk}")


def _tasks(names: dict[int, str]) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "imagetasks_tasks",
        "Tasks this dashboard knows, by cloud, type, import method (tasks-api for the "
        "tasks API) and status (as the cloud sent it).",
        labels=["cloud", "type", "method", "status"],
    )
    rows = (
        ImageTask.objects.order_by()
        .values("cloud_id", "type", "method", "status")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        family.add_metric(
            [
                _cloud(names, row["cloud_id"]),
                _label(row["type"]),
                _label(row["method"] or TASKS_API),
                _label(row["status"]),
            ],
            row["n"],
        )
    yield family


def _in_flight(names: dict[int, str], now: datetime) -> Iterator[Metric]:
    """Watched tasks not finished yet; a status the map does not know counts as in flight,
    as it reads everywhere else."""
    count = GaugeMetricFamily(
        "imagetasks_tasks_in_flight",
        "Watched tasks not finished yet, by cloud.",
        labels=["cloud"],
    )
    oldest = GaugeMetricFamily(
        "imagetasks_oldest_in_flight_age_seconds",
        "Seconds since the oldest watched task in flight was submitted or found, by cloud "
        "(0 when none is).",
        labels=["cloud"],
    )
    found: dict[int, dict[str, Any]] = {
        row["cloud_id"]: dict(row)
        for row in ImageTask.objects.order_by()
        .filter(watching=True)
        .exclude(status__in=statuses.TERMINAL)
        .values("cloud_id")
        .annotate(n=Count("pk"), since=Min("submitted_at"))
    }
    for pk in sorted(names.keys() | found.keys()):
        row = found.get(pk, {})
        count.add_metric([_cloud(names, pk)], row.get("n", 0))
        oldest.add_metric([_cloud(names, pk)], _age(now, row.get("since")))
    yield count
    yield oldest


def _stale_and_vanished(names: dict[int, str]) -> Iterator[Metric]:
    stale = GaugeMetricFamily(
        "imagetasks_tasks_stale",
        "Tasks processing without change for longer than their cloud's stale_after, by cloud.",
        labels=["cloud"],
    )
    vanished = GaugeMetricFamily(
        "imagetasks_tasks_vanished",
        "Tasks the cloud forgot before they were seen to finish, by cloud.",
        labels=["cloud"],
    )
    is_stale = Q(stale_since__isnull=False) & ~Q(status__in=statuses.TERMINAL)
    is_vanished = Q(status=statuses.VANISHED)
    found: dict[int, dict[str, Any]] = {
        row["cloud_id"]: dict(row)
        for row in ImageTask.objects.order_by()
        .filter(is_stale | is_vanished)
        .values("cloud_id")
        .annotate(stale=Count("pk", filter=is_stale), vanished=Count("pk", filter=is_vanished))
    }
    for pk in sorted(names.keys() | found.keys()):
        row = found.get(pk, {})
        stale.add_metric([_cloud(names, pk)], row.get("stale", 0))
        vanished.add_metric([_cloud(names, pk)], row.get("vanished", 0))
    yield stale
    yield vanished


def _polls(clouds: dict[int, tuple[str, int, int]]) -> Iterator[Metric]:
    requests = CounterMetricFamily(
        "imagetasks_poll_requests",
        "Requests the poller sent to a cloud, by cloud.",
        labels=["cloud"],
    )
    errors = CounterMetricFamily(
        "imagetasks_poll_request_errors",
        "Poll requests answered with an error or not answered, by cloud (a 404 for a task, "
        "how a cloud says it forgot one, aside).",
        labels=["cloud"],
    )
    for name, sent, failed in clouds.values():
        requests.add_metric([name], sent)
        errors.add_metric([name], failed)
    yield requests
    yield errors


def _detection_latency(names: dict[int, str], now: datetime) -> Metric:
    """Seconds from the cloud's last update of an ended task (its end, by the cloud's
    clock) to our record of it, for tasks recorded ending within ``DETECTION_WINDOW``.

    A gauge histogram: the window moves, so its counts go down as well as up, and
    ``histogram_quantile`` reads its buckets as they are, without ``rate()``. Tasks found
    by discovery are left out: they were adopted, not detected, ending.
    """
    family = GaugeHistogramMetricFamily(
        "imagetasks_detection_latency_seconds",
        "Seconds from a task's end on the cloud to its record here, over the tasks recorded "
        f"ending in the last {int(DETECTION_WINDOW.total_seconds())} s, by cloud.",
        labels=["cloud"],
    )
    latency = ExpressionWrapper(F("changed_at") - F("remote_updated_at"), DurationField())
    buckets = {
        f"le_{index}": Count(
            "pk", filter=Q(remote_updated_at__gte=F("changed_at") - timedelta(seconds=bound))
        )
        for index, bound in enumerate(DETECTION_BUCKETS)
    }
    rows = (
        ImageTask.objects.order_by()
        .filter(
            status__in=(statuses.SUCCESS, statuses.FAILURE),
            changed_at__gte=now - DETECTION_WINDOW,
            remote_updated_at__isnull=False,
        )
        .exclude(origin=ImageTask.Origin.DISCOVERED)
        .values("cloud_id")
        .annotate(n=Count("pk"), total=Sum(latency), **buckets)
    )
    for grouped in rows:
        row: dict[str, Any] = dict(grouped)
        counts = [
            (floatToGoString(bound), row[f"le_{index}"])
            for index, bound in enumerate(DETECTION_BUCKETS)
        ]
        counts.append(("+Inf", row["n"]))
        total = row["total"]
        family.add_metric(
            [_cloud(names, row["cloud_id"])],
            counts,
            total.total_seconds() if total is not None else 0.0,
        )
    return family


def _notifications(now: datetime) -> Iterator[Metric]:
    pending = GaugeMetricFamily(
        "imagetasks_notifications_pending",
        "Notifications waiting in the outbox for their first or next attempt, by channel.",
        labels=["channel"],
    )
    retrying = GaugeMetricFamily(
        "imagetasks_notifications_retrying",
        "Pending notifications whose last attempt failed, by channel.",
        labels=["channel"],
    )
    failed = GaugeMetricFamily(
        "imagetasks_notifications_failed",
        "Notifications given up after every retry failed, by channel.",
        labels=["channel"],
    )
    oldest = GaugeMetricFamily(
        "imagetasks_oldest_pending_notification_age_seconds",
        "Seconds since the oldest pending notification was written, by channel (0 when none).",
        labels=["channel"],
    )
    is_pending = Q(status=Notification.Status.PENDING)
    is_failed = Q(status=Notification.Status.FAILED)
    is_retrying = is_pending & Q(attempts__gt=0) & ~Q(last_error="")
    found: dict[str, dict[str, Any]] = {
        row["channel"]: dict(row)
        for row in Notification.objects.order_by()
        .filter(is_pending | is_failed)
        .values("channel")
        .annotate(
            pending=Count("pk", filter=is_pending),
            retrying=Count("pk", filter=is_retrying),
            failed=Count("pk", filter=is_failed),
            since=Min("created_at", filter=is_pending),
        )
    }
    for channel in sorted({*Notification.Channel.values, *found}):
        row = found.get(channel, {})
        labels = [_label(channel)]
        pending.add_metric(labels, row.get("pending", 0))
        retrying.add_metric(labels, row.get("retrying", 0))
        failed.add_metric(labels, row.get("failed", 0))
        oldest.add_metric(labels, _age(now, row.get("since")))
    yield from (pending, retrying, failed, oldest)


def _copies() -> Metric:
    family = GaugeMetricFamily(
        "imagetasks_copies",
        "Copies of images between clouds, by status and the step it runs (blank when final).",
        labels=["status", "step"],
    )
    found = dict(
        Copy.objects.order_by().values("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    for code in [*statuses.COPY_STATUSES, *sorted(set(found) - set(statuses.COPY_STATUSES))]:
        known = statuses.COPY_STATUSES.get(code)
        family.add_metric([_label(code), known.step if known else ""], found.get(code, 0))
    return family


def _heartbeats(now: datetime) -> Iterator[Metric]:
    age = GaugeMetricFamily(
        "imagetasks_heartbeat_age_seconds",
        "Seconds since the worker, beat or the dispatcher last recorded its pulse (+Inf: never).",
        labels=["part"],
    )
    seen = dict(Heartbeat.objects.values_list("part", "last_seen"))
    for part in sorted({*HEARTBEAT_PARTS, *seen}):
        last = seen.get(part)
        age.add_metric([_label(part)], _age(now, last) if last else float("inf"))
    yield age
    yield GaugeMetricFamily(
        "imagetasks_heartbeat_max_age_seconds",
        "HEARTBEAT_MAX_AGE: the age at which /healthz reports a part down.",
        value=settings.HEARTBEAT_MAX_AGE,
    )
