"""Server time of the live task table with many tasks in the database, some in flight.

    .venv/bin/python bench/table_views.py [--tasks 100000] [--in-flight 5000] [--requests 200]
    .venv/bin/python bench/table_views.py --tasks 5000 --in-flight 500 --requests 30  # smoke

In this process, through Django's test ``Client`` (the whole middleware stack, the
view, the template; no network): the table page ``/``, its rows fragment (50 rows)
unfiltered, filtered by status, by cloud and by a text search, the Dismissed view, and
an unchanged refresh (the rows fragment with the version it shows, answered 204). Each request is
timed with ``time.perf_counter()`` around ``client.get``, after warm-up requests that
are not counted; the queries of one request of each kind are counted with
``CaptureQueriesContext``. The same-run baseline is a bare ``SELECT 1`` through the
ORM's connection, and ``/healthz`` is shown beside it for a request's fixed cost.

The data: a few clouds (the person looking is granted all but one), a few users,
``--tasks`` tasks submitted over 90 days of which ``--in-flight`` (submitting,
unconfirmed, pending, processing) in the last six hours, the rest finished (mostly
success), inserted with ``bulk_create`` in batches of 5,000. ``--dismissed`` of the
failures (80 %) were dismissed, each at a moment of its own after it failed.

Everything lives in ``$IMAGETASKS_VAR_DIR`` (default ``var/bench-table``): a fresh
SQLite database, removed at the end, also on Ctrl-C. With ``DATABASE_URL`` naming
PostgreSQL, a fresh database is created beside the configured one (named after it,
``…_bench_table_<hex>``), migrated, ANALYZEd (as autovacuum would soon do) and dropped
at the end; the configured database is never touched. Only 127.0.0.1 is used.

Targets: rows fragment p95 <= 50 ms, unchanged refresh p95 <= 5 ms. It measures and
reports; it never asserts.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import re
import secrets
import shutil
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common  # noqa: E402

BATCH = 5_000
PAGE = 50
ROWS_TARGET_MS = 50.0
REFRESH_TARGET_MS = 5.0
CLOUDS = ("dfw", "iad", "ord", "lon")  # the last one is not granted to the person looking
USERS = ("owen", "cora", "vera")
IN_FLIGHT = (("processing", 0.6), ("pending", 0.3), ("submitting", 0.05), ("unconfirmed", 0.05))
FINISHED = (("success", 0.9), ("failure", 0.1))
IMAGES = ("web", "db", "cache", "worker", "gateway", "build", "ubuntu", "centos", "win2022")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the database")
    parser.add_argument("--in-flight", type=int, default=5_000, help="of which in flight")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per case")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests per case")
    parser.add_argument(
        "--dismissed", type=float, default=0.8, help="share of the failures dismissed"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if not 0 <= args.dismissed <= 1:
        parser.error("need 0 <= --dismissed <= 1")
    if args.tasks < 1 or not 0 <= args.in_flight <= args.tasks:
        parser.error("need --tasks >= 1 and 0 <= --in-flight <= --tasks")
    if args.requests < 1 or args.warmup < 0:
        parser.error("need --requests >= 1 and --warmup >= 0")
    return args


# --- Database and Django ---------------------------------------------------------------------


@dataclass
class Run:
    directory: Path
    database_url: str
    scratch: common.ScratchDatabase | None = None  # the PostgreSQL database, if any

    @property
    def engine(self) -> str:
        return "PostgreSQL" if self.scratch else "SQLite"


def make_run() -> Run:
    directory = common.var_dir("bench-table") / f"run-{secrets.token_hex(4)}"
    directory.mkdir(parents=True)
    return Run(directory=directory, database_url=f"sqlite:///{directory / 'db.sqlite3'}")


def setup_django(run: Run) -> None:
    os.environ["IMAGETASKS_VAR_DIR"] = str(run.directory)
    os.environ["DATABASE_URL"] = run.database_url
    os.environ["CELERY_BROKER_URL"] = "filesystem://"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imagetasks.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("prepare", verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)
    # Pages name their CSS and JS through the manifest, as under make run.
    call_command("collectstatic", verbosity=0, interactive=False)


# --- Data ------------------------------------------------------------------------------------


def _pick(rng: random.Random, weighted) -> str:
    codes, weights = zip(*weighted, strict=True)
    return rng.choices(codes, weights)[0]


def populate(args: argparse.Namespace):
    """Clouds, users, tasks; returns the person looking (granted every cloud but the last)."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from imagetasks.dashboard.access import OPERATORS
    from imagetasks.dashboard.models import Cloud, ImageTask

    rng = random.Random(args.seed)
    operators = Group.objects.get_or_create(name=OPERATORS)[0]
    clouds = [
        Cloud.objects.create(
            name=name,
            region=name.upper(),
            auth_type=Cloud.AuthType.NONE,
            image_endpoint="http://127.0.0.1:9/image",
            object_store_endpoint="http://127.0.0.1:9/v1/AUTH_x",
        )
        for name in CLOUDS
    ]
    users = [User.objects.create(username=name) for name in USERS]
    looker = users[0]
    looker.groups.add(operators)
    for cloud in clouds[:-1]:
        cloud.users.add(*users)

    # submitted_at and changed_at are auto_now_add: switched off while the history is loaded.
    fields = [ImageTask._meta.get_field(n) for n in ("submitted_at", "changed_at")]
    for f in fields:
        f.auto_now_add = False
    now = timezone.now()
    flying = set(rng.sample(range(args.tasks), args.in_flight))
    started = time.perf_counter()
    try:
        batch = []
        for i in range(args.tasks):
            task = _task(rng, i, i in flying, rng.choice(clouds), rng.choice(users), now)
            if task.status == "failure" and rng.random() < args.dismissed:
                task.dismissed_at = min(now, task.changed_at + timedelta(hours=rng.uniform(1, 72)))
                task.dismissed_by = looker
            batch.append(task)
            if len(batch) == BATCH:
                ImageTask.objects.bulk_create(batch)
                batch.clear()
        if batch:
            ImageTask.objects.bulk_create(batch)
    finally:
        for f in fields:
            f.auto_now_add = True
    print(f"  {args.tasks:,} tasks inserted in {time.perf_counter() - started:.1f} s", flush=True)
    return looker


