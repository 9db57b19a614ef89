"""An image larger than Swift's 5 GiB object limit, uploaded through the dashboard and copied
between two clouds, against the same work done by hand in the same run.

    .venv/bin/python bench/large_objects.py                    # 6 GiB (about 8 min here)
    .venv/bin/python bench/large_objects.py --size-gib 0.05    # smoke, about 1 min

Everything runs as ``make run`` runs it, in a directory of its own: gunicorn serving the
dashboard and the built-in cloud (the Procfile's options, the cloud's limit left at its
default 5 GiB), the dashboard worker, the cloud's worker and beat, one SQLite database and
the filesystem broker. The built-in cloud is seeded as ``make run`` seeds it (the demo
accounts ``demo`` and ``demo2``, imported as two clouds from the clouds.yaml it writes),
and an operator granted both logs in through the login form.

a) Upload. A fixed VHD of ``--size-gib`` whose disk is sparse goes up as the page does
   it: the plan, then each segment (the cloud's segment size, 1 GiB by default) PUT while
   a thread hashes it (the page's SparkMD5; hashlib here) and its MD5 compared with the
   one the dashboard answers, then the manifest. The baselines of the same run: ``cat``
   of the file, and the same bytes PUT with curl straight to the built-in cloud, as the
   same segments (``dd | curl -T -`` each, then the manifest): a single PUT above 5 GiB
   is refused.
b) Copy. The uploaded image is imported on ``demo`` (not timed), then copied to ``demo2``
   by the dashboard's copy service, from the form's submission until the copy is done;
   against, in the same run, the export, transfer (curl from one store to the other,
   segment by segment when the export is larger than one object) and import done by hand
   through the cloud's HTTP API.

Resident memory of gunicorn's processes and of the dashboard worker's is sampled every
0.1 s throughout. It measures and never asserts; everything it started and wrote is
removed at the end, also on Ctrl-C, unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import common  # noqa: E402
from bench.common import BenchError, CloudApi, RssPeaks, Service, status_kib  # noqa: E402
from tests.fixtures.gunicorn import procfile_web_options  # noqa: E402

GIB = 1024**3
MIB = 1024**2
CHUNK = MIB  # what the page reads and hashes at a time
POLL = 0.2  # seconds between looks at a task or a copy
RSS_TARGET_MIB = 150.0
UPLOAD_TARGET = 1.3
OPERATOR = "bench-operator"
SOURCE = "demo"
TARGET = "demo2"
CONTAINER = "images"  # the demo account's own
OBJECT = "bench-large.vhd"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=float, default=6.0, help="image size (6)")
    parser.add_argument(
        "--segment-mib",
        type=int,
        help="the clouds' segment size (default: the dashboard's, 1024); smaller makes a "
        "small run go through segments too",
    )
    parser.add_argument("--no-copy", action="store_true", help="measure the upload only")
    parser.add_argument("--keep", action="store_true", help="keep the run's directory and logs")
    args = parser.parse_args(argv)
    if args.size_gib <= 0 or (args.segment_mib is not None and args.segment_mib < 1):
        parser.error("--size-gib and --segment-mib must be positive")
    return args


# --- The run: its directory, environment, processes ------------------------------------------


@dataclass
class Run:
    directory: Path
    env: dict[str, str]
    size: int
    services: list[Service] = field(default_factory=list)
    url: str = ""
    lines: list[str] = field(default_factory=list)

    def service(self, name: str) -> Service:
        return next(service for service in self.services if service.name == name)

    def say(self, text: str = "") -> None:
        self.lines.append(text)


def make_run(args: argparse.Namespace) -> Run:
    directory = common.var_dir("bench-large-objects") / f"large-objects-{os.getpid()}"
    directory.mkdir(parents=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if key != "DATABASE_URL" and not key.startswith(("LOCALCLOUD_", "CELERY_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="imagetasks.settings",
        IMAGETASKS_VAR_DIR=str(directory),
        IMAGETASKS_ENV_FILE="/dev/null",
        DATABASE_URL=f"sqlite:///{directory / 'db.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
        LOCALCLOUD_RATE_LIMIT="0",
        LOCALCLOUD_DEMO_PASSWORD=secrets.token_urlsafe(16),
        LOCALCLOUD_DEMO2_PASSWORD=secrets.token_urlsafe(16),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    size = max(2 * 512, round(args.size_gib * GIB / 512) * 512)
    return Run(directory=directory, env=env, size=size)


def disk_needed(size: int, copy: bool) -> int:
    """As if the store's file system kept no holes: the upload's segments and the image
    made from them, then per copy an export, its transfer and an import (the hand-run's
    are removed before the service's copy starts). Where holes are kept (``Disk`` in the
    report) the image's zeros take nothing."""
    return size * (2 + (3 if copy else 0)) + 2 * GIB


