"""How many requests the tracker sends, and how soon it sees a task end, with many tasks in flight.

    .venv/bin/python bench/tracker_polling.py [--tasks 1000] [--min-seconds 20] [--max-seconds 120]
    .venv/bin/python bench/tracker_polling.py --tasks 50 --min-seconds 5 --max-seconds 15  # smoke
    .venv/bin/python bench/tracker_polling.py --method web-download   # interoperable imports

Real processes, as in production (see ``Procfile``): gunicorn serving the
built-in cloud, its ``localcloud`` workers, the dashboard worker and beat, on a
Redis of the run's own. An account of the built-in cloud is registered as a
``Cloud`` (polling settings left at the model's defaults) and the imports are
submitted through ``tracking.submission.submit``; the run ends when the tracker
has recorded every task's end. Each import is a VHD object whose size, at the
cloud's rate limit, makes it last a chosen time between the two bounds. The
cloud's workers start once every task is submitted, so that all are in flight
together (pending, then processing), with a thread slot each: an import holds
its slot for its whole duration, mostly asleep in the rate limiter.

A baseline poller follows the same tasks in the same run, the way openstacksdk's
``wait_for_task`` does for each one: GET, sleep 2 s, again until it ends. It
talks to a gunicorn of its own (same cloud database), so the two access logs
count each side's requests exactly, and that server and the baseline run at a
lower CPU priority, so that the baseline's load delays the tracker as little as
the shared cores allow. Where the baseline cannot keep to its 2 s, the report
also gives what an exactly-on-schedule poller would have sent. The cloud keeps
a database of its own too: it stands in for a remote cloud, whose writes (a
claim renewal per running task every 2 s) would otherwise contend with the
tracker's on one SQLite file, a coupling that a remote cloud never has.

The floor is one list request per tick (beat's dispatcher ticks, one a second,
sent while any task was in flight) plus one detail GET per finished task. The
report also gives it counting as ticks only the dispatcher runs that claimed
tasks: when dispatch messages expire unrun, that count shrinks and would flatter
a tracker that falls behind. Detection latency is the terminal snapshot's
``observed_at`` minus the remote task's terminal ``updated_at``, read from the
cloud's database at full precision (the API shows whole seconds). The
baseline's is measured the same way, from the moment it sent the GET that saw
the end (as ``observed_at`` is for a snapshot).

With ``--method web-download`` the tasks are interoperable imports instead
(``POST /v2/images``, then ``POST /v2/images/{id}/import`` of a URL on a file server
this run serves on loopback), followed through their images: one ``id=in:`` list per
hundred images in flight, and ``GET /v2/images/{id}/tasks`` when an image's import state
moves. The cloud's rate limit paces the download and the two passes over the data
after it (the checksums, the store's read-back), so each lasts its planned time. The
floor is then, per tick, one list request per hundred imports in flight, plus one task
read per finished import; the baseline is not run.

Everything lives in a directory of its own under ``$IMAGETASKS_VAR_DIR``
(default ``var/bench-tracker``), removed at the end with every process, also on
Ctrl-C. With ``DATABASE_URL`` naming PostgreSQL, the tracker's database is a
fresh one created beside it and dropped at the end. Only 127.0.0.1 is used.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common, poll_windows, warm_clients  # noqa: E402
from imagetasks.runner import read_procfile  # noqa: E402

BASELINE_INTERVAL = 2.0  # openstacksdk's wait_for_task default
BASELINE_THREADS = 16  # the client's connection pool holds 16
SUBMIT_THREADS = 8
DURATION_STEP = 0.5  # seconds: durations are rounded so that few distinct objects are needed
TERMINAL = ("success", "failure")
TASKS_PATH = "/localcloud/image/v2/tasks"
IMAGES_PATH = "/localcloud/image/v2/images"
WEB_DOWNLOAD = "web-download"
# A web-download reads its data three times at the cloud's rate: download, checksums,
# and the store's read-back (one store).
WEB_DOWNLOAD_PASSES = 3
IDS_PER_LIST = 100  # the client's id=in: batch
ACCESS_FORMAT = '%(m)s %(U)s %(s)s %(M)s "%(a)s"'
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"
# RabbitMQ, Celery's recommended broker: the local server's default vhost.
AMQP_URL = os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
QUEUES = ("dashboard", "dispatch", "localcloud")
# Targets: requests per floor, and p95 detection latency in seconds.
REQUESTS_TARGET = 1.1
LATENCY_TARGET = 2.0


# --- Command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="imports in flight (1000)")
    parser.add_argument("--min-seconds", type=float, default=20.0, help="shortest import (20)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="longest import (120)")
    parser.add_argument(
        "--rate",
        type=int,
        default=4096,
        help="LOCALCLOUD_RATE_LIMIT in bytes/s; a multiple of 512 (4096)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the durations (1)")
    parser.add_argument(
        "--method",
        choices=("tasks", WEB_DOWNLOAD),
        default="tasks",
        help="imports through the tasks API (default), or interoperable web-download imports "
        "of URLs on a loopback file server, followed through their images (no baseline)",
    )
    parser.add_argument(
        "--poll-min-interval",
        type=float,
        help="the Cloud's poll_min_interval (default: the model's default)",
    )
    parser.add_argument(
        "--max-requests-per-second",
        type=float,
        help="the Cloud's max_requests_per_second (default: the model's default)",
    )
    parser.add_argument(
        "--broker",
        choices=("redis", "rabbitmq", "filesystem"),
        default="redis",
        help="Celery broker: a private redis-server on 127.0.0.1 (default, as in "
        f"docker-compose), RabbitMQ at $BENCH_AMQP_URL (default {AMQP_URL}), or the "
        "embedded filesystem broker of `make run`",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="dashboard worker processes (separate `celery worker`s, as on separate hosts; "
        "one beat) (1)",
    )
    slots = procfile_concurrency()
    parser.add_argument(
        "--concurrency",
        type=int,
        default=slots,
        help=f"worker slots of each dashboard worker process (the Procfile's worker: {slots})",
    )
    parser.add_argument(
        "--clouds",
        type=int,
        default=1,
        help="accounts of the built-in cloud, each a Cloud row; tasks spread evenly (1)",
    )
    parser.add_argument(
        "--setup",
        choices=("submit", "direct"),
        default="submit",
        help="how the tasks are made: through the tracker's submission service, POST by POST "
        "(default), or created on the cloud by its own submit function and recorded by the "
        "tracker as the POST's answer would be, in bulk (tasks API only)",
    )
    parser.add_argument(
        "--cloud-nice",
        type=int,
        default=0,
        help="CPU priority (nice) of the built-in cloud's task workers; they stand in for a "
        "remote cloud's hosts, and with thousands of imports running they take most of two "
        "cores from the tracker (0)",
    )
    parser.add_argument(
        "--cloud-slots",
        type=int,
        default=None,
        help="imports the built-in cloud runs at once; the rest wait pending, in flight for "
        "the tracker (default: all of them)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="run the tracker alone")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory and logs")
    parser.add_argument("--role", default="bench", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.role == "bench":
        _check(parser, args)
        args.cloud_slots = min(args.tasks, args.cloud_slots or args.tasks)
        # The baseline follows one account's tasks.
        args.no_baseline = args.no_baseline or args.method == WEB_DOWNLOAD or args.clouds > 1
    return args


def procfile_concurrency() -> int:
    """The slots of the Procfile's dashboard worker (``worker``), which the runs start."""
    [worker] = [part for part in read_procfile(BASE_DIR / "Procfile") if part.name == "worker"]
    words = shlex.split(worker.command)
    return int(words[words.index("--concurrency") + 1])


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.tasks < 1:
        parser.error("--tasks must be at least 1")
    if not 1 <= args.min_seconds <= args.max_seconds:
        parser.error("need 1 <= --min-seconds <= --max-seconds")
    if args.cloud_slots is not None and args.cloud_slots < 1:
        parser.error("--cloud-slots must be at least 1")
    if args.workers < 1 or args.clouds < 1 or args.concurrency < 1:
        parser.error("--workers, --concurrency and --clouds must be at least 1")
    if args.rate < 512 or args.rate % 512:
        parser.error("--rate must be a positive multiple of 512 (VHD data is whole sectors)")
    if args.setup == "direct" and args.method == WEB_DOWNLOAD:
        parser.error("--setup direct makes tasks of the tasks API only")