def _task(rng, i: int, in_flight: bool, cloud, user, now):
    from imagetasks.dashboard.models import ImageTask

    image = f"{rng.choice(IMAGES)}-{i:06d}"
    if in_flight:
        status = _pick(rng, IN_FLIGHT)
        submitted = now - timedelta(seconds=rng.uniform(0, 6 * 3600))
        changed = submitted + (now - submitted) * rng.random()
    else:
        status = _pick(rng, FINISHED)
        submitted = now - timedelta(seconds=rng.uniform(6 * 3600, 90 * 86400))
        changed = submitted + timedelta(seconds=rng.uniform(30, 3600))
    kind = "import" if rng.random() < 0.8 else "export"
    remote_id = None if status in ("submitting", "unconfirmed") else str(uuid.uuid4())
    if kind == "import":
        task_input = {
            "import_from": f"images/{image}.vhd",
            "image_properties": {"name": image},
        }
        result = {"image_id": str(uuid.uuid4())} if status == "success" else None
    else:
        task_input = {"image_uuid": str(uuid.uuid4()), "receiving_swift_container": "exports"}
        result = (
            {"export_location": f"exports/{image}.vhd", "image_id": task_input["image_uuid"]}
            if status == "success"
            else None
        )
    return ImageTask(
        cloud=cloud,
        remote_id=remote_id,
        type=kind,
        input=task_input,
        name=image,
        status=status,
        result=result,
        message="Error code 396: transient failure" if status == "failure" else "",
        submitted_by=user,
        submitted_at=submitted,
        changed_at=changed,
        remote_created_at=None if remote_id is None else submitted,
        remote_updated_at=None if remote_id is None else changed,
        expires_at=changed + timedelta(hours=48) if status in ("success", "failure") else None,
        next_poll_at=now + timedelta(seconds=2) if status in ("pending", "processing") else None,
        watching=status not in ("success", "failure"),
        version=rng.randint(1, 12),
    )


# --- Measuring -------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    path: str
    status: int
    times: list[float]  # ms
    queries: int

    def pct(self, p: float) -> float:
        return common.percentile(self.times, p / 100)


def _timed_inner(call, args: argparse.Namespace) -> list[float]:
    """Like ``_timed`` for a call that times itself (returns milliseconds)."""
    for _ in range(args.warmup):
        call()
    return [call() for _ in range(args.requests)]


def _timed(call, args: argparse.Namespace) -> list[float]:
    for _ in range(args.warmup):
        call()
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def measure_request(client, label: str, path: str, args, before=None) -> Case:
    """Time GETs of ``path``; ``before`` (untimed) runs ahead of each one."""
    from django.core.signals import request_started
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    # The query log is a deque of 9,000 that the timed requests fill (nothing empties it in
    # this process): once full its length stops growing and the count would read 0.
    connection.queries_log.clear()
    request_started.disconnect(reset_queries)
    try:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        # Counted now: ``captured`` reads the connection's log, which the timed requests
        # below empty (outside DEBUG they log nothing into it again).
        queries = len(captured.captured_queries)
    finally:
        request_started.connect(reset_queries)
    status = response.status_code

    def get():
        if before:
            before()
        started = time.perf_counter()
        client.get(path)
        return (time.perf_counter() - started) * 1000

    times = _timed_inner(get, args)
    return Case(label, path, status, times, queries)