class DiskPeak:
    """The most disk the run's directory took (allocated blocks, holes not counted) while
    a block runs, looked at every ``interval`` seconds."""

    def __init__(self, directory: Path, interval: float = 1.0):
        self.directory, self.interval = directory, interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> DiskPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def used(self) -> int:
        total = 0
        for folder, _, files in os.walk(self.directory):
            for name in files:
                with contextlib.suppress(OSError):  # removed while we looked
                    total += os.lstat(os.path.join(folder, name)).st_blocks * 512
        return total

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self.used())
            if self._stop.wait(self.interval):
                return


def setup_django(run: Run, segment_size: int | None) -> None:
    """The database and the clouds, as `make run` prepares them; an operator granted both."""
    os.environ.update(run.env)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("prepare", verbosity=0)
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    clouds_yaml = run.directory / "clouds.yaml"
    quiet = open(os.devnull, "w")  # noqa: SIM115 -- the seed prints what the bench need not
    with quiet:
        call_command("localcloud_seed", clouds_yaml=clouds_yaml, public_url=run.url, stdout=quiet)
        call_command("import_clouds", clouds_yaml, stdout=quiet)
    from django.contrib.auth.models import Group, User

    from imagetasks.dashboard.access import OPERATORS
    from imagetasks.dashboard.models import Cloud

    user = User.objects.create_user(OPERATOR, password=run.env["LOCALCLOUD_DEMO_PASSWORD"])
    user.groups.add(Group.objects.get_or_create(name=OPERATORS)[0])
    for cloud in Cloud.objects.all():
        cloud.users.add(user)
        if segment_size:
            cloud.segment_size = segment_size
            cloud.save(update_fields=["segment_size"])


def celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "imagetasks", *args]


def start_services(run: Run, port: int) -> None:
    """The Procfile's processes; gunicorn with the Procfile's options, on ``port``."""
    tag = f"{os.getpid()}"
    logs = run.directory
    web = [sys.executable, "-m", "gunicorn", "imagetasks.wsgi", "--bind", f"127.0.0.1:{port}"]
    web += [*procfile_web_options(), "--access-logfile", str(logs / "access.log")]
    commands = {
        "web": web,
        "worker": celery(
            "worker", "--loglevel", "INFO", "--concurrency", "4", "--queues", "dashboard",
            "--hostname", f"dashboard-{tag}@%h", "--without-mingle", "--without-gossip",
        ),
        "cloudworker": celery(
            "worker", "--loglevel", "INFO", "--concurrency", "2", "--queues", "localcloud",
            "--hostname", f"localcloud-{tag}@%h", "--without-mingle", "--without-gossip",
        ),
        "beat": celery(
            "beat", "--loglevel", "INFO", "--schedule", str(logs / "celerybeat-schedule")
        ),
    }  # fmt: skip
    for name, command in commands.items():
        run.services.append(Service(name, command, run.env, logs / f"{name}.log"))
    deadline = time.monotonic() + 120
    while True:
        for service in run.services:
            service.check_alive()
        ready = all(" ready." in run.service(name).tail() for name in ("worker", "cloudworker"))
        try:
            common.get_healthz(port, timeout=5)
        except OSError:
            ready = False
        if ready:
            return
        if time.monotonic() > deadline:
            raise BenchError("the services were not ready within 120 s")
        time.sleep(0.3)


def memory_roots(run: Run) -> dict[str, int]:
    return {"web": run.service("web").pid, "dashboard worker": run.service("worker").pid}


def idle_memory(run: Run) -> dict[str, float]:
    """The largest process of each tree, at rest (MiB)."""
    peaks = RssPeaks(memory_roots(run))
    peaks.sample()
    return {name: peaks.process_mib(name) for name in peaks.roots}