# --- The run's directory, databases and environment ------------------------------------------


@dataclass
class Run:
    """Where one run keeps its databases, broker, blobs and logs, and the environments of its
    processes (the cloud's and the tracker's differ only in their database)."""

    directory: Path
    secret_key: str
    dashboard_db: str
    cloud_db: str
    rate: int
    broker_url: str = "filesystem://"
    scratch: common.ScratchDatabase | None = None  # the tracker's, on PostgreSQL
    load_at_start: tuple[float, float, float] = field(default_factory=os.getloadavg)

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def env(self, role: str, *, log_level: str = "INFO") -> dict[str, str]:
        """The environment of a process: ``cloud`` (web, cloud workers) or ``dashboard``."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key != "DATABASE_URL" and not key.startswith("LOCALCLOUD_")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="imagetasks.settings",
            IMAGETASKS_VAR_DIR=str(self.directory),
            SECRET_KEY=self.secret_key,
            # Production settings (no query log kept per connection), over plain HTTP.
            DEBUG="false",
            SECURE_SSL_REDIRECT="false",
            DATABASE_URL=self.cloud_db if role == "cloud" else self.dashboard_db,
            LOCALCLOUD_RATE_LIMIT=str(self.rate),
            LOG_LEVEL=log_level,
            # The report counts beat's sends and the workers' job lines in their logs.
            CELERY_JOB_LOGS="true",
            IMAGETASKS_ENV_FILE="/dev/null",
            CELERY_BROKER_URL=self.broker_url,
            PYTHONUNBUFFERED="1",
        )
        return env


def make_run(args: argparse.Namespace) -> Run:
    """A directory of this run's own, so nothing it writes mixes with another run's or with
    `make run`'s; both databases start empty in it."""
    name = f"tracker-polling-{os.getpid()}-{secrets.token_hex(3)}"
    directory = common.var_dir("bench-tracker") / name
    (directory / "logs").mkdir(parents=True)
    return Run(
        directory=directory,
        secret_key=secrets.token_urlsafe(50),
        dashboard_db=f"sqlite:///{directory / 'dashboard.sqlite3'}",
        cloud_db=f"sqlite:///{directory / 'cloud.sqlite3'}",
        rate=args.rate,
    )


def setup_django(run: Run) -> None:
    """Django in this process: the tracker's database as ``default``, the cloud's as ``cloud``.

    The cloud's database is read directly only for what the API rounds away
    (``updated_at`` to the microsecond) and to create the account.
    """
    os.environ.update(run.env("dashboard", log_level="WARNING"))
    import django
    from django.conf import settings

    from imagetasks.env import parse_database_url

    settings.DATABASES["cloud"] = parse_database_url("cloud", run.cloud_db, base_dir=BASE_DIR)
    django.setup()
    from django.core.management import call_command

    call_command("prepare", verbosity=0)
    for alias in ("default", "cloud"):
        call_command("migrate", database=alias, verbosity=0, interactive=False)


# --- Processes -------------------------------------------------------------------------------