def measure_select_one(args) -> Case:
    from django.db import connection

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return Case("baseline: SELECT 1 (ORM cursor)", "-", 0, _timed(select_one, args), 1)


def version_shown(client, path: str) -> str:
    html = client.get(path).content.decode()
    found = re.search(r'data-version="([0-9a-f]+)"', html)
    if not found:
        raise RuntimeError(f"no data-version in {path}")
    return found.group(1)


def bench(args: argparse.Namespace, run: Run) -> list[Case]:
    from django.db import connection
    from django.test import Client

    where = run.scratch.name if run.scratch else run.directory / "db.sqlite3"
    print(f"{run.engine}: {where}", flush=True)
    from django.core.cache import cache

    from imagetasks.dashboard.upkeep import planner_stats

    looker = populate(args)
    # Planner statistics, as the periodic job (SQLite) or autovacuum (PostgreSQL) soon has.
    if run.scratch:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        planner_stats.refresh()
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(looker)
    rows = f"/tasks/rows/?size={PAGE}"
    search = "web-00042"  # matches names web-000420 … web-000429 (about 1 in 9 is "web")
    paths = [
        ("table page /", f"/?size={PAGE}"),
        ("rows, no filter", rows),
        ("rows, status=processing", f"{rows}&status=processing"),
        ("rows, cloud=iad", f"{rows}&cloud=iad"),
        (f"rows, q={search}", f"{rows}&q={search}"),
        ("rows, status=failure", f"{rows}&status=failure"),  # the few not dismissed
        ("rows, dismissed", f"{rows}&dismissed=1"),
    ]
    # /healthz answers 503 here (no worker heartbeats): its cost is what matters, not its log.
    logging.getLogger("django.request").setLevel(logging.CRITICAL)
    cases = [measure_select_one(args), measure_request(client, "/healthz", "/healthz", args)]
    print(f"  timing {args.requests} requests per case…", flush=True)
    for label, path in paths:
        cases.append(measure_request(client, label, path, args))
    # A first look at a page: no row of it rendered before (the row cache emptied).
    cases.append(measure_request(client, "rows, no filter, cold", rows, args, cache.clear))
    for label, path in [
        ("unchanged refresh (no filter)", rows),
        ("unchanged refresh (status)", paths[2][1]),
    ]:
        refresh = f"{path}&v={version_shown(client, path)}"
        cases.append(measure_request(client, label, refresh, args))
    return cases


def report(args: argparse.Namespace, run: Run, cases: list[Case]) -> list[str]:
    base = statistics.median(cases[0].times)
    lines = [
        f"{run.engine}: {args.tasks:,} tasks, {args.in_flight:,} in flight, page of {PAGE}; "
        f"{args.requests} timed requests per case after {args.warmup} warm-up",
        f"{'case':34} {'HTTP':>4} {'q':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
        f"{'p50 ×base':>10} {'p95 ×base':>10}",
    ]
    for case in cases:
        p50, p95 = case.pct(50), case.pct(95)
        lines.append(
            f"{case.label:34} {case.status or '-':>4} {case.queries:>3} {p50:8.2f} {p95:8.2f} "
            f"{max(case.times):8.2f} {p50 / base:10.0f} {p95 / base:10.0f}"
        )
    lines.append("")
    for case in cases:
        if case.label.startswith("rows"):
            met = case.pct(95) <= ROWS_TARGET_MS
            target = ROWS_TARGET_MS
        elif case.label.startswith("unchanged"):
            met = case.pct(95) <= REFRESH_TARGET_MS and case.status == 204
            target = REFRESH_TARGET_MS
        else:
            continue
        verdict = "met" if met else "MISSED"
        lines.append(f"target p95 <= {target:g} ms, {case.label}: {case.pct(95):.2f} ms, {verdict}")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.interrupt_on_signals()
    run = make_run()
    lines = None
    try:
        run.scratch = common.ScratchDatabase.create_if_configured("bench_table")
        if run.scratch:
            run.database_url = run.scratch.url
        setup_django(run)
        lines = report(args, run, bench(args, run))
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        common.ignore_signals()
        _clean_up(run)
    print()
    print("\n".join(lines))
    return 0


def _clean_up(run: Run) -> None:
    with contextlib.suppress(Exception):  # Django may not be set up yet
        from django.db import connections

        connections.close_all()
    try:
        if run.scratch:
            run.scratch.drop()
    except Exception as exc:  # reported, not fatal: the name says what to drop by hand
        print(f"could not drop {run.scratch.name}: {exc}", file=sys.stderr)
    shutil.rmtree(run.directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
