import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.dashboard.tracking.submission import Upload, submit

GLANCE_DIRECT = ImageTask.Method.GLANCE_DIRECT.value
GLANCE_DOWNLOAD = ImageTask.Method.GLANCE_DOWNLOAD.value
MiB = 1024 * 1024


class Progress:
    """The file being staged, read as the upload sends it, with how far it got written
    over one line of the terminal each time another percent is sent."""

    def __init__(self, file: IO[bytes], length: int, out: OutputWrapper):
        self._file = file
        self._length = length
        self._out = out
        self._sent = 0
        self._shown = -1

    def read(self, size: int, /) -> bytes:
        chunk = self._file.read(size)
        self._sent += len(chunk)
        percent = self._sent * 100 // self._length
        if percent != self._shown:
            self._shown = percent
            done = "\n" if self._sent >= self._length else ""
            self._out.write(
                f"\rstaging {percent} % ({self._sent / MiB:.1f} of {self._length / MiB:.1f} MiB)",
                ending=done,
            )
            self._out.flush()
        return chunk


class Command(BaseCommand):
    help = "Submit an image task through the same service as the web form; prints its UUID."

    def add_arguments(self, parser):
        parser.add_argument("--cloud", required=True)
        parser.add_argument("--type", default="import", choices=["import", "export"])
        parser.add_argument(
            "--method",
            default="",
            choices=["web-download", "glance-direct", "copy-image", "glance-download"],
            help=(
                "An interoperable import instead of the tasks API; --input then holds "
                '{"uri": …, "image_properties": {"name": …, "disk_format": …}} (web-download), '
                '{"image_properties": {…}} with --file (glance-direct), '
                '{"image_id": …, "stores": […]} (copy-image) '
                'or {"glance_region": …, "glance_image_id": …, "image_properties": {"name": …}} '
                "(glance-download: a copy of an image of another region of the cloud), with "
                'optional "stores" and "all_stores_must_succeed".'
            ),
        )
        parser.add_argument("--input", required=True, help="The task's input, as JSON.")
        parser.add_argument(
            "--file",
            help="The image's data, for --method glance-direct: streamed to the image's stage.",
        )
        parser.add_argument("--user", help="Username recorded as the submitter.")

    def handle(
        self,
        *args,
        cloud: str,
        type: str,
        method: str,
        input: str,
        file: str | None,
        user: str | None,
        **options,
    ):
        try:
            task_input = json.loads(input)
        except ValueError as error:
            raise CommandError(f"--input is not JSON: {error}") from None
        if not isinstance(task_input, dict):
            raise CommandError("--input must be a JSON object")
        target = Cloud.objects.filter(name=cloud).first()
        if target is None:
            raise CommandError(f"no cloud named {cloud!r}")
        submitter = None
        if user:
            submitter = get_user_model().objects.filter(username=user).first()
            if submitter is None:
                raise CommandError(f"no user named {user!r}")
        if method and type != ImageTask.Type.IMPORT:
            raise CommandError("--method is for imports")
        if file is not None and method != GLANCE_DIRECT:
            raise CommandError("--file is for --method glance-direct (an upload into the image)")
        if method == GLANCE_DOWNLOAD:
            _check_region(target, task_input.get("glance_region"))
        if method != GLANCE_DIRECT:
            task = submit(target, type, task_input, user=submitter, method=method)
            return self._report(task)
        if file is None:
            raise CommandError("--method glance-direct needs --file: the image's data")
        _check_offers_glance_direct(target)
        _check_stores(target, task_input.get("stores"))
        with _opened(file) as data:
            length = os.fstat(data.fileno()).st_size
            task_input.setdefault("filename", os.path.basename(file))
            body = Progress(data, length, self.stderr) if self.stderr.isatty() else data
            task = submit(
                target,
                type,
                task_input,
                user=submitter,
                method=method,
                upload=Upload(body, length),
            )
        self._report(task)

    def _report(self, task: ImageTask) -> None:
        self.stdout.write(str(task.pk))
        self.stderr.write(f"status: {task.status}" + (f" — {task.message}" if task.message else ""))
        if task.status in (statuses.REJECTED, statuses.LOST):
            raise CommandError(f"the cloud refused the task: {task.message}")


def _check_offers_glance_direct(cloud: Cloud) -> None:
    if GLANCE_DIRECT not in (cloud.import_methods or []):
        offered = ", ".join(cloud.import_methods) if cloud.import_methods else "unknown"
        raise CommandError(
            f"the cloud {cloud.name} does not list glance-direct among its import methods "
            f"({offered}); manage.py refresh_capabilities asks it again"
        )


def _check_region(cloud: Cloud, region: object) -> None:
    """A region the cloud's catalog did not name when last asked is refused here, with
    the ones it named, rather than by a failed task later."""
    if cloud.image_regions is None or not isinstance(region, str) or not region:
        return  # unknown regions, or no region: the submission says what is missing
    if region not in cloud.image_regions:
        named = ", ".join(cloud.image_regions) or "none"
        raise CommandError(
            f"{cloud.name}'s catalog names no other image region {region!r} (it names: "
            f"{named}); manage.py refresh_capabilities asks it again"
        )


def _check_stores(cloud: Cloud, wanted: object) -> None:
    """Stores the cloud does not list are refused before the file is sent, not after."""
    if wanted is None or cloud.image_stores is None:
        return
    known = [str(store.get("id")) for store in cloud.image_stores if isinstance(store, dict)]
    if not isinstance(wanted, list) or not all(isinstance(store, str) for store in wanted):
        raise CommandError('"stores" must be a list of store names')
    unknown = [store for store in wanted if store not in known]
    if unknown:
        raise CommandError(
            f"not a store of {cloud.name}: {', '.join(unknown)} (it has {', '.join(known)})"
        )


@contextmanager
def _opened(path: str) -> Iterator[IO[bytes]]:
    """The file to upload, open while the upload runs; a ``CommandError`` says why it
    cannot be read."""
    try:
        # Looked at before it is opened: opening a pipe would wait for a writer.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CommandError(f"{path} is not a regular file")
        data = open(path, "rb")  # noqa: SIM115 (closed below, whatever the upload does)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror or error}") from None
    with data:
        if os.fstat(data.fileno()).st_size == 0:
            raise CommandError(f"{path} is empty: nothing to upload")
        yield data