class Fleet:
    """The processes of one run. Each starts in a session of its own, so that it and its
    children (gunicorn's and celery's workers) are stopped together, by its id."""

    def __init__(self, run: Run):
        self.run = run
        self.processes: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str], *, nice: int = 0, **kw):
        """Start a process logging to ``logs/<name>.log``, at a lower priority when ``nice``."""
        if nice:
            argv = ["nice", "-n", str(nice), *argv]
        with open(self.run.logs / f"{name}.log", "ab") as log:
            process = subprocess.Popen(
                argv,
                cwd=BASE_DIR,
                env=env,
                stdout=kw.pop("stdout", log),
                stderr=log,
                start_new_session=True,
                **kw,
            )
        self.processes.append((name, process))
        return process

    def check_alive(self) -> None:
        """Fail the run with the log's tail as soon as a process it needs has exited."""
        for name, process in self.processes:
            if process.poll() is not None and name != "baseline":
                tail = (self.run.logs / f"{name}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop_all(self) -> None:
        """Ask every process to stop (SIGTERM to it: gunicorn and celery then stop their own
        workers), then kill the whole group of any that is still there."""
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + 15
        for _, process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                with _quiet():
                    process.wait(timeout=5)


class _quiet:
    """Ignore errors of best-effort clean-up steps."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return exc[0] is not None and issubclass(exc[0], Exception)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    """Signal the process's group, only while the process is not reaped: once it is, its id
    may belong to someone else's process."""
    if process.poll() is None:
        with _quiet():
            os.killpg(process.pid, signum)


def _stop_group(process: subprocess.Popen, timeout: float) -> None:
    """Stop one process as ``Fleet.stop_all`` stops them all."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait(timeout=5)


def start_redis(fleet: Fleet) -> str:
    """A Redis of this run's own (no persistence), so no other instance shares its queues.

    The embedded filesystem broker is no option at this scale: kombu creates a message
    file before writing it, and a consumer that moves it in between reads it empty and
    its worker stops (celery/kombu#1551).
    """
    import redis

    port = common.free_port()
    fleet.start(
        "redis",
        ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
         "--appendonly", "no", "--dir", str(fleet.run.directory)],
        dict(os.environ),
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping()
            return f"redis://127.0.0.1:{port}/0"
        except redis.exceptions.ConnectionError:
            fleet.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.2)


def purge_queues(run: Run) -> None:
    """RabbitMQ is a server shared with whatever else runs here, not the run's own: empty the
    queues of what an earlier run left, and stop if anything else consumes from them
    (its workers would take this run's jobs)."""
    import contextlib

    from kombu import Connection

    with Connection(run.broker_url, connect_timeout=5) as connection:
        for queue in QUEUES:
            channel = connection.channel()
            try:
                _, _, consumers = channel.queue_declare(queue, passive=True)
                if consumers:
                    raise common.BenchError(f"{consumers} consumer(s) already on {queue!r}")
                channel.queue_purge(queue)
            except connection.channel_errors:
                pass  # no such queue yet: the first worker declares it
            finally:
                with contextlib.suppress(Exception):
                    channel.close()


def start_web(fleet: Fleet, name: str, *, nice: int = 0) -> str:
    """gunicorn as in the Procfile, serving the built-in cloud; returns its base URL."""
    port = common.free_port()
    fleet.start(
        name,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "imagetasks.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--worker-class",
            "gthread",
            "--workers",
            "2",
            "--threads",
            "8",
            "--graceful-timeout",
            "5",
            "--access-logfile",
            str(fleet.run.logs / f"{name}.access"),
            "--access-logformat",
            ACCESS_FORMAT,
        ],
        fleet.run.env("cloud", log_level="WARNING"),
        nice=nice,
    )
    return f"http://127.0.0.1:{port}"


def wait_for_web(fleet: Fleet, url: str, timeout: float = 60.0) -> None:
    """Until gunicorn answers anything at all (its workers import Django first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/localcloud/identity/v3", timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            fleet.check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {timeout:.0f} s") from None
            time.sleep(0.3)


def celery(*args: str) -> list[str]:
    """A ``celery`` command line of this interpreter, as the Procfile's."""
    return [sys.executable, "-m", "celery", "-A", "imagetasks", *args]


def start_cloud_workers(fleet: Fleet, slots: int, nice: int = 0) -> None:
    """A thread slot for each import to run at once (every task, unless ``--cloud-slots``):
    an import holds its slot for its whole duration, mostly asleep in the rate limiter. Two
    processes share the GIL load. ``nice``: their CPU priority (``--cloud-nice``)."""
    processes = 1 if slots <= 200 else 2
    per_process = math.ceil(slots / processes) + 8  # spare slots for recovery and purge jobs
    for index in range(processes):
        fleet.start(
            f"cloudworker-{index}",
            celery(
                "worker",
                "--loglevel",
                "WARNING",
                "--pool",
                "threads",
                "--concurrency",
                str(per_process),
                "--queues",
                "localcloud",
                "--hostname",
                f"localcloud-{index}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
            ),
            fleet.run.env("cloud", log_level="WARNING"),
            nice=nice,
        )


def start_tracker(fleet: Fleet, workers: int, concurrency: int) -> None:
    """The dashboard's workers and beat as the Procfile starts them, ``workers`` times over as
    separate hosts would run them (a worker for ``dashboard`` and ``dispatch`` and a
    dispatcher for ``dispatch`` each), and one beat. Each worker records its polls' windows
    (``bench/poll_windows.py``) in ``poll-windows/``."""
    env = fleet.run.env("dashboard")
    windows = fleet.run.directory / "poll-windows"
    windows.mkdir(exist_ok=True)
    warm = fleet.run.directory / "warm-clients"
    warm.mkdir(exist_ok=True)
    for index in range(workers):
        fleet.start(
            f"worker-{index}",
            celery(
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                str(concurrency),
                "--queues",
                "dashboard,dispatch",
                "--hostname",
                f"dashboard-{index}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
                "--include",
                "bench.poll_windows,bench.warm_clients",
            ),
            env | {poll_windows.ENV: str(windows), warm_clients.ENV: str(warm)},
        )
        fleet.start(
            f"dispatcher-{index}",
            celery(
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "solo",
                "--queues",
                "dispatch",
                "--hostname",
                f"dispatch-{index}-{os.getpid()}@%h",
                "--without-mingle",
                "--without-gossip",
            ),
            env,
        )
    fleet.start(
        "beat",
        celery(
            "beat", "--loglevel", "INFO", "--schedule", str(fleet.run.directory / "beat-schedule")
        ),
        env,
    )


def worker_logs(run: Run) -> list[Path]:
    """The logs of every process that runs the dashboard's jobs (workers and dispatchers)."""
    return sorted([*run.logs.glob("worker-*.log"), *run.logs.glob("dispatcher-*.log")])


# --- The cloud account, the Cloud row and the objects to import ------------------------------


@dataclass(frozen=True)
class Account:
    """The built-in cloud's credentials, known in clear only to this run."""

    username: str
    password: str
    project_name: str


def account_name(index: int) -> str:
    """The project (and ``Cloud``) name of the run's ``index``-th account."""
    return "bench" if index == 0 else f"bench-{index}"


def create_account(index: int = 0) -> Account:
    """A project and user of the built-in cloud, written straight into its database (the
    cloud is the benchmark's fixture, not the code under test)."""
    from imagetasks.localcloud.models import CloudUser, Project

    project = Project.objects.using("cloud").create(name=account_name(index))
    user = CloudUser(project=project, name=f"{account_name(index)}-user")
    password = secrets.token_urlsafe(16)
    user.set_password(password)
    user.save(using="cloud")
    return Account(username=user.name, password=password, project_name=project.name)


def register_cloud(args: argparse.Namespace, account: Account, web_url: str):
    """The ``Cloud`` row the tracker polls, with the model's polling defaults unless asked."""
    from django.conf import settings

    from imagetasks.dashboard.models import Cloud

    cloud = Cloud(
        name=account.project_name,
        auth_type=Cloud.AuthType.V3_PASSWORD,
        auth_url=f"{web_url}/localcloud/identity/v3",
        username=account.username,
        project_name=account.project_name,
        region=settings.LOCALCLOUD_REGION,
    )
    if args.poll_min_interval is not None:
        cloud.poll_min_interval = args.poll_min_interval
    if args.max_requests_per_second is not None:
        cloud.max_requests_per_second = args.max_requests_per_second
    cloud.set_secret(account.password)
    cloud.save()
    return cloud


def plan_durations(args: argparse.Namespace) -> list[float]:
    """Each task's import time, uniform between the bounds, in steps of DURATION_STEP."""
    rng = random.Random(args.seed)
    steps = round((args.max_seconds - args.min_seconds) / DURATION_STEP)
    return [args.min_seconds + rng.randint(0, steps) * DURATION_STEP for _ in range(args.tasks)]


def object_name(seconds: float) -> str:
    """The object whose import lasts ``seconds``."""
    return f"d{seconds:07.2f}.vhd"


def durations_of(durations: list[float], clouds: int, index: int) -> list[float]:
    """The planned durations of the tasks submitted to the ``index``-th of ``clouds``."""
    return durations[index::clouds]


def upload_objects(cloud, durations: list[float], rate: int) -> None:
    """One fixed VHD per distinct duration, sized so the cloud's paced checksum pass (the
    whole file at ``rate`` bytes/s) lasts that long. Imports of one object share it."""
    from imagetasks.dashboard.clouds.clients import client_for
    from imagetasks.localcloud import vhd_samples

    objects = client_for(cloud).objects
    objects.create_container("bench")

    def upload(seconds: float) -> None:
        size = max(2, round(seconds * rate / 512)) * 512
        objects.put_object("bench", object_name(seconds), vhd_samples.fixed_vhd(size - 512))

    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        list(pool.map(upload, sorted(set(durations))))


def disk_name(seconds: float) -> str:
    """The file whose web-download lasts ``seconds``."""
    return f"d{seconds:07.2f}.raw"


def disk_size(seconds: float, rate: int) -> int:
    return max(1, round(seconds * rate / WEB_DOWNLOAD_PASSES / 512)) * 512


class FileServer:
    """The URLs the web-downloads fetch: a raw disk per planned duration, served from memory
    on 127.0.0.1 (the built-in cloud fetches loopback URLs only), by a thread per request."""

    def __init__(self, durations: list[float], rate: int):
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        files = {f"/{disk_name(s)}": bytes(disk_size(s, rate)) for s in set(durations)}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Content-Type", "application/octet-stream")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args) -> None:
                """Quiet: the cloud's own log says what it fetched."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- Submitting, and waiting for the ends ----------------------------------------------------


@dataclass
class Submitted:
    """When the submissions ran, and the dashboard ids of the tasks they made."""

    started: float = 0.0
    finished: float = 0.0
    imports_started: float = 0.0  # when the cloud's workers were started
    task_ids: list[str] = field(default_factory=list)
    not_accepted: Counter = field(default_factory=Counter)


def submit_all(
    clouds: list,
    durations: list[float],
    baseline: subprocess.Popen | None,
    files: FileServer | None,
) -> Submitted:
    """Submit every import through the tracker's own ``submit``, a few at a time as several
    people would, the ``index``-th to ``clouds[index % len(clouds)]``; hand each remote id to
    the baseline as soon as the cloud returns it. With ``files``, each is a web-download of
    the file of its duration."""
    from django.db import connection

    from imagetasks.dashboard.tracking.submission import submit

    lock = threading.Lock()
    result = Submitted(started=time.time())

    def one(index: int) -> None:
        seconds = durations[index]
        cloud = clouds[index % len(clouds)]
        try:
            if files is not None:
                properties = {
                    "name": f"bench-{index:04d}",
                    "disk_format": "raw",
                    "container_format": "bare",
                }
                uri = f"{files.url}/{disk_name(seconds)}"
                task_input = {"uri": uri, "image_properties": properties}
                task = submit(cloud, "import", task_input, method=WEB_DOWNLOAD)
            else:
                task_input = {
                    "import_from": f"bench/{object_name(seconds)}",
                    "image_properties": {"name": f"bench-{index:04d}"},
                }
                task = submit(cloud, "import", task_input)
        finally:
            connection.close()
        with lock:
            result.task_ids.append(str(task.pk))
            if not task.remote_id:
                result.not_accepted[task.status] += 1
                return
            if baseline is not None:
                baseline.stdin.write(f"{task.remote_id}\n")
                baseline.stdin.flush()

    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        list(pool.map(one, range(len(durations))))
    result.finished = time.time()
    return result


def create_directly(
    run: Run, clouds: list, durations: list[float], baseline: subprocess.Popen | None
) -> Submitted:
    """The same tasks as ``submit_all`` makes, made fast: the cloud's own ``submit`` (what its
    POST handler calls after reading the body) creates each in a process on the cloud's
    database, and this process writes the tracker's rows as ``submission.submit`` does, then
    records each answer with ``observations.record``, as ``submit`` does once the POST has
    answered. Only the HTTP round trip of each POST is left out: the tracker's polling, what
    is measured, starts from the same rows."""
    from django.db import connection

    from imagetasks.dashboard import statuses
    from imagetasks.dashboard.models import ImageTask
    from imagetasks.dashboard.tracking import observations, submission
    from imagetasks.openstack.types import Task as RemoteTask

    result = Submitted(started=time.time())
    wanted = [
        {
            "project": clouds[index % len(clouds)].project_name,
            "input": {
                "import_from": f"bench/{object_name(seconds)}",
                "image_properties": {"name": f"bench-{index:04d}"},
            },
        }
        for index, seconds in enumerate(durations)
    ]
    maker = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--role", "create-tasks"],
        input=json.dumps(wanted),
        capture_output=True,
        text=True,
        cwd=BASE_DIR,
        env=run.env("cloud", log_level="WARNING"),
        check=False,
    )
    if maker.returncode:
        raise RuntimeError(f"creating the tasks on the cloud failed:\n{maker.stderr[-2000:]}")
    answers = [
        RemoteTask.from_json(json.loads(line))
        for line in maker.stdout.splitlines()
        if line.startswith("{")
    ]
    now = timezone_now()
    rows = [
        ImageTask(
            cloud=clouds[index % len(clouds)],
            type="import",
            input=want["input"],
            name=submission.describe("import", want["input"]),
            status=statuses.SUBMITTING,
            origin=ImageTask.Origin.SUBMITTED,
            poll_interval=clouds[index % len(clouds)].poll_min_interval,
            next_poll_at=now + timedelta(seconds=submission.ORPHAN_AFTER),
        )
        for index, want in enumerate(wanted)
    ]
    ImageTask.objects.bulk_create(rows, batch_size=1000)
    cloud_of = {cloud.pk: cloud for cloud in clouds}
    for row in rows:
        row.cloud = cloud_of[row.cloud_id]

    def answer(pair: tuple[ImageTask, RemoteTask]) -> None:
        try:
            observations.record(pair[0], pair[1], timezone_now())
        finally:
            connection.close()

    with ThreadPoolExecutor(SUBMIT_THREADS) as pool:
        list(pool.map(answer, zip(rows, answers, strict=True)))
    result.task_ids = [str(row.pk) for row in rows]
    if baseline is not None:
        for remote in answers:
            baseline.stdin.write(f"{remote.id}\n")
        baseline.stdin.flush()
    result.finished = time.time()
    return result


def wait_for_warm_clients(fleet: Fleet, expected: int, timeout: float = 300.0) -> None:
    """Until every worker pool process has a client, a token and the schema of every cloud
    (``bench/warm_clients.py``), as a worker that has run for a while has them."""
    directory = fleet.run.directory / "warm-clients"
    started = time.monotonic()
    while (ready := warm_clients.warmed(directory)) < expected:
        fleet.check_alive()
        if time.monotonic() - started > timeout:
            print(f"  {ready} of {expected} worker processes ready after {timeout:.0f} s; going on")
            return
        time.sleep(1.0)
    print(
        f"  the {ready} worker processes had their clients (a token and the schema of every "
        f"cloud) after {time.monotonic() - started:.0f} s",
        flush=True,
    )


def timezone_now() -> datetime:
    from django.utils import timezone

    return timezone.now()


def create_tasks_main() -> int:
    """On the cloud's database: make each task of the JSON list on stdin with the cloud's own
    ``submit`` (its job is sent once the row is committed), a batch per transaction, and
    print each as the POST would have answered it, a line each."""
    import django

    django.setup()
    from django.db import transaction

    from imagetasks.localcloud.executors.lifecycle import submit
    from imagetasks.localcloud.images.serialize import task_detail
    from imagetasks.localcloud.models import Project

    wanted = json.load(sys.stdin)
    projects = {p.name: p for p in Project.objects.filter(name__in={w["project"] for w in wanted})}
    for start in range(0, len(wanted), 500):
        with transaction.atomic():
            made = [
                submit(projects[w["project"]], "import", w["input"])
                for w in wanted[start : start + 500]
            ]
        for task in made:
            print(json.dumps(task_detail(task)))
    return 0


def wait_for_ends(fleet: Fleet, submitted: Submitted, deadline: float) -> bool:
    """Until the tracker has recorded an end for every task (or the deadline); progress every
    10 s. Returns whether all ended."""
    from imagetasks.dashboard import statuses
    from imagetasks.dashboard.models import ImageTask
    from imagetasks.localcloud.models import CloudTask

    total = len(submitted.task_ids)
    last_report = 0.0
    while True:
        fleet.check_alive()
        recorded = ImageTask.objects.filter(
            pk__in=submitted.task_ids, status__in=statuses.TERMINAL
        ).count()
        now = time.time()
        if now - last_report >= 10 or recorded == total:
            remote = Counter(CloudTask.objects.using("cloud").values_list("status", flat=True))
            print(
                f"  t={now - submitted.started:6.1f} s  cloud: {_counts(remote)}  "
                f"tracker recorded {recorded}/{total} ends",
                flush=True,
            )
            last_report = now
        if recorded == total:
            return True
        if now > deadline:
            return False
        time.sleep(1.0)


def _counts(counter: Counter) -> str:
    return ", ".join(f"{key} {counter[key]}" for key in ("pending", "processing", *TERMINAL))


def finish_baseline(baseline: subprocess.Popen, timeout: float) -> None:
    """No more tasks: the baseline exits once it has seen every end."""
    baseline.stdin.close()
    try:
        baseline.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  the baseline had not finished after {timeout:.0f} s more; stopping it")
        _stop_group(baseline, 10)


# --- The baseline poller (a process of its own, no Django) -----------------------------------


class BaselinePoller:
    """Each task on its own schedule: GET; if not ended, GET again BASELINE_INTERVAL after
    the answer (openstacksdk's ``wait_for_task`` sleeps between GETs). A few threads serve
    all schedules, as many as the client's connection pool."""

    def __init__(self, client, interval: float, threads: int):
        self.client = client
        self.interval = interval
        self.cond = threading.Condition()
        self.heap: list[tuple[float, str]] = []
        self.open = 0
        self.closed = False
        self.requests = 0
        self.errors = 0
        self.observed: dict[str, float] = {}
        self.first_get: dict[str, float] = {}
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def add(self, remote_id: str) -> None:
        with self.cond:
            heapq.heappush(self.heap, (time.monotonic(), remote_id))
            self.open += 1
            self.cond.notify()

    def close(self) -> None:
        """No more tasks will come; the threads end once every task has."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()
        for thread in self.threads:
            thread.join()

    def _next(self) -> str | None:
        with self.cond:
            while True:
                if not self.heap:
                    if self.closed and self.open == 0:
                        return None
                    self.cond.wait()
                    continue
                delay = self.heap[0][0] - time.monotonic()
                if delay > 0:
                    self.cond.wait(delay)
                    continue
                return heapq.heappop(self.heap)[1]

    def _work(self) -> None:
        while (remote_id := self._next()) is not None:
            self._poll(remote_id)

    def _poll(self, remote_id: str) -> None:
        from imagetasks.openstack import CloudError

        sent_at = time.time()
        try:
            status = self.client.images.get_task(remote_id).status
        except CloudError:
            status = None
        with self.cond:
            self.requests += 1
            self.first_get.setdefault(remote_id, sent_at)
            if status in TERMINAL:
                self.observed[remote_id] = sent_at
                self.open -= 1
                self.cond.notify_all()
                return
            self.errors += status is None
            heapq.heappush(self.heap, (time.monotonic() + self.interval, remote_id))
            self.cond.notify()


def baseline_main() -> int:
    """Read remote ids from stdin, follow each to its end, write what was seen to a file."""
    from imagetasks.openstack import CloudClient, CloudConfig

    settings = json.loads(os.environ["BENCH_BASELINE"])
    client = CloudClient(
        CloudConfig(
            auth_url=settings["auth_url"],
            username=settings["username"],
            secret=settings["password"],
            project_name=settings["project_name"],
            region=settings["region"],
            timeout=(5.0, 30.0),
        )
    )
    client.session.authenticate()
    poller = BaselinePoller(client, BASELINE_INTERVAL, BASELINE_THREADS)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip():
            poller.add(line.strip())
    poller.close()
    result = {
        "requests": poller.requests,
        "errors": poller.errors,
        "observed": poller.observed,
        "first_get": poller.first_get,
    }
    Path(settings["result"]).write_text(json.dumps(result))
    return 0


def start_baseline(fleet: Fleet, account: Account, web_url: str) -> subprocess.Popen:
    """The baseline process, at the same low priority as its server; waits until it has a
    token, so its first GETs are not delayed by authentication."""
    from django.conf import settings

    env = fleet.run.env("dashboard", log_level="WARNING")
    env["BENCH_BASELINE"] = json.dumps(
        {
            "auth_url": f"{web_url}/localcloud/identity/v3",
            "username": account.username,
            "password": account.password,
            "project_name": account.project_name,
            "region": settings.LOCALCLOUD_REGION,
            "result": str(fleet.run.directory / "baseline.json"),
        }
    )
    process = fleet.start(
        "baseline",
        [sys.executable, str(Path(__file__).resolve()), "--role", "baseline"],
        env,
        nice=10,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    ready = process.stdout.readline().strip()
    if ready != "ready":
        tail = (fleet.run.logs / "baseline.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the baseline did not start:\n{tail}")
    return process


# --- Measuring -------------------------------------------------------------------------------


def read_access_log(access_log: Path) -> list[tuple[str, str, int]]:
    """(kind, status, milliseconds) of every request a gunicorn access log holds. Kinds: the
    tasks (or images) ``list``, a task's (or an image's tasks) ``detail``, ``POST`` (a
    submission), ``GET image``, ``token``, ``other``."""
    requests = []
    if not access_log.exists():
        return requests
    for line in access_log.read_text(errors="replace").splitlines():
        method, path, status, elapsed, *_ = [*line.split(" ", 4), "", "", "", ""]
        if path in (TASKS_PATH, TASKS_PATH + "/", IMAGES_PATH, IMAGES_PATH + "/"):
            # The tasks list, or the images list by id=in: (the poller's); POST: a submission.
            kind = "list" if method == "GET" else method
        elif path.startswith(TASKS_PATH + "/"):
            kind = "detail" if method == "GET" else f"{method} detail"
        elif path.startswith(IMAGES_PATH + "/"):
            # An image's tasks (the poller's detail read); its import request; the image
            # itself (read once by each submission).
            if path.endswith("/tasks"):
                kind = "detail" if method == "GET" else f"{method} detail"
            elif method == "POST":
                kind = "POST"
            else:
                kind = f"{method} image"
        elif path.startswith("/localcloud/identity/"):
            kind = "token"
        else:
            kind = "other"
        requests.append((kind, status, int(elapsed) if elapsed.isdigit() else 0))
    return requests


def count_requests(access_log: Path) -> Counter:
    """Requests by kind, and ``"<kind> <status>"`` for every answer that was not a 2xx."""
    counts: Counter = Counter()
    for kind, status, _ in read_access_log(access_log):
        counts[kind] += 1
        if not status.startswith("2"):
            counts[f"{kind} {status}"] += 1
    return counts


def server_times(access_log: Path) -> dict[str, list[float]]:
    """Seconds the server took per request, by kind."""
    times: dict[str, list[float]] = {}
    for kind, _, elapsed in read_access_log(access_log):
        times.setdefault(kind, []).append(elapsed / 1000)
    return times


@dataclass
class Job:
    name: str
    started: float  # epoch seconds
    runtime: float
    value: str


_SUCCEEDED = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*"
    r"Task (\S+)\[[^\]]+\] succeeded in ([0-9.e-]+)s: (.*)$"
)


def read_jobs(worker_log: Path) -> list[Job]:
    """The dashboard worker's finished jobs (celery logs each with its runtime and result)."""
    jobs = []
    for line in worker_log.read_text(errors="replace").splitlines():
        match = _SUCCEEDED.match(line)
        if match:
            ended = datetime.strptime(match[1], LOG_TIME).astimezone().timestamp()
            runtime = float(match[3])
            jobs.append(Job(match[2], ended - runtime, runtime, match[4].strip()))
    return sorted(jobs, key=lambda job: job.started)


def beats_between(beat_log: Path, first: float, last: float) -> int:
    """Dispatcher ticks beat sent while at least one task was in flight."""
    return len(tick_times(beat_log, first, last))


def tick_times(beat_log: Path, first: float, last: float) -> list[float]:
    """When beat sent the dispatcher's ticks between ``first`` and ``last`` (epoch seconds)."""
    pattern = re.compile(r"^(\S+ \S+) .*Sending due task dispatch-polls")
    ticks = []
    for line in beat_log.read_text(errors="replace").splitlines():
        match = pattern.match(line)
        if match:
            moment = datetime.strptime(match[1], LOG_TIME).astimezone().timestamp()
            if first <= moment <= last:
                ticks.append(moment)
    return ticks


def list_floor(ticks: list[float], tasks: list[Remote]) -> int:
    """Image lists a tracker needs to see every change within a tick: at each tick, one
    list per hundred imports in flight then (created, not yet ended)."""
    spans = [(t.created_at.timestamp(), t.updated_at.timestamp()) for t in tasks]
    return sum(
        math.ceil(sum(1 for start, end in spans if start <= tick <= end) / IDS_PER_LIST)
        for tick in ticks
    )


def count_discarded(worker_log: Path) -> Counter:
    """Dispatch (or other) messages dropped unrun because their ``expires`` had passed."""
    found = re.findall(r"Discarding revoked task: (\S+)\[", worker_log.read_text(errors="replace"))
    return Counter(found)


def spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"p50 {common.percentile(values, 0.5):.2f}, p95 {common.percentile(values, 0.95):.2f}, "
        f"max {max(values):.2f}"
    )


