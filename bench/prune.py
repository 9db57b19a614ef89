"""Pruning a million snapshots: how long it takes, and what it does to the task table page.

    .venv/bin/python bench/prune.py [--tasks 100000] [--snapshots 1000000]
    .venv/bin/python bench/prune.py --tasks 2000 --snapshots 20000 --requests 50   # smoke

The data is the task table benchmark's (``table_views.populate``: ``--tasks`` tasks over
90 days, ``--in-flight`` of them in the last six hours, the rest ended) with
``--snapshots`` snapshots spread evenly over the tasks, each task's first at its
submission and its last at its last change, written with PostgreSQL's ``COPY`` or one
SQLite transaction of ``executemany`` per 50,000 rows, not the ORM. Planner statistics
are refreshed after loading, as autovacuum and the periodic job would.

Three phases, each timed from this process:

1. *Baseline.* The table page ``/`` (50 rows), requested through Django's test ``Client``
   once every ``--interval`` seconds, ``--requests`` times, with nothing else running.
2. *Dry run.* ``manage.py prune`` in a process of its own (the counts, nothing removed).
3. *Pruning.* ``manage.py prune --apply`` (``IMAGETASKS_KEEP_SNAPSHOTS_DAYS=30``,
   ``--batch-size`` rows a transaction) in a process of its own, while this process
   requests the page at the same pace until it ends. Every ``--pause-window`` seconds the
   prune is stopped (SIGSTOP) and let go on (SIGCONT) in turn, so the requests made while
   it was stopped are a second baseline taken in the same minutes as those made while it
   ran: on shared cores the load of other work moves a baseline taken minutes earlier as
   much as pruning does. The time to prune is the time it ran.

A fresh SQLite database under ``$IMAGETASKS_VAR_DIR`` (default ``var/bench-prune``), or
with ``DATABASE_URL`` naming PostgreSQL, a fresh database beside the configured one
(``…_bench_prune_<hex>``, or exactly ``--database-name``), dropped at the end, also on
Ctrl-C. It measures and reports; it never asserts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common, table_views  # noqa: E402
from bench.common import percentile as pct  # noqa: E402

KEEP_DAYS = 30
ROWS_PER_TRANSACTION = 50_000
COLUMNS = (
    "task_id",
    "observed_at",
    "status",
    "message",
    "remote_updated_at",
    "expires_at",
    "body",
    "fingerprint",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the database")
    parser.add_argument("--in-flight", type=int, default=5_000, help="of which in flight")
    parser.add_argument("--snapshots", type=int, default=1_000_000, help="snapshots in all")
    parser.add_argument("--requests", type=int, default=300, help="baseline page requests")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between requests")
    parser.add_argument("--batch-size", type=int, default=2000, help="rows a transaction")
    parser.add_argument(
        "--pause-window",
        type=float,
        default=2.0,
        help="seconds the prune runs, then is stopped, in turn (0: never stopped)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-name", help="PostgreSQL: the scratch database's name")
    args = parser.parse_args(argv)
    if args.tasks < 1 or not 0 <= args.in_flight <= args.tasks:
        parser.error("need --tasks >= 1 and 0 <= --in-flight <= --tasks")
    if args.snapshots < 2 * args.tasks:
        parser.error("need at least two snapshots a task (--snapshots >= 2 × --tasks)")
    args.warmup = 20  # table_views.populate's arguments
    return args


# --- Data ------------------------------------------------------------------------------------


def snapshot_rows(args: argparse.Namespace, tasks: list[tuple]):
    """Every task's snapshots, spread from its submission to its last change: the first
    ``pending``, the last its status, ``processing`` between."""
    from django.db import connection

    from imagetasks.dashboard import statuses

    each, extra = divmod(args.snapshots, len(tasks))
    adapt = connection.ops.adapt_datetimefield_value
    for index, (task_id, remote_id, status, submitted, changed) in enumerate(tasks):
        submitted, changed = _moment(submitted), _moment(changed)
        count = each + (1 if index < extra else 0)
        step = (changed - submitted) / count
        for n in range(count):
            state = "pending" if n == 0 else status if n == count - 1 else "processing"
            if state not in statuses.REMOTE_STATUSES:
                state = "pending"
            observed = submitted + step * (n + 1)
            body = {"id": remote_id, "status": state, "message": "", "progress": n}
            text = json.dumps(body, separators=(",", ":"))
            expires = observed + timedelta(hours=48) if state in ("success", "failure") else None
            yield (
                task_id,
                adapt(observed),
                state,
                "",
                adapt(observed),
                None if expires is None else adapt(expires),
                text,
                hashlib.sha256(text.encode()).hexdigest(),
            )


def _moment(value):
    """A datetime column as read through a raw cursor (SQLite's without its time zone)."""
    from datetime import UTC, datetime

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_snapshots(args: argparse.Namespace, postgres: bool) -> None:
    from django.db import connection, transaction

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, remote_id, status, submitted_at, changed_at FROM dashboard_imagetask"
            " ORDER BY submitted_at"
        )
        tasks = cursor.fetchall()
    # Read before the COPY starts: nothing else may use the connection meanwhile.
    rows = snapshot_rows(args, tasks)
    if postgres:
        copy_in = f"COPY dashboard_tasksnapshot ({', '.join(COLUMNS)}) FROM STDIN"
        with (
            connection.cursor() as cursor,
            transaction.atomic(),
            cursor.cursor.copy(copy_in) as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(COLUMNS))
        # Built from this module's constants only.
        insert = f"INSERT INTO dashboard_tasksnapshot ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608
        done = False
        while not done:
            chunk = [row for _, row in zip(range(ROWS_PER_TRANSACTION), rows, strict=False)]
            done = len(chunk) < ROWS_PER_TRANSACTION
            with connection.cursor() as cursor, transaction.atomic():
                cursor.executemany(insert, chunk)
    print(
        f"  {args.snapshots:,} snapshots inserted in {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def refresh_statistics(postgres: bool) -> None:
    from django.db import connection

    from imagetasks.dashboard.upkeep import planner_stats

    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        planner_stats.refresh()


# --- Measuring -------------------------------------------------------------------------------


def page_times(client, path: str, interval: float, until) -> list[float]:
    """GET ``path`` every ``interval`` seconds until ``until()``; each one's milliseconds."""
    times: list[float] = []
    next_at = time.perf_counter()
    while not until(len(times)):
        started = time.perf_counter()
        response = client.get(path)
        if response.status_code != 200:
            raise common.BenchError(f"{path}: {response.status_code}")
        times.append((time.perf_counter() - started) * 1000)
        next_at = max(next_at + interval, time.perf_counter())
        time.sleep(max(0.0, next_at - time.perf_counter()))
    return times


def interleaved_times(client, path: str, interval: float, process, window: float):
    """GET ``path`` every ``interval`` seconds until ``process`` ends, stopping it (SIGSTOP)
    and letting it go on (SIGCONT) every ``window`` seconds (0: never stopped).

    Returns the milliseconds of the requests that started while it ran, of those that
    started while it was stopped, and the seconds it ran. Both sets of requests share the
    same minutes of the machine, whatever else runs on it.
    """
    running: list[float] = []
    stopped: list[float] = []
    ran = 0.0
    paused = False
    window_start = next_at = time.perf_counter()
    try:
        while process.poll() is None:
            now = time.perf_counter()
            if window and now - window_start >= window:
                if not paused:
                    ran += now - window_start
                os.kill(process.pid, signal.SIGCONT if paused else signal.SIGSTOP)
                paused, window_start = not paused, now
            started = time.perf_counter()
            response = client.get(path)
            if response.status_code != 200:
                raise common.BenchError(f"{path}: {response.status_code}")
            (stopped if paused else running).append((time.perf_counter() - started) * 1000)
            next_at = max(next_at + interval, time.perf_counter())
            time.sleep(max(0.0, next_at - time.perf_counter()))
    finally:
        if paused and process.poll() is None:
            os.kill(process.pid, signal.SIGCONT)
    if not paused:
        ran += time.perf_counter() - window_start
    return running, stopped, ran


STARTED: list[subprocess.Popen] = []


def make_run() -> table_views.Run:
    directory = common.var_dir("bench-prune") / f"run-{secrets.token_hex(4)}"
    directory.mkdir(parents=True)
    return table_views.Run(
        directory=directory, database_url=f"sqlite:///{directory / 'db.sqlite3'}"
    )


def manage(run: table_views.Run, *arguments: str, log: Path) -> subprocess.Popen:
    """``manage.py`` in a process of its own on the run's database, with the retention
    setting; its output goes to ``log``."""
    environment = os.environ | {
        "DATABASE_URL": run.database_url,
        "IMAGETASKS_VAR_DIR": str(run.directory),
        "IMAGETASKS_ENV_FILE": "/dev/null",
        "IMAGETASKS_KEEP_SNAPSHOTS_DAYS": str(KEEP_DAYS),
        "CELERY_BROKER_URL": "filesystem://",
    }
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "manage.py", *arguments],
            cwd=BASE_DIR,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches this process, which stops it in order
        )
    STARTED.append(process)
    return process


