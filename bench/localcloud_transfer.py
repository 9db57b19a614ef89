"""Import and export a big image through the built-in cloud's API, against the floor of the work.

    .venv/bin/python bench/localcloud_transfer.py [--size-mib 1024] [--repeat 3]

An import must hash the data (MD5 and SHA-512) and place it in the image
store, so its floor is the slowest of those stages alone, ``sha512sum``; a
raw → VHD export must copy the data, so its floor is ``cp``. This script
measures both through the HTTP API of a real web server (gunicorn) and a real
Celery worker on the ``localcloud`` queue, in a fresh database and store of
its own, and in the same run, on the same files, measures the baselines:
``sha512sum``, ``md5sum``, ``cp`` and ``qemu-img convert -O vpc``.

To tell where the time goes, it also times the import's own hashing code and
each hash alone in this process (no API, queue or worker), splits each job
into its wait in the queue and its processing, and reads the worker's CPU
time and peak RSS; ``--broker-poll`` is a what-if that polls the broker more
often than the project's settings do.

It measures and never asserts: it prints medians, spreads and ratios with
their targets and exits 0 whatever they are. Every process and file it makes
is removed at the end, also on Ctrl-C or an error.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402
from bench.common import (  # noqa: E402
    BenchError,
    CloudApi,
    Service,
    cpu_seconds,
    status_kib,
    tree_pids,
)

MIB = 1024 * 1024
POLL = 0.05  # seconds between GET /v2/tasks/{id}, and between RSS samples
READY_TIMEOUT = 120.0  # generous: on a loaded 2-core machine Django alone may take this long
WARM_BUFFER = 8 * MIB
# Targets of the issue: import ≤ 1.25 × sha512sum, export ≤ 1.0 × cp, worker peak RSS < 150 MiB.
IMPORT_TARGET = 1.25
EXPORT_TARGET = 1.0
RSS_TARGET_MIB = 150.0
CONTAINER_IMPORTS = "imports"
CONTAINER_EXPORTS = "exports"
OBJECT_NAME = "bench.vhd"


# --- the environment every process of the run shares --------------------------------------


def bench_environment(work_dir: Path) -> dict[str, str]:
    """The environment of the benchmark and its servers: everything under ``work_dir``.

    Set explicitly rather than inherited, so a developer's DATABASE_URL, broker,
    rate limit or fault injection can never leak into the figures (or the
    benchmark's jobs into a running deployment's queue).
    """
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("LOCALCLOUD_", "CELERY_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "imagetasks.settings",
            "IMAGETASKS_VAR_DIR": str(work_dir),
            "DATABASE_URL": f"sqlite:///{work_dir / 'db.sqlite3'}",
            "CELERY_BROKER_URL": "filesystem://",
            "LOCALCLOUD_STORE_DIR": str(work_dir / "localcloud"),
            "LOCALCLOUD_RATE_LIMIT": "0",  # unpaced: the benchmark measures the real speed
            "DEBUG": "true",  # as `make run`; off would also need SECRET_KEY and HTTPS settings
            "LOG_LEVEL": "INFO",  # the worker's "ready." line is logged at INFO
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def setup_django(env: dict[str, str]) -> None:
    """Configure Django in this process on the benchmark's database, and create its tables."""
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("prepare", verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)


# --- processes: their lifetime, CPU time and memory ---------------------------------------


def start_web(env: dict[str, str], work_dir: Path, services: list[Service]) -> tuple[Service, str]:
    """gunicorn as the Procfile runs it, on a free 127.0.0.1 port; returns it and its URL.

    Listed in ``services`` as soon as it exists, so it is stopped even if it never serves.
    """
    port = common.free_port()
    command = [sys.executable, "-m", "gunicorn", "imagetasks.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--worker-class", "gthread", "--workers", "2", "--threads", "8"]
    # No control socket: gunicorn's default is one path in $HOME, shared with any other server.
    command += ["--graceful-timeout", "5", "--no-control-socket"]
    web = Service("web server", command, env, work_dir / "web.log")
    services.append(web)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(web, url)
    return web, url