@dataclass
class Remote:
    """What the cloud's database says about one task, at full precision."""

    status: str
    created_at: datetime
    updated_at: datetime
    project: int = 0  # the account's: one per Cloud row


def remote_tasks() -> dict[str, Remote]:
    from imagetasks.localcloud.models import CloudTask

    rows = CloudTask.objects.using("cloud").values_list(
        "id", "status", "created_at", "updated_at", "project_id"
    )
    return {str(row[0]): Remote(*row[1:]) for row in rows}


def tracker_observations(task_ids: list[str]) -> dict[str, tuple[str, str, datetime | None]]:
    """remote id → (status recorded, terminal status of the first terminal snapshot, its time)."""
    from imagetasks.dashboard import statuses
    from imagetasks.dashboard.models import ImageTask, TaskSnapshot

    first_end: dict[str, tuple[str, datetime]] = {}
    snapshots = TaskSnapshot.objects.filter(
        task_id__in=task_ids, status__in=statuses.TERMINAL
    ).order_by("observed_at")
    for task_id, status, observed_at in snapshots.values_list("task_id", "status", "observed_at"):
        first_end.setdefault(str(task_id), (status, observed_at))
    result = {}
    for pk, remote_id, status in ImageTask.objects.filter(pk__in=task_ids).values_list(
        "pk", "remote_id", "status"
    ):
        if remote_id:
            end_status, observed_at = first_end.get(str(pk), ("", None))
            result[remote_id] = (status, end_status, observed_at)
    return result