# --- Timing shell commands -------------------------------------------------------------------


def timed_shell(script: str, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    try:
        subprocess.run(["bash", "-o", "pipefail", "-c", script], check=True, env=env)
    except subprocess.CalledProcessError as error:
        raise BenchError(f"{script} exited with {error.returncode}") from None
    return time.perf_counter() - started


def curl_put(url: str, length: int, *, source: str) -> str:
    """A shell pipeline: ``source`` (a command writing ``length`` bytes) PUT with curl.

    curl sends a body from a pipe chunked; with its own Content-Length header it would
    announce both, so the chunked header (and the 100-continue wait) are taken off.
    """
    return (
        f"{source} | curl -sS -f -o /dev/null -X PUT -T - -H 'Transfer-Encoding:' -H 'Expect:' "
        f"-H 'Content-Length: {length}' -H \"X-Auth-Token: $TOKEN\" '{url}'"
    )


def put_manifest(api: CloudApi, container: str, name: str, entries: list[dict]) -> None:
    url = f"{api.object_url}/{container}/{name}?multipart-manifest=put"
    api.expect("PUT", url, 201, json=entries)


def segments_of(size: int, segment_size: int) -> list[tuple[int, int, int]]:
    return [
        (index, offset, min(segment_size, size - offset))
        for index, offset in enumerate(range(0, size, segment_size))
    ]


def md5_range(path: Path, offset: int, length: int) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as source:
        source.seek(offset)
        while length and (chunk := source.read(min(CHUNK, length))):
            digest.update(chunk)
            length -= len(chunk)
    return digest.hexdigest()


# --- a) The upload -----------------------------------------------------------------------------


@dataclass
class UploadFigures:
    cat: float
    curl: float
    curl_segments: int
    dashboard: float
    hashing: float
    sending: float
    segments: int
    idle: dict[str, float]
    peaks: RssPeaks
    per_segment_web_mib: list[float]
    disk: int


def baseline_upload(api: CloudApi, path: Path, size: int, segment_size: int) -> tuple[float, int]:
    """The same bytes PUT with curl straight to the store: whole when the dashboard would
    send them whole, else as the same segments plus the manifest. Removed afterwards."""
    env = os.environ | {"TOKEN": api.session.headers["X-Auth-Token"]}
    container = "baseline"
    api.create_container(container)
    api.create_container(f"{container}_segments")
    if size <= segment_size:
        url = f"{api.object_url}/{container}/{OBJECT}"
        seconds = timed_shell(curl_put(url, size, source=f"cat '{path}'"), env)
        api.delete_object(container, OBJECT)
        return seconds, 1
    plan = segments_of(size, segment_size)
    md5s = [md5_range(path, offset, length) for _, offset, length in plan]  # not timed
    started = time.perf_counter()
    for index, offset, length in plan:
        name = f"{OBJECT}/slo/baseline/{size}/{segment_size}/{index:08d}"
        source = (
            f"dd if='{path}' bs=4M iflag=skip_bytes,count_bytes skip={offset} "
            f"count={length} status=none"
        )
        url = f"{api.object_url}/{container}_segments/{name}"
        timed_shell(curl_put(url, length, source=source), env)
    entries = [
        {
            "path": f"/{container}_segments/{OBJECT}/slo/baseline/{size}/{segment_size}/{i:08d}",
            "etag": md5s[i],
            "size_bytes": length,
        }
        for i, _, length in plan
    ]
    put_manifest(api, container, OBJECT, entries)
    seconds = time.perf_counter() - started
    api.delete_large_object(container, OBJECT)
    return seconds, len(plan)


class SegmentBody:
    """``length`` bytes of a file from ``offset``, in 1 MiB reads, with a length that
    requests sends as Content-Length (as the page's ``file.slice``)."""

    def __init__(self, path: Path, offset: int, length: int):
        self.path, self.offset, self.length = path, offset, length

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[bytes]:
        with open(self.path, "rb") as source:
            source.seek(self.offset)
            left = self.length
            while left and (chunk := source.read(min(CHUNK, left))):
                left -= len(chunk)
                yield chunk


def login(base_url: str, password: str):
    """A session logged in through the login form, as a person logs in."""
    import requests

    session = requests.Session()
    session.get(f"{base_url}/accounts/login/", timeout=30).raise_for_status()
    answer = session.post(
        f"{base_url}/accounts/login/",
        data={
            "username": OPERATOR,
            "password": password,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise BenchError(f"logging in answered {answer.status_code}")
    session.headers["X-CSRFToken"] = session.cookies["csrftoken"]
    return session


def dashboard_upload(
    run: Run, session, path: Path, size: int, mtime: str
) -> tuple[dict, float, float, list[float]]:
    """The page's upload: the plan; each segment nothing is stored for PUT without its MD5
    while a thread hashes it (the page's SparkMD5 reading beside its XHR), the MD5 the
    dashboard answers compared with the thread's; one stored already hashed first and PUT
    with its MD5 only when it differs; then the manifest. Returns the answer, the seconds
    spent hashing (overlapping the PUTs) and sending, and the web's peak RSS per segment."""
    base = f"{run.url}/clouds/localcloud-{SOURCE}"
    query = {"size": size, "mtime": mtime}
    plan = session.get(f"{base}/upload-plan/{CONTAINER}/{OBJECT}", params=query, timeout=60)
    if plan.status_code != 200:
        raise BenchError(f"upload plan: {plan.status_code} {plan.text[:300]}")
    plan = plan.json()
    if plan["single"]:
        started = time.perf_counter()
        answer = session.put(
            f"{run.url}{plan['upload_url']}", data=SegmentBody(path, 0, size), timeout=3600
        )
        return _stored(answer), 0.0, time.perf_counter() - started, []
    whole = hashlib.md5(usedforsecurity=False)
    hashing = sending = 0.0
    md5s, per_segment = [], []
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-md5") as hasher:
        for segment in plan["segments"]:
            offset, length = segment["index"] * plan["segment_size"], segment["length"]
            url = f"{run.url}{plan['segment_url']}&index={segment['index']}"
            if segment["etag"] is not None:  # a resume: hashed first, sent if it differs
                md5, seconds = hash_segment(path, offset, length, whole)
                hashing += seconds
                md5s.append(md5)
                if segment["etag"] == md5:
                    continue
                url += f"&md5={md5}"
                hashed = None
            else:
                hashed = hasher.submit(hash_segment, path, offset, length, whole)
            started = time.perf_counter()
            with RssPeaks({"web": run.service("web").pid}) as peaks:
                answer = session.put(url, data=SegmentBody(path, offset, length), timeout=3600)
            sending += time.perf_counter() - started
            per_segment.append(peaks.process_mib("web"))
            if answer.status_code != 201:
                raise BenchError(f"segment {segment['index']}: {answer.status_code} {answer.text}")
            if hashed is not None:
                md5, seconds = hashed.result()
                hashing += seconds
                md5s.append(md5)
                if answer.json()["etag"] not in (None, md5):
                    raise BenchError(f"segment {segment['index']} arrived different: {answer.text}")
    started = time.perf_counter()
    answer = session.post(
        f"{run.url}{plan['manifest_url']}",
        json={"md5": whole.hexdigest(), "segments": md5s},
        timeout=600,
    )
    sending += time.perf_counter() - started
    return _stored(answer), hashing, sending, per_segment


def hash_segment(path: Path, offset: int, length: int, whole) -> tuple[str, float]:
    """A segment's MD5, read as the page reads it, also fed to the whole file's; and the
    seconds it took."""
    started = time.perf_counter()
    digest = hashlib.md5(usedforsecurity=False)
    for chunk in SegmentBody(path, offset, length):
        digest.update(chunk)
        whole.update(chunk)
    return digest.hexdigest(), time.perf_counter() - started


def _stored(answer) -> dict:
    if answer.status_code != 201:
        raise BenchError(f"upload: {answer.status_code} {answer.text[:500]}")
    return answer.json()


def measure_upload(run: Run, api: CloudApi, path: Path, expected_md5: str) -> UploadFigures:
    from imagetasks.dashboard.models import Cloud

    segment_size = Cloud.objects.get(name=f"localcloud-{SOURCE}").segment_size
    size = run.size
    env = os.environ | {"TOKEN": ""}
    os.sync()
    cat = timed_shell(f"cat '{path}' > /dev/null", env)
    os.sync()
    curl, curl_segments = baseline_upload(api, path, size, segment_size)
    os.sync()
    session = login(run.url, run.env["LOCALCLOUD_DEMO_PASSWORD"])
    idle = idle_memory(run)
    with RssPeaks(memory_roots(run)) as peaks, DiskPeak(run.directory) as disk:
        started = time.perf_counter()
        answer, hashing, sending, per_segment = dashboard_upload(
            run, session, path, size, f"{int(path.stat().st_mtime * 1000)}"
        )
        dashboard = time.perf_counter() - started
    os.sync()
    head = api.head(CONTAINER, OBJECT)
    checks = [
        ("bytes", answer["bytes"] == size),
        ("md5", answer["md5"] == expected_md5),
        ("verified", answer["verified"]),
        ("HEAD Content-Length", int(head.headers["Content-Length"]) == size),
    ]
    if answer.get("segments"):
        checks.append(
            ("X-Static-Large-Object", head.headers.get("X-Static-Large-Object") == "True")
        )
    failed = [name for name, ok in checks if not ok]
    if failed:
        raise BenchError(f"the uploaded object is wrong: {', '.join(failed)}; {answer}")
    return UploadFigures(
        cat=cat,
        curl=curl,
        curl_segments=curl_segments,
        dashboard=dashboard,
        hashing=hashing,
        sending=sending,
        segments=answer.get("segments") or 1,
        idle=idle,
        peaks=peaks,
        per_segment_web_mib=per_segment,
        disk=disk.peak,
    )


# --- b) The copy -------------------------------------------------------------------------------


@dataclass
class CopyFigures:
    hand: dict[str, float]
    service: float
    steps: list[tuple[str, float]]
    idle: dict[str, float]
    peaks: RssPeaks
    checks: str
    disk: int


def wait_for_task(api: CloudApi, task_id: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        task = api.task(task_id)
        if task["status"] in ("success", "failure"):
            if task["status"] != "success":
                raise BenchError(f"task {task_id} failed: {task.get('message')}")
            return task
        if time.monotonic() > deadline:
            raise BenchError(f"task {task_id} still {task['status']} after {timeout:.0f} s")
        time.sleep(POLL)


def import_image(api: CloudApi, location: str, name: str, timeout: float) -> str:
    body = {
        "type": "import",
        "input": {"import_from": location, "image_properties": {"name": name}},
    }
    return wait_for_task(api, api.create_task(body), timeout)["result"]["image_id"]


def hand_copy(
    source: CloudApi, target: CloudApi, image_id: str, segment_size: int, timeout: float
) -> tuple[dict[str, float], str]:
    """Export, transfer with curl, import, through the cloud's HTTP API; each stage's
    seconds and the image made on the target (removed by the caller)."""
    times = {}
    started = time.perf_counter()
    body = {
        "type": "export",
        "input": {"image_uuid": image_id, "receiving_swift_container": "hand"},
    }
    source.create_container("hand")
    task = wait_for_task(source, source.create_task(body), timeout)
    times["export"] = time.perf_counter() - started
    container, _, name = task["result"]["export_location"].partition("/")
    size = int(source.head(container, name).headers["Content-Length"])
    started = time.perf_counter()
    target.create_container("hand")
    target.create_container("hand_segments")
    env = os.environ | {"SOURCE_TOKEN": source.session.headers["X-Auth-Token"]}
    env["TOKEN"] = target.session.headers["X-Auth-Token"]
    get = f"curl -sS -f -H \"X-Auth-Token: $SOURCE_TOKEN\" '{source.object_url}/{container}/{name}'"
    if size <= segment_size:
        timed_shell(curl_put(f"{target.object_url}/hand/{name}", size, source=get), env)
    else:
        entries = []
        for index, offset, length in segments_of(size, segment_size):
            part = f"{name}/slo/hand/{size}/{segment_size}/{index:08d}"
            ranged = f"{get} -r {offset}-{offset + length - 1}"
            url = f"{target.object_url}/hand_segments/{part}"
            timed_shell(curl_put(url, length, source=ranged), env)
            entries.append({"path": f"/hand_segments/{part}", "etag": None, "size_bytes": length})
        put_manifest(target, "hand", name, entries)
    times["transfer"] = time.perf_counter() - started
    started = time.perf_counter()
    made = import_image(target, f"hand/{name}", "hand-copy", timeout)
    times["import"] = time.perf_counter() - started
    source.delete_large_object(container, name)
    target.delete_large_object("hand", name)
    return times, made


def service_copy(run: Run, session, image_id: str, timeout: float) -> tuple[float, str]:
    """Submit the copy form as a person does; seconds until the copy is done, and its id."""
    from imagetasks.dashboard import statuses
    from imagetasks.dashboard.models import Copy

    copy_id = uuid.uuid4()
    form = {
        "cloud": f"localcloud-{SOURCE}",
        "copy_id": str(copy_id),
        "image_id": image_id,
        "target": f"localcloud-{TARGET}",
        "name": "service-copy",
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }
    started = time.perf_counter()
    answer = session.post(f"{run.url}/copies/new/", data=form, timeout=120, allow_redirects=False)
    if answer.status_code != 302:
        raise BenchError(f"the copy form answered {answer.status_code}: {answer.text[:500]}")
    deadline = time.monotonic() + timeout
    while True:
        copy = Copy.objects.get(pk=copy_id)
        if copy.status in statuses.COPY_FINAL:
            seconds = time.perf_counter() - started
            break
        if time.monotonic() > deadline:
            raise BenchError(f"the copy is still {copy.status} after {timeout:.0f} s")
        for service in run.services:
            service.check_alive()
        time.sleep(POLL)
    if copy.status != statuses.COPY_SUCCEEDED:
        raise BenchError(f"the copy failed: {copy.error}")
    return seconds, str(copy_id)


def copy_steps(copy_id: str) -> list[tuple[str, float]]:
    """How long each status lasted, from the copy's timeline."""
    from imagetasks.dashboard.models import Copy

    copy = Copy.objects.get(pk=copy_id)
    steps, previous = [], copy.created_at
    for entry in copy.events.all():
        steps.append((f"{entry.step} {entry.status}", (entry.at - previous).total_seconds()))
        previous = entry.at
    return steps


def measure_copy(run: Run, source: CloudApi, target: CloudApi) -> CopyFigures:
    from imagetasks.dashboard.models import Cloud

    segment_size = Cloud.objects.get(name=f"localcloud-{TARGET}").segment_size
    timeout = 600 + 300 * run.size / GIB
    image_id = import_image(source, f"{CONTAINER}/{OBJECT}", "bench-large", timeout)
    source.delete_large_object(CONTAINER, OBJECT)
    checksum = source.image(image_id)["checksum"]
    os.sync()
    with DiskPeak(run.directory) as disk:
        hand, made = hand_copy(source, target, image_id, segment_size, timeout)
        hand_checksum = target.image(made)["checksum"]
        target.delete_image(made)
        os.sync()
        session = login(run.url, run.env["LOCALCLOUD_DEMO_PASSWORD"])
        idle = idle_memory(run)
        with RssPeaks(memory_roots(run)) as peaks:
            seconds, copy_id = service_copy(run, session, image_id, timeout)
    from imagetasks.dashboard.models import Copy

    copied = target.image(Copy.objects.get(pk=copy_id).target_image_id)["checksum"]
    same = checksum == hand_checksum == copied
    checks = (
        f"image MD5 on demo2 = the source's: by hand {hand_checksum == checksum}, "
        f"copy {copied == checksum}"
    )
    if not same:
        raise BenchError(checks)
    return CopyFigures(hand, seconds, copy_steps(copy_id), idle, peaks, checks, disk.peak)


# --- The report --------------------------------------------------------------------------------


def load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def row(label: str, value: float, unit: str = "s", note: str = "") -> str:
    return f"   {label:<48}{value:9.2f} {unit:<4}{note}".rstrip()


def report_upload(run: Run, up: UploadFigures) -> None:
    floor = up.cat + up.curl
    ratio = up.dashboard / floor
    run.say(
        f"a) upload of {run.size / GIB:.2f} GiB through the dashboard, {up.segments} segment(s)"
    )
    run.say(row("cat file > /dev/null", up.cat))
    how = f"{up.curl_segments} segments + manifest" if up.curl_segments > 1 else "one PUT"
    run.say(row(f"curl to the built-in cloud ({how})", up.curl))
    run.say(row("dashboard, from the plan to the manifest", up.dashboard))
    run.say(row("  hashing, as the page does, beside the PUTs", up.hashing))
    run.say(row("  sending (segment PUTs, manifest)", up.sending))
    verdict = f"target <= {UPLOAD_TARGET}: {_met(ratio <= UPLOAD_TARGET)}"
    run.say(row("dashboard / (cat + curl)", ratio, "x", verdict))
    run.say(row("dashboard sending / curl", up.sending / up.curl, "x"))
    memory(run, up.idle, up.peaks)
    if up.per_segment_web_mib:
        shown = ", ".join(f"{mib:.0f}" for mib in up.per_segment_web_mib)
        run.say(f"   web peak RSS during each segment's PUT (MiB): {shown}")
    run.say(row("run directory's disk at most, during the upload", up.disk / MIB, "MiB"))


def memory(run: Run, idle: dict[str, float], peaks: RssPeaks) -> None:
    for name in peaks.roots:
        peak = peaks.process_mib(name)
        note = (
            f"target < {RSS_TARGET_MIB:.0f}: {_met(peak < RSS_TARGET_MIB)} (idle "
            f"{idle[name]:.1f}; all its processes together {peaks.tree_mib(name):.1f})"
        )
        run.say(row(f"{name} peak RSS, largest process", peak, "MiB", note))


def report_copy(run: Run, copy: CopyFigures) -> None:
    hand = sum(copy.hand.values())
    run.say(f"b) copy of the {run.size / GIB:.2f} GiB image from demo to demo2")
    for stage, seconds in copy.hand.items():
        run.say(row(f"by hand: {stage}", seconds))
    run.say(row("by hand, in all", hand))
    run.say(row("copy service, from submission to done", copy.service))
    run.say(row("copy service / by hand", copy.service / hand, "x"))
    for step, seconds in copy.steps:
        run.say(row(f"  until {step}", seconds, "s", " (copy timeline)"))
    memory(run, copy.idle, copy.peaks)
    run.say(row("run directory's disk at most, during both copies", copy.disk / MIB, "MiB"))
    run.say(f"   {copy.checks}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    common.interrupt_on_signals()
    run = make_run(args)
    try:
        bench(args, run)
    except KeyboardInterrupt:
        print("interrupted; stopping and removing everything the benchmark started")
        return 130
    except BenchError as error:
        print(f"benchmark could not measure: {error}", file=sys.stderr)
        return 1
    finally:
        common.ignore_signals()
        for service in reversed(run.services):
            service.stop()
        if args.keep:
            print(f"kept {run.directory}")
        else:
            shutil.rmtree(run.directory, ignore_errors=True)
    print("\n".join(run.lines))
    return 0


def bench(args: argparse.Namespace, run: Run) -> None:
    needed = disk_needed(run.size, not args.no_copy)
    free = shutil.disk_usage(run.directory).free
    if free < needed:
        raise BenchError(f"{free / GIB:.1f} GiB free at {run.directory}, {needed / GIB:.1f} needed")
    load_before = load_average()
    port = common.free_port()
    run.url = f"http://127.0.0.1:{port}"
    setup_django(run, args.segment_mib * MIB if args.segment_mib else None)
    start_services(run, port)
    from imagetasks.localcloud.vhd_samples import write_sparse_fixed_vhd

    path = run.directory / "upload.vhd"
    expected_md5 = write_sparse_fixed_vhd(path, run.size)
    source = CloudApi(run.url, SOURCE, run.env["LOCALCLOUD_DEMO_PASSWORD"])
    target = CloudApi(run.url, TARGET, run.env["LOCALCLOUD_DEMO2_PASSWORD"])
    print(f"upload of {run.size / GIB:.2f} GiB ({run.directory})", flush=True)
    upload = measure_upload(run, source, path, expected_md5)
    path.unlink()
    copy = None
    if not args.no_copy:
        print("copy", flush=True)
        copy = measure_copy(run, source, target)
    run.say(
        f"large objects: {run.size} bytes, {os.cpu_count()} CPUs; load average (1 min) "
        f"{load_before} at the start, {load_average()} at the end"
    )
    report_upload(run, upload)
    if copy:
        report_copy(run, copy)
    worker_rss = status_kib(run.service("worker").pid, "VmRSS") / 1024
    run.say(f"dashboard worker (main process) RSS at the end: {worker_rss:.1f} MiB")


if __name__ == "__main__":
    sys.exit(main())