def wait_until_serving(web: Service, url: str) -> None:
    """Until the server answers anything: the first job must not time Django's start-up."""
    import requests

    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        web.check_alive()
        with contextlib.suppress(requests.RequestException):  # not listening, or still booting
            requests.get(f"{url}/localcloud/identity/", timeout=5)  # any answer: it serves
            return
        time.sleep(0.1)
    raise BenchError(f"the web server did not answer within {READY_TIMEOUT:.0f} s:\n{web.tail()}")


# A what-if only (--broker-poll): the same worker, its broker polled more often than the
# project's settings say. The app's configuration is otherwise untouched.
_POLLING_LAUNCHER = """
import sys
from imagetasks.celery import app
options = dict(app.conf.broker_transport_options or {}, polling_interval=float(sys.argv[1]))
app.conf.broker_transport_options = options
app.worker_main(sys.argv[2:])
"""


def start_worker(
    env: dict[str, str], work_dir: Path, broker_poll: float | None, services: list[Service]
) -> Service:
    """ONE real Celery worker on the ``localcloud`` queue, solo pool: one job at a time, and
    the job runs in the process whose memory is measured (no pool children). Listed in
    ``services`` as soon as it exists, so it is stopped even if it never gets ready."""
    command = [sys.executable, "-m", "celery", "-A", "imagetasks", "worker"]
    if broker_poll is not None:
        command = [sys.executable, "-c", _POLLING_LAUNCHER, str(broker_poll), "worker"]
    command += ["--queues", "localcloud", "--pool", "solo"]
    command += ["--hostname", f"bench-{uuid.uuid4().hex[:8]}@%h"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    command += ["--loglevel", "INFO"]
    worker = Service("worker", command, env, work_dir / "worker.log")
    services.append(worker)
    deadline = time.monotonic() + READY_TIMEOUT
    while " ready." not in worker.tail():
        worker.check_alive()
        if time.monotonic() > deadline:
            raise BenchError(f"the worker was not ready within {READY_TIMEOUT:.0f} s")
        time.sleep(0.1)
    return worker


class RssSampler:
    """The peak RSS of the worker's process tree during one job.

    Two views: the kernel's VmHWM of the worker process, reset before the job
    through /proc/<pid>/clear_refs (exact, but the process alone), and VmRSS of
    the process and any children (qemu-img) sampled every 50 ms.
    """

    def __init__(self, pid: int):
        self.pid = pid
        self.sampled_kib = 0
        self.hwm_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RssSampler:
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = True
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            rss = sum(status_kib(pid, "VmRSS") for pid in tree_pids(self.pid))
            self.sampled_kib = max(self.sampled_kib, rss)
            if self._stop.wait(POLL):
                return

    @property
    def peak_mib(self) -> float:
        hwm = status_kib(self.pid, "VmHWM") if self.hwm_reset else 0
        return max(hwm, self.sampled_kib) / 1024


@dataclass
class JobRun:
    """One import or export as the client saw it, and what the worker spent on it."""

    task: dict
    total: float  # POST sent → success seen (client clock)
    queued: float | None  # POST sent → "processing" first seen; None if never seen
    server: float  # created_at → updated_at in the database (microseconds, unlike the API)
    peak_rss_mib: float
    worker_cpu: float
    web_cpu: float

    @property
    def processing(self) -> float | None:
        return None if self.queued is None else self.total - self.queued


def run_job(cloud: CloudApi, body: dict, worker: Service, web: Service, timeout: float) -> JobRun:
    """POST the task and poll it every 50 ms until it ends; a failure stops the benchmark."""
    worker_cpu, web_cpu = cpu_seconds([worker.pid]), cpu_seconds(tree_pids(web.pid))
    with RssSampler(worker.pid) as rss:
        started = time.perf_counter()
        task_id = cloud.create_task(body)
        seen_processing = None
        while True:
            task = cloud.task(task_id)
            now = time.perf_counter()
            if task["status"] == "processing" and seen_processing is None:
                seen_processing = now
            if task["status"] in ("success", "failure"):
                break
            if now - started > timeout:
                raise BenchError(f"task {task_id} still {task['status']} after {timeout:.0f} s")
            worker.check_alive()
            time.sleep(POLL)
    if task["status"] != "success":
        raise BenchError(f"{body['type']} task failed: {task.get('message')}\n{worker.tail()}")
    return JobRun(
        task=task,
        total=now - started,
        queued=None if seen_processing is None else seen_processing - started,
        server=server_duration(task_id),
        peak_rss_mib=rss.peak_mib,
        worker_cpu=cpu_seconds([worker.pid]) - worker_cpu,
        web_cpu=cpu_seconds(tree_pids(web.pid)) - web_cpu,
    )


def server_duration(task_id: str) -> float:
    """created_at → updated_at of the finished task, read from the database: the API shows
    them to the second only, too coarse for a job of about two seconds."""
    from imagetasks.localcloud.models import CloudTask

    row = CloudTask.objects.values("created_at", "updated_at").get(pk=task_id)
    return (row["updated_at"] - row["created_at"]).total_seconds()


# --- the data: made once, not timed ---------------------------------------------------------


def write_random_file(path: Path, size: int) -> None:
    """Random bytes (incompressible, no holes for cp or qemu-img to skip)."""
    chunk = 4 * MIB
    with open(path, "wb") as out:
        for offset in range(0, size, chunk):
            out.write(os.urandom(min(chunk, size - offset)))


@dataclass
class Fixture:
    """The files both the cloud and the baselines work on: the very same inodes."""

    project_id: str
    vhd_blob: Path  # the imported object's blob
    raw_image_id: str
    raw_blob: Path  # the exported image's blob


def make_fixture(cloud: CloudApi, project, size: int, work_dir: Path) -> Fixture:
    """Upload a fixed VHD object through the API and create a raw image beside it."""
    from imagetasks.localcloud import blobstore, vhd
    from imagetasks.localcloud.images.creation import create_image_from_file
    from imagetasks.localcloud.models import StoredObject

    raw, fixed = work_dir / "source.raw", work_dir / "source.vhd"
    try:
        write_random_file(raw, size)
        vhd.write_fixed_vhd(raw, fixed)
        cloud.create_container(CONTAINER_IMPORTS)
        cloud.create_container(CONTAINER_EXPORTS)
        cloud.upload(CONTAINER_IMPORTS, OBJECT_NAME, fixed)
        image = create_image_from_file(project, "bench-raw", raw, "raw")
    finally:
        raw.unlink(missing_ok=True)
        fixed.unlink(missing_ok=True)
    stored = StoredObject.objects.get(
        container__project=project, container__name=CONTAINER_IMPORTS, name=OBJECT_NAME
    )
    return Fixture(
        project_id=project.id,
        vhd_blob=blobstore.path_of(stored.blob_id),
        raw_image_id=str(image.id),
        raw_blob=blobstore.path_of(image.blob_id),
    )


def make_account() -> tuple[object, str, str]:
    """A project and its user, made through the ORM (the API has no sign-up)."""
    from imagetasks.localcloud.models import CloudUser, Project

    project = Project.objects.create(name="bench")
    password = uuid.uuid4().hex
    user = CloudUser(project=project, name="bench-user")
    user.set_password(password)
    user.save()
    return project, user.name, password


# --- the contenders -------------------------------------------------------------------------


def warm(path: Path) -> None:
    """Read the file once so that it is in the page cache for whoever reads it next.

    The cache cannot be dropped without privileges, so instead every contender
    starts from the same state: the whole source cached.
    """
    buffer = bytearray(WARM_BUFFER)
    with open(path, "rb", buffering=0) as source:
        while source.readinto(buffer):
            pass


def settle() -> None:
    """Flush dirty pages (untimed), so no contender pays for the writeback of the one before."""
    os.sync()


def timed_command(command: list[str]) -> tuple[float, str]:
    """Wall time of a command run to its end, and its standard output."""
    started = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started, done.stdout.decode()


@dataclass
class Run:
    """Everything one benchmark run needs, and what it measured."""

    cloud: CloudApi
    worker: Service
    web: Service
    fixture: Fixture
    scratch: Path
    timeout: float
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    checks: list[str] = field(default_factory=list)

    def record(self, name: str, value: float | None) -> None:
        if value is not None:
            self.samples[name].append(value)


TARGET = "{target}"  # stands for a baseline's output file in its command
QEMU_UNSAFE = "qemu-img convert -t unsafe"


def baseline(run: Run, name: str, source: Path, *command: str | Path) -> None:
    """Time a command on the cached ``source``; its output file (if any) is then removed."""
    target = run.scratch / "baseline.out"
    warm(source)
    argv = [str(target) if part == TARGET else str(part) for part in command]
    seconds, stdout = timed_command(argv)
    run.record(name, seconds)
    if name in ("md5sum", "sha512sum"):  # to check the cloud's checksums against
        run.checks.append(f"{name.removesuffix('sum')}:{stdout.split()[0]}")
    target.unlink(missing_ok=True)
    settle()


DIGESTS = "digests_of, in-process"
MD5_ALONE = "hashlib md5, in-process"
SHA512_ALONE = "hashlib sha512, in-process"


def in_process(run: Run, name: str, source: Path, work: Callable[[Path], object]) -> None:
    """Time Python code on the cached ``source`` in this process: no API, no queue, no worker.

    Splits the import's time into job overhead (import vs ``digests_of``), the
    parallel hashing (``digests_of`` vs the slower hash alone) and the hashes
    themselves on this CPU (hashlib, i.e. OpenSSL, vs coreutils).
    """
    warm(source)
    started = time.perf_counter()
    work(source)
    run.record(name, time.perf_counter() - started)


def project_digests(path: Path) -> None:
    """The import's own hashing pass, MD5 and SHA-512 in parallel threads, unpaced."""
    from imagetasks.localcloud.executors.hashing import digests_of
    from imagetasks.localcloud.executors.throttle import Pacer

    digests_of(path, Pacer(0))


def one_hash(algorithm: str) -> Callable[[Path], None]:
    """One hash alone in one thread, read in the import's chunk size (4 MiB)."""

    def work(path: Path) -> None:
        from imagetasks.localcloud.executors.throttle import MAX_CHUNK

        digest = hashlib.new(algorithm)
        view = memoryview(bytearray(MAX_CHUNK))
        with open(path, "rb", buffering=0) as source:
            while read := source.readinto(view):
                digest.update(view[:read])

    return work


def measure_import(run: Run, *, keep: bool = True) -> None:
    """One import of the VHD object through the API; the image made is deleted afterwards."""
    warm(run.fixture.vhd_blob)
    body = {
        "type": "import",
        "input": {
            "import_from": f"{CONTAINER_IMPORTS}/{OBJECT_NAME}",
            "image_properties": {"name": "bench-import"},
        },
    }
    job = run_job(run.cloud, body, run.worker, run.web, run.timeout)
    image_id = job.task["result"]["image_id"]
    image = run.cloud.image(image_id)
    run.checks.append(f"import-md5:{image['checksum']}")
    run.checks.append(f"import-sha512:{image['os_hash_value']}")
    if keep:
        record_job(run, "import", job)
    run.cloud.delete_image(image_id)
    settle()


def measure_export(run: Run, *, keep: bool = True) -> None:
    """One export of the raw image to a VHD object; waits for the ETag follow-up job it
    sends to the same worker (so it does not overlap the next contender), then deletes it."""
    warm(run.fixture.raw_blob)
    body = {
        "type": "export",
        "input": {
            "image_uuid": run.fixture.raw_image_id,
            "receiving_swift_container": CONTAINER_EXPORTS,
        },
    }
    job = run_job(run.cloud, body, run.worker, run.web, run.timeout)
    name = job.task["result"]["export_location"].split("/", 1)[1]
    etag_seconds, size = wait_for_etag(run, name)
    expected = run.fixture.raw_blob.stat().st_size + 512
    run.checks.append(f"export-size:{'ok' if size == expected else f'{size}!={expected}'}")
    if keep:
        record_job(run, "export", job)
        run.record("export ETag job", etag_seconds)
    run.cloud.delete_object(CONTAINER_EXPORTS, name)
    settle()


def wait_for_etag(run: Run, name: str) -> tuple[float, int]:
    """Seconds until the follow-up job fills the exported object's ETag, and its size.

    Read from the database: a HEAD would make the web server compute the
    missing ETag itself, a second pass over the data beside the worker's.
    """
    from imagetasks.localcloud.models import StoredObject

    started = time.perf_counter()
    rows = StoredObject.objects.filter(
        container__project_id=run.fixture.project_id,
        container__name=CONTAINER_EXPORTS,
        name=name,
    )
    while True:
        etag, size = rows.values_list("etag", "size").get()
        if etag:
            return time.perf_counter() - started, size
        if time.perf_counter() - started > run.timeout:
            raise BenchError(f"the ETag of {name} was not filled in {run.timeout:.0f} s")
        run.worker.check_alive()
        time.sleep(POLL)


def record_job(run: Run, kind: str, job: JobRun) -> None:
    run.record(kind, job.total)
    run.record(f"{kind}: queued", job.queued)
    run.record(f"{kind}: processing", job.processing)
    run.record(f"{kind}: server-side", job.server)
    run.record(f"{kind}: worker peak RSS", job.peak_rss_mib)
    run.record(f"{kind}: worker CPU", job.worker_cpu)
    run.record(f"{kind}: web server CPU", job.web_cpu)


def contenders(run: Run) -> list[tuple[str, Callable[[], None]]]:
    """Every measurement of one round; the order rotates from one round to the next."""
    vhd_blob, raw_blob = run.fixture.vhd_blob, run.fixture.raw_blob
    qemu = ["qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed"]
    return [
        ("sha512sum", partial(baseline, run, "sha512sum", vhd_blob, "sha512sum", vhd_blob)),
        ("md5sum", partial(baseline, run, "md5sum", vhd_blob, "md5sum", vhd_blob)),
        ("cp vhd", partial(baseline, run, "cp (VHD object)", vhd_blob, "cp", vhd_blob, TARGET)),
        ("import", partial(measure_import, run)),
        ("digests_of", partial(in_process, run, DIGESTS, vhd_blob, project_digests)),
        ("hashlib md5", partial(in_process, run, MD5_ALONE, vhd_blob, one_hash("md5"))),
        ("hashlib sha512", partial(in_process, run, SHA512_ALONE, vhd_blob, one_hash("sha512"))),
        ("cp raw", partial(baseline, run, "cp (raw image)", raw_blob, "cp", raw_blob, TARGET)),
        ("qemu-img", partial(baseline, run, "qemu-img convert", raw_blob, *qemu, raw_blob, TARGET)),
        # Its default cache mode ends with an fdatasync of the output; cp and the export do not
        # flush, so this one is the like-for-like comparison.
        (
            "qemu-img -t unsafe",
            partial(baseline, run, QEMU_UNSAFE, raw_blob, *qemu, "-t", "unsafe", raw_blob, TARGET),
        ),
        ("export", partial(measure_export, run)),
    ]


def repetitions(run: Run, repeat: int) -> None:
    """A warm-up import and export (untimed), then ``repeat`` interleaved rounds."""
    print("warm-up: one import and one export, not counted", flush=True)
    measure_import(run, keep=False)
    measure_export(run, keep=False)
    steps = contenders(run)
    for index in range(repeat):
        shift = index % len(steps)
        order = steps[shift:] + steps[:shift]
        print(f"round {index + 1}/{repeat}: {', '.join(name for name, _ in order)}", flush=True)
        for _, step in order:
            step()


# --- the report -----------------------------------------------------------------------------


def spread(values: list[float]) -> tuple[float, float, float]:
    return statistics.median(values), min(values), max(values)


def paired_ratios(
    samples: dict[str, list[float]],
    top: str,
    bottom: list[str],
    combine: Callable[[list[float]], float] = sum,
) -> list[float]:
    """Ratios within each round (a contender against the baselines of the same round);
    several baselines are combined by ``combine`` (their sum, or the slowest)."""
    tops = samples.get(top, [])
    bottoms = [samples.get(name, []) for name in bottom]
    count = min([len(tops)] + [len(values) for values in bottoms])
    return [tops[i] / combine([values[i] for values in bottoms]) for i in range(count)]


ROWS = [
    ("sha512sum", "s"),
    ("md5sum", "s"),
    ("cp (VHD object)", "s"),
    ("import", "s"),
    ("import: queued", "s"),
    ("import: processing", "s"),
    ("import: server-side", "s"),
    ("import: worker CPU", "s"),
    ("import: web server CPU", "s"),
    ("import: worker peak RSS", "MiB"),
    (DIGESTS, "s"),
    (MD5_ALONE, "s"),
    (SHA512_ALONE, "s"),
    ("cp (raw image)", "s"),
    ("qemu-img convert", "s"),
    (QEMU_UNSAFE, "s"),
    ("export", "s"),
    ("export: queued", "s"),
    ("export: processing", "s"),
    ("export: server-side", "s"),
    ("export: worker CPU", "s"),
    ("export: web server CPU", "s"),
    ("export: worker peak RSS", "MiB"),
    ("export ETag job", "s"),
]
# The import's stages one after another, each by its own tool.
SEQUENTIAL_FLOOR = ["md5sum", "sha512sum", "cp (VHD object)"]
# (label, measurement, baselines of the same round, target, how baselines combine)
RATIOS = [
    ("import / sha512sum", "import", ["sha512sum"], IMPORT_TARGET, sum),
    ("import / (md5sum+sha512sum+cp)", "import", SEQUENTIAL_FLOOR, None, sum),
    ("import processing / sha512sum", "import: processing", ["sha512sum"], None, sum),
    ("import processing / digests_of", "import: processing", [DIGESTS], None, sum),
    ("digests_of / sha512sum", DIGESTS, ["sha512sum"], None, sum),
    ("digests_of / slower hashlib hash", DIGESTS, [MD5_ALONE, SHA512_ALONE], None, max),
    ("export / cp", "export", ["cp (raw image)"], EXPORT_TARGET, sum),
    ("export processing / cp", "export: processing", ["cp (raw image)"], None, sum),
    ("qemu-img / cp", "qemu-img convert", ["cp (raw image)"], None, sum),
    ("qemu-img -t unsafe / cp", QEMU_UNSAFE, ["cp (raw image)"], None, sum),
    ("export / qemu-img -t unsafe", "export", [QEMU_UNSAFE], None, sum),
]
NOTES = """\
import, export: client clock, from sending the POST to the GET (polled every 50 ms) that
  shows success; 'queued' ends at the first GET showing processing, 'processing' is the rest.
  server-side: created_at -> updated_at read from the database (the API shows whole seconds).
export ETag job: after the export's success, until its follow-up job filled the object's MD5.
in-process: the import's hashing code (digests_of) and each hash alone, run by this script on
  the same cached file, without API, queue or worker.
qemu-img convert: as the issue gives it; its default cache mode fdatasyncs the output at the
  end. With -t unsafe it does not, like cp and the export: that is the like-for-like one.
Page cache: not dropped (no privileges); each source is read once before every measurement,
  and dirty pages are flushed (sync) after each one, untimed."""


def report(samples: dict[str, list[float]], args: argparse.Namespace) -> str:
    """The table: medians and spreads of every measurement, then the ratios and targets."""
    broker = (
        "as configured"
        if args.broker_poll is None
        else f"WHAT-IF, polled every {args.broker_poll:g} s instead of as configured"
    )
    lines = [
        f"localcloud transfer: {args.size_mib} MiB, {args.repeat} round(s), "
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}; broker {broker}",
        f"load average (1 min) at the start {args.load_before}, at the end {load_average()}",
        "",
        f"{'measurement':<34}{'median':>10}{'min':>10}{'max':>10}  unit",
    ]
    for name, unit in ROWS:
        values = samples.get(name)
        if values:
            median, low, high = spread(values)
            lines.append(f"{name:<34}{median:>10.3f}{low:>10.3f}{high:>10.3f}  {unit}")
    parts = [samples.get(name, []) for name in SEQUENTIAL_FLOOR]
    sums = [sum(round_parts) for round_parts in zip(*parts, strict=False)]
    if sums:
        median, low, high = spread(sums)
        label = "md5sum + sha512sum + cp (sum)"
        lines.append(f"{label:<34}{median:>10.3f}{low:>10.3f}{high:>10.3f}  s")
    lines += ["", f"{'ratio (within each round)':<34}{'median':>10}{'min':>10}{'max':>10}  target"]
    for label, top, bottom, target, combine in RATIOS:
        ratios = paired_ratios(samples, top, bottom, combine)
        if ratios:
            median, low, high = spread(ratios)
            verdict = "" if target is None else f"<= {target:.2f}: {_met(median <= target)}"
            lines.append(f"{label:<34}{median:>10.3f}{low:>10.3f}{high:>10.3f}  {verdict}")
    peaks = samples.get("import: worker peak RSS", []) + samples.get("export: worker peak RSS", [])
    if peaks:
        peak = max(peaks)
        verdict = f"< {RSS_TARGET_MIB:.0f}: {_met(peak < RSS_TARGET_MIB)}"
        lines.append(f"{'worker peak RSS, any job (MiB)':<34}{peak:>10.1f}{'':>20}  {verdict}")
    return "\n".join([*lines, "", NOTES])