def snapshot_statuses(task_ids: list[str]) -> Counter:
    from imagetasks.dashboard.models import TaskSnapshot

    return Counter(
        TaskSnapshot.objects.filter(task_id__in=task_ids).values_list("status", flat=True)
    )


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one moment (the tasks in flight at once)."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    current = best = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


@dataclass
class Report:
    """The printed lines, and which targets were met."""

    lines: list[str] = field(default_factory=list)
    verdicts: list[tuple[str, bool]] = field(default_factory=list)

    def add(self, text: str = "") -> None:
        self.lines.append(text)

    def target(self, name: str, met: bool) -> str:
        self.verdicts.append((name, met))
        return "met" if met else "MISSED"


@dataclass
class Outcome:
    """What happened to the submitted tasks, joined across both databases by remote id."""

    remote: dict[str, Remote]  # the submitted tasks the cloud accepted
    ended: dict[str, Remote]  # those that ended on the cloud
    seen: dict[str, tuple[str, str, datetime | None]]  # what the tracker recorded of each

    @property
    def in_flight(self) -> tuple[float, float]:
        """From the first task's creation to the last end (epoch seconds)."""
        if not self.ended:
            return (math.nan, math.nan)
        first = min(task.created_at for task in self.ended.values())
        last = max(task.updated_at for task in self.ended.values())
        return (first.timestamp(), last.timestamp())

    def ended_by_cloud(self) -> dict[int, list[Remote]]:
        """The ended tasks of each account (each is one ``Cloud``)."""
        by_cloud: dict[int, list[Remote]] = {}
        for task in self.ended.values():
            by_cloud.setdefault(task.project, []).append(task)
        return by_cloud