def bench(args: argparse.Namespace, run: table_views.Run) -> list[str]:
    from django.db import connection
    from django.test import Client

    from imagetasks.dashboard.models import TaskSnapshot

    postgres = run.scratch is not None
    where = run.scratch.name if run.scratch else run.directory / "db.sqlite3"
    print(f"{run.engine}: {where}", flush=True)
    looker = table_views.populate(args)
    load_snapshots(args, postgres)
    refresh_statistics(postgres)
    connection.close()  # the processes below start with the database to themselves

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(looker)
    path = f"/?size={table_views.PAGE}"
    for _ in range(args.warmup):
        client.get(path)
    print(f"  baseline: {args.requests} page requests, one every {args.interval} s", flush=True)
    load = [os.getloadavg()[0]]
    baseline = page_times(client, path, args.interval, lambda n: n >= args.requests)
    load.append(os.getloadavg()[0])

    print("  dry run", flush=True)
    started = time.perf_counter()
    dry = manage(run, "prune", log=run.directory / "dry-run.log")
    dry.wait()
    dry_seconds = time.perf_counter() - started
    counted = (run.directory / "dry-run.log").read_text()

    print(f"  pruning, {args.batch_size:,} rows a transaction, with page requests", flush=True)
    started = time.perf_counter()
    pruning = manage(
        run,
        "prune",
        "--apply",
        "--batch-size",
        str(args.batch_size),
        log=run.directory / "prune.log",
    )
    during, paused, prune_seconds = interleaved_times(
        client, path, args.interval, pruning, args.pause_window
    )
    wall_seconds = time.perf_counter() - started
    load.append(os.getloadavg()[0])
    output = (run.directory / "prune.log").read_text()
    if pruning.returncode != 0 or dry.returncode != 0:
        raise common.BenchError(f"manage.py prune failed:\n{counted}\n{output}")
    left = TaskSnapshot.objects.count()
    removed = args.snapshots - left

    lines = [
        f"{run.engine}: {args.tasks:,} tasks ({args.in_flight:,} in flight), "
        f"{args.snapshots:,} snapshots; keep {KEEP_DAYS} days, {args.batch_size:,} rows a "
        "transaction",
        f"dry run: {dry_seconds:.1f} s; {_summary(counted)}",
        f"prune --apply: {prune_seconds:.1f} s running ({wall_seconds:.1f} s with its pauses), "
        f"{removed:,} snapshots removed ({removed / prune_seconds:,.0f} a second), "
        f"{left:,} left",
        "load average (1 min) before / after the baseline / after the prune: "
        + " / ".join(f"{value:.1f}" for value in load),
        "",
        f"{'table page /':24} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}",
    ]
    phases = [("baseline (before)", baseline), ("prune paused", paused), ("prune running", during)]
    for label, times in phases:
        if times:
            lines.append(
                f"{label:24} {len(times):>8} {pct(times, 0.5):8.1f} {pct(times, 0.95):8.1f} "
                f"{max(times):8.1f}"
            )
    for label, base in (("running / paused", paused), ("running / before", baseline)):
        if base and during:
            lines.append(
                f"{label:24} {'':>8} {pct(during, 0.5) / pct(base, 0.5):8.2f} "
                f"{pct(during, 0.95) / pct(base, 0.95):8.2f} {max(during) / max(base):8.2f}"
            )
    return lines


def _summary(output: str) -> str:
    """The dry run's counts of what would go (the kinds kept forever left out)."""
    counts = [line.strip() for line in output.splitlines() if line.startswith("  ")]
    return "; ".join(line for line in counts if "kept forever" not in line)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.interrupt_on_signals()
    run = make_run()
    lines = None
    try:
        run.scratch = common.ScratchDatabase.create_if_configured("bench_prune", args.database_name)
        if run.scratch:
            run.database_url = run.scratch.url
        table_views.setup_django(run)
        lines = bench(args, run)
    except KeyboardInterrupt:
        print("\ninterrupted; cleaning up", file=sys.stderr)
        return 130
    finally:
        common.ignore_signals()
        for process in STARTED:
            if process.poll() is None:
                process.kill()
                process.wait()
        table_views._clean_up(run)
    print()
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