def load_average() -> str:
    """The 1-minute load average: other work on a shared machine shows up here."""
    return Path("/proc/loadavg").read_text().split()[0]


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def consistency(checks: list[str]) -> str:
    """Whether the cloud's checksums agree with md5sum's and sha512sum's, and export sizes."""
    values = defaultdict(set)
    for check in checks:
        kind, _, value = check.partition(":")
        values[kind].add(value)
    agree = (
        values["md5"] == values["import-md5"]
        and values["sha512"] == values["import-sha512"]
        and values["export-size"] <= {"ok"}
    )
    return "checks: import checksums = md5sum/sha512sum, export size = raw + 512: " + (
        "yes" if agree else f"NO {dict(values)}"
    )


# --- the run --------------------------------------------------------------------------------


@contextlib.contextmanager
def stopping(services: list[Service], work_dir: Path, keep: bool) -> Iterator[None]:
    """Stop every service and remove the work dir however the run ends (SIGTERM included)."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        for service in reversed(services):
            service.stop()
        with contextlib.suppress(Exception):
            from django.db import connections

            connections.close_all()
        if not keep:
            shutil.rmtree(work_dir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum, frame) -> None:
    """SIGTERM takes the same way out as Ctrl-C, so the clean-up runs."""
    raise KeyboardInterrupt


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024, help="image size (default 1024)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds to take medians of")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=Path(os.environ.get("IMAGETASKS_VAR_DIR", REPO / "var")),
        help="where the run's own directory is made: the store and the cp targets must share "
        "its file system (default: $IMAGETASKS_VAR_DIR, else var/)",
    )
    parser.add_argument(
        "--broker-poll",
        type=float,
        metavar="SECONDS",
        help="what-if: the worker polls the filesystem broker this often instead of as "
        "configured (kombu's default is 1 s); not the project's configuration",
    )
    parser.add_argument("--json", type=Path, help="also write the raw samples to this file")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory and logs")
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.repeat < 1:
        parser.error("--size-mib and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.load_before = load_average()
    args.work_dir.mkdir(parents=True, exist_ok=True)
    work_dir = Path(tempfile.mkdtemp(prefix="bench-transfer-", dir=args.work_dir)).resolve()
    services: list[Service] = []
    size = args.size_mib * MIB
    try:
        with stopping(services, work_dir, args.keep):
            env = bench_environment(work_dir)
            setup_django(env)
            project, username, password = make_account()
            web, url = start_web(env, work_dir, services)
            worker = start_worker(env, work_dir, args.broker_poll, services)
            cloud = CloudApi(url, username, password)
            print(f"making a {args.size_mib} MiB fixed VHD object and raw image in {work_dir}")
            fixture = make_fixture(cloud, project, size, work_dir)
            scratch = work_dir / "scratch"
            scratch.mkdir()
            run = Run(cloud, worker, web, fixture, scratch, timeout=120 + 120 * size / 1024**3)
            run.record("worker idle RSS", status_kib(worker.pid, "VmRSS") / 1024)
            repetitions(run, args.repeat)
            cloud.close()
            print()
            print(report(run.samples, args))
            idle = run.samples["worker idle RSS"][0]
            print(f"worker RSS when idle, before the first job: {idle:.1f} MiB")
            print(consistency(run.checks))
            if args.json:
                args.json.write_text(json.dumps(run.samples, indent=2) + "\n")
    except KeyboardInterrupt:
        print("interrupted; everything the benchmark started is stopped and removed")
        return 130
    except BenchError as error:
        print(f"benchmark could not measure: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