def outcome(submitted: Submitted) -> Outcome:
    everything = remote_tasks()
    seen = tracker_observations(submitted.task_ids)
    remote = {rid: everything[rid] for rid in seen if rid in everything}
    ended = {rid: task for rid, task in remote.items() if task.status in TERMINAL}
    return Outcome(remote=remote, ended=ended, seen=seen)


def measure(run: Run, args, submitted: Submitted, ended_all: bool, baseline_ran: bool) -> Report:
    """Everything the report says, from the access logs, the worker's log and both databases."""
    from django.db import connections

    report = Report()
    tasks = outcome(submitted)
    setup_section(report, run, args, submitted, tasks)
    tracker_total = tracker_section(report, run, args, submitted, tasks, ended_all)
    report.add()
    if baseline_ran:
        baseline_section(report, run, tasks.ended, tracker_total)
    else:
        report.add("Baseline: not run (--no-baseline)")
    connections.close_all()
    return report


def setup_section(report: Report, run: Run, args, submitted: Submitted, tasks: Outcome) -> None:
    ended = tasks.ended.values()
    first = min((task.created_at for task in ended), default=None)
    last = max((task.updated_at for task in ended), default=None)
    window = seconds(last - first) if first and last else math.nan
    lifetimes = [seconds(task.updated_at - task.created_at) for task in ended]
    at_once = max_overlap([(t.created_at.timestamp(), t.updated_at.timestamp()) for t in ended])
    database = "PostgreSQL" if run.scratch else "SQLite"
    broker = {"amqp": "RabbitMQ"}.get(run.broker_url.split(":")[0], run.broker_url.split(":")[0])
    kind = "web-download imports" if args.method == WEB_DOWNLOAD else "imports (tasks API)"
    report.add(
        f"Tracker polling benchmark: {args.tasks} {kind} on {args.clouds} account(s) of the "
        f"built-in cloud, {args.workers} dashboard worker process(es) "
        f"(tracker database: {database}; cloud database: SQLite; broker: {broker})"
    )
    report.add(
        f"  machine load average (1/5/15 min) at the start: {_loads(run.load_at_start)}; "
        f"at the end: {_loads(os.getloadavg())} ({os.cpu_count()} CPUs)"
    )
    report.add(
        f"  planned import times {args.min_seconds:g}–{args.max_seconds:g} s "
        f"(LOCALCLOUD_RATE_LIMIT={run.rate} B/s, seed {args.seed}); "
        f"the cloud's task workers at nice {args.cloud_nice}, "
        f"running {args.cloud_slots} imports at once"
    )
    refused = f"; not accepted: {dict(submitted.not_accepted)}" if submitted.not_accepted else ""
    report.add(
        f"  submitted {len(submitted.task_ids)} in {submitted.finished - submitted.started:.1f} s"
        f"; accepted by the cloud {len(tasks.remote)}{refused}"
    )
    since_start = [task.updated_at.timestamp() - submitted.imports_started for task in ended]
    report.add(f"  remote lifetimes (created → end, s): {spread(lifetimes)}")
    report.add(f"  ends after the cloud's workers were started (s): {spread(since_start)}")
    report.add(
        f"  most tasks in flight at once: {at_once}; first submission → last end {window:.1f} s"
    )


def _loads(loads: tuple[float, float, float]) -> str:
    return " / ".join(f"{load:.1f}" for load in loads)


def tracker_section(report: Report, run: Run, args, submitted, tasks: Outcome, ended_all) -> int:
    """Requests against the floor, detection latency and where it goes; returns the requests."""
    counted = count_requests(run.logs / "web.access")
    logs = worker_logs(run)
    jobs = sorted((job for log in logs for job in read_jobs(log)), key=lambda job: job.started)
    expired = sum(count_discarded(log)["imagetasks.dashboard.dispatch_polls"] for log in logs)
    dispatches = [job for job in jobs if job.name == "imagetasks.dashboard.dispatch_polls"]
    polls = [job for job in jobs if job.name == "imagetasks.dashboard.poll_cloud"]
    ticks = [job for job in dispatches if job.value not in ("0", "None")]
    ticks_sent = tick_times(run.logs / "beat.log", *tasks.in_flight)
    beats = len(ticks_sent)
    total = counted["list"] + counted["detail"]
    web_download = args.method == WEB_DOWNLOAD
    # Per cloud: each is scanned on its own, at the ticks while any of its tasks is in flight.
    lists = 0
    for cloud_tasks in tasks.ended_by_cloud().values():
        first = min(task.created_at for task in cloud_tasks).timestamp()
        last = max(task.updated_at for task in cloud_tasks).timestamp()
        cloud_ticks = [tick for tick in ticks_sent if first <= tick <= last]
        lists += list_floor(cloud_ticks, cloud_tasks) if web_download else len(cloud_ticks)
    floor = lists + len(tasks.ended)
    ratio = total / floor if floor else math.nan
    # One poll job per cloud a dispatcher run claimed tasks of.
    by_runs = (len(polls) if not web_download else lists) + len(tasks.ended)
    snapshots = snapshot_statuses(submitted.task_ids)
    # Every snapshot but the one from the POST's answer is a change the poller saw, in a
    # list entry (still in flight) or through a detail GET (an end, which needs its result).
    useful = sum(snapshots.values()) - len(tasks.remote)
    ends = len(tasks.ended)

    report.add()
    report.add(
        f"Tracker ({args.workers} dashboard worker process(es) of concurrency "
        f"{args.concurrency} + one beat, as in the Procfile; Cloud polling defaults)"
    )
    report.add(
        f"  requests: list {counted['list']}, detail {counted['detail']}, total {total}"
        f"  (besides: {counted['POST']} submission POSTs, {counted['token']} token requests)"
    )
    failed = {kind: n for kind, n in counted.items() if kind[-3:].isdigit() and " " in kind}
    if failed:
        report.add(f"  answers that were not 2xx: {failed}")
    report.add(
        f"    changes recorded after submission: {useful} ({_by_status(snapshots)}); "
        f"detail GETs per task end: {counted['detail'] / ends if ends else math.nan:.2f}"
    )
    report.add(
        f"  ticks: beat sent {beats} dispatcher ticks while tasks were in flight; "
        f"{len(dispatches)} dispatcher runs ran, {len(ticks)} of them claimed tasks; "
        f"{expired} expired unrun"
    )
    report.add(
        f"  poll jobs: {len(polls)} (their own request count: "
        f"{sum(_int(job.value) for job in polls)})"
    )
    times = server_times(run.logs / "web.access")
    report.add(
        "  server time per request (s): "
        + "; ".join(f"{kind} {spread(times.get(kind, []))}" for kind in ("list", "detail", "token"))
    )
    if web_download:
        report.add(
            f"  floor: {lists} image lists (one per {IDS_PER_LIST} imports in flight at each "
            f"of {beats} ticks) + {len(tasks.ended)} finished imports = {floor}"
        )
        report.add(f"  (besides: {counted['GET image']} image GETs by the submissions)")
    else:
        report.add(
            f"  floor: {lists} list scans (each cloud at each of the {beats} ticks while any of "
            f"its tasks was in flight) + {len(tasks.ended)} finished tasks = {floor}"
        )
    verdict = report.target(f"requests ≤ {REQUESTS_TARGET:g}× floor", ratio <= REQUESTS_TARGET)
    report.add(
        f"  requests / floor = {ratio:.2f}  (target ≤ {REQUESTS_TARGET:g}: {verdict}); counting "
        f"as scans only the poll jobs sent: floor {by_runs}, ratio {total / by_runs:.2f}"
    )
    _latency_lines(report, tasks, polls)
    _overlap_lines(report, run)
    if polls:
        gaps = [b.started - a.started for a, b in itertools.pairwise(polls)]
        report.add(f"  poll job runtime (s): {spread([job.runtime for job in polls])}")
        report.add(f"  gap between poll job starts (s): {spread(gaps)}")
    recorded = sum(1 for rid in tasks.ended if _recorded(tasks, rid))
    complete = recorded == len(tasks.remote) == args.tasks and ended_all
    verdict = report.target("every terminal status recorded", complete)
    report.add(f"  terminal statuses recorded: {recorded} / {args.tasks}  ({verdict})")
    return total


def _recorded(tasks: Outcome, rid: str) -> bool:
    """The tracker holds the cloud's end status, with a terminal snapshot of that status."""
    status, end_status, observed_at = tasks.seen[rid]
    return observed_at is not None and status == end_status == tasks.ended[rid].status


def _latency_lines(report: Report, tasks: Outcome, polls: list[Job]) -> None:
    latency, waits, insides = [], [], []
    starts = [job.started for job in polls]
    for rid, task in tasks.ended.items():
        if not _recorded(tasks, rid):
            continue
        observed_at = tasks.seen[rid][2]
        latency.append(seconds(observed_at - task.updated_at))
        wait, inside = _split_latency(
            polls, starts, observed_at.timestamp(), task.updated_at.timestamp()
        )
        waits.append(wait)
        insides.append(inside)
    p95 = common.percentile(latency, 0.95)
    verdict = report.target(f"p95 detection latency ≤ {LATENCY_TARGET:g} s", p95 <= LATENCY_TARGET)
    report.add(
        f"  detection latency (s): {spread(latency)}  (target p95 ≤ {LATENCY_TARGET:g} s: "
        f"{verdict})"
    )
    report.add(f"    until the poll job that saw the end started: {spread(waits)}")
    report.add(f"    from that job's start to its detail GET: {spread(insides)}")


def _overlap_lines(report: Report, run: Run) -> None:
    """How the poll jobs spread over the worker processes, and whether two processes ever
    had one task in hand at once (from the windows the workers recorded, per task and job:
    held under the job's claim, or asked about without holding it; bench/poll_windows.py)."""
    directory = run.directory / "poll-windows"
    windows = poll_windows.read_windows(directory)
    jobs = poll_windows.read_jobs(directory)
    per_worker = Counter(job.worker.split("@")[0] for job in jobs)
    processes = len({job.pid for job in jobs})
    held = sum(1 for w in windows if w.held)
    handed, taken = sum(job.handed for job in jobs), sum(job.taken for job in jobs)
    report.add(
        f"  poll jobs per worker: {', '.join(f'{w} {n}' for w, n in sorted(per_worker.items()))}"
        f" ({processes} processes ran them)"
    )
    report.add(
        f"  task windows recorded: {held} held under a claim, {len(windows) - held} asked "
        f"about without holding; tasks handed to jobs {handed}, taken {taken} (the rest were "
        "no longer under the job's claim when it started)"
    )
    pairs = poll_windows.overlapping_pairs(windows)
    verdict = report.target("no overlapping polls", not pairs)
    report.add(
        f"  overlapping polls (one task in the hands of two processes at once): {len(pairs)}  "
        f"(expected 0: {verdict})"
    )
    if pairs:
        both_held = sum(1 for first, later in pairs if first.held and later.held)
        report.add(
            f"    both held under a claim: {both_held}; of all, the later began after the "
            f"earlier job's lease had run out: {poll_windows.after_lease(pairs)}; earlier "
            f"window's length: {spread([first.end - first.start for first, _ in pairs])} s"
        )


def _by_status(snapshots: Counter) -> str:
    """Snapshots by status, but the submissions' own ('pending', from the POST's answer)."""
    shown = {status: n for status, n in snapshots.items() if status != "pending"}
    return ", ".join(f"{status} {n}" for status, n in sorted(shown.items()))


def _int(value: str) -> int:
    """A job's logged return value as a number (None and the like count 0)."""
    return int(value) if value.isdigit() else 0


def _split_latency(polls: list[Job], starts: list[float], observed: float, ended: float):
    """How long the end waited for the poll job that saw it to start, and how long that job
    took to reach the detail GET. The job is one running at the moment of the observation:
    the earliest that started after the end, else the last that started before it (it
    listed after the end, e.g. once a token request was done: the wait is then negative)."""
    import bisect

    last = bisect.bisect_right(starts, observed) - 1
    if last < 0:
        return (observed - ended, 0.0)
    running = [job for job in polls[: last + 1] if job.started + job.runtime >= observed]
    after = [job for job in running if job.started >= ended]
    job = after[0] if after else (running[-1] if running else polls[last])
    return (job.started - ended, observed - job.started)


def baseline_section(report: Report, run: Run, ended: dict[str, Remote], tracker_total: int):
    """The baseline's requests (its server's access log) and latency, measured like the
    tracker's; and what a poller keeping to its 2 s exactly would have sent."""
    result_file = run.directory / "baseline.json"
    if not result_file.exists():
        report.add("Baseline: no result (it did not finish)")
        return
    result = json.loads(result_file.read_text())
    counted = count_requests(run.logs / "baseline-web.access")
    observed, first_get = result["observed"], result["first_get"]
    latency = [
        observed[rid] - task.updated_at.timestamp()
        for rid, task in ended.items()
        if rid in observed
    ]
    followed = [rid for rid in ended if rid in observed and rid in first_get]
    # GETs at 0, 2, 4…: the first at or after the end sees it.
    on_schedule = sum(
        math.ceil(max(0.0, ended[rid].updated_at.timestamp() - first_get[rid]) / BASELINE_INTERVAL)
        + 1
        for rid in followed
    )
    spans = sum(observed[rid] - first_get[rid] for rid in followed)
    period = spans / max(1, result["requests"] - len(followed))
    report.add(
        f"Baseline (per task: GET, sleep {BASELINE_INTERVAL:g} s, repeat until it ends; "
        "own gunicorn; both at nice 10)"
    )
    report.add(
        f"  requests: detail {counted['detail']} (its own count {result['requests']}, "
        f"errors {result['errors']}); mean period achieved {period:.2f} s"
    )
    report.add(f"  a poller keeping exactly to {BASELINE_INTERVAL:g} s would send {on_schedule}")
    report.add(f"  detection latency (s): {spread(latency)}")
    report.add(f"  terminal statuses seen: {len(observed)} / {len(ended)}")
    if tracker_total:
        report.add()
        report.add(
            f"Baseline / tracker requests: {counted['detail'] / tracker_total:.1f}×  "
            f"(exactly-on-schedule baseline: {on_schedule / tracker_total:.1f}×)"
        )


# --- Main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark (or, with the internal ``--role baseline``, the baseline poller).

    It measures and never asserts: targets are reported met or missed and the exit status
    is 0 once the report is printed; only a run that fails or is interrupted exits otherwise.
    """
    args = parse_args(argv)
    if args.role == "baseline":
        return baseline_main()
    if args.role == "create-tasks":
        return create_tasks_main()
    common.interrupt_on_signals()
    run = make_run(args)
    fleet = Fleet(run)
    report = None
    try:
        report = bench(args, run, fleet)
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything", file=sys.stderr)
        return 130
    finally:
        common.ignore_signals()
        fleet.stop_all()
        _clean_up(run, args.keep)
    print()
    print("\n".join(report.lines))
    missed = [name for name, met in report.verdicts if not met]
    print()
    print("Targets: " + ("all met" if not missed else "missed: " + "; ".join(missed)))
    return 0


def bench(args: argparse.Namespace, run: Run, fleet: Fleet) -> Report:
    """Set up, run, stop the processes, measure."""
    print(f"run directory: {run.directory}", flush=True)
    # With DATABASE_URL naming PostgreSQL, the tracker's database is a fresh one there.
    run.scratch = common.ScratchDatabase.create_if_configured("bench")
    if run.scratch:
        run.dashboard_db = run.scratch.url
    if args.broker == "redis":
        run.broker_url = start_redis(fleet)
    elif args.broker == "rabbitmq":
        run.broker_url = AMQP_URL
        purge_queues(run)
    setup_django(run)
    web = start_web(fleet, "web")
    baseline_web = None if args.no_baseline else start_web(fleet, "baseline-web", nice=10)
    for url in filter(None, (web, baseline_web)):
        wait_for_web(fleet, url)
    accounts = [create_account(index) for index in range(args.clouds)]
    clouds = [register_cloud(args, account, web) for account in accounts]
    account = accounts[0]
    durations = plan_durations(args)
    files = None
    if args.method == WEB_DOWNLOAD:
        files = FileServer(durations, run.rate)
        print(f"serving {len(set(durations))} raw disks on {files.url}", flush=True)
    else:
        print(f"uploading {len(set(durations))} VHD objects to each account…", flush=True)
        for index, cloud in enumerate(clouds):
            upload_objects(cloud, durations_of(durations, args.clouds, index), run.rate)
    start_tracker(fleet, args.workers, args.concurrency)
    baseline = None if args.no_baseline else start_baseline(fleet, account, baseline_web)
    if args.setup == "direct":
        print(f"creating {args.tasks} imports directly…", flush=True)
        submitted = create_directly(run, clouds, durations, baseline)
    else:
        print(f"submitting {args.tasks} imports…", flush=True)
        submitted = submit_all(clouds, durations, baseline, files)
    # Only now do the imports start, all at once: submitting takes longer than the shortest
    # import, so otherwise the first would end before the last was submitted. Meanwhile the
    # tasks wait "pending", in flight like the rest, and the tracker polls them.
    wait_for_warm_clients(fleet, args.workers * args.concurrency)
    print("starting the cloud's workers…", flush=True)
    submitted.imports_started = time.time()
    start_cloud_workers(fleet, args.cloud_slots, args.cloud_nice)
    # With fewer slots than tasks, the imports run in turns of up to the longest one each.
    turns = math.ceil(args.tasks / args.cloud_slots)
    deadline = submitted.imports_started + turns * args.max_seconds + 300
    ended_all = wait_for_ends(fleet, submitted, deadline)
    if baseline is not None:
        finish_baseline(baseline, timeout=30)
    # Stop before reading the logs, so that every request and job is in them.
    fleet.stop_all()
    if files is not None:
        files.stop()
    return measure(run, args, submitted, ended_all, baseline is not None)


def _clean_up(run: Run, keep: bool) -> None:
    """Drop what the run made: its PostgreSQL database, its directory (unless kept)."""
    from django.db import connections

    with _quiet():
        connections.close_all()
    with _quiet():
        if run.scratch:
            run.scratch.drop()
    with _quiet():
        if run.broker_url.startswith("amqp"):
            purge_queues(run)  # unexpired ticks and the like: the next run must not get them
    if keep:
        print(f"kept {run.directory}", file=sys.stderr)
    else:
        shutil.rmtree(run.directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
