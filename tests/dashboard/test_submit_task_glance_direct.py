"""``manage.py submit_task --method glance-direct --file PATH`` against the live built-in
cloud: the file streamed into a new image and imported (a real worker imports it), and
every reason the command gives for sending nothing."""

from __future__ import annotations

import hashlib
import io
import json
import os

import pytest
from django.core.management import CommandError, call_command

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import Image
from tests.support.tracking import finished
from tests.support.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_hashing")]

PROPERTIES = {"name": "web-03", "disk_format": "vhd", "container_format": "bare"}


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def discovered(local_cloud):
    """The built-in cloud as its capabilities say: glance-direct, stores fast and cheap."""
    capabilities.refresh(local_cloud)
    local_cloud.refresh_from_db()
    return local_cloud


@pytest.fixture
def disk(tmp_path):
    path = tmp_path / "web-03.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    return path


def submit_task(*options: str, stderr=None, **task_input) -> tuple[str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    task_input = {"image_properties": PROPERTIES} | task_input
    call_command(
        "submit_task", "--cloud", "local", "--input", json.dumps(task_input), *options,
        stdout=out, stderr=err,
    )  # fmt: skip
    return out.getvalue(), err.getvalue()


def test_a_file_is_staged_imported_and_shown_with_its_import_state(discovered, disk, beat):
    printed, said = submit_task(
        "--method", "glance-direct", "--file", str(disk), stderr=Terminal(), stores=["cheap"]
    )

    task = ImageTask.objects.get(pk=printed.strip())
    assert "staging 100 % (" in said, "a terminal sees how far the upload got"
    assert (task.method, task.input["filename"]) == ("glance-direct", "web-03.vhd")
    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS, task.message
    image = client_for(discovered).images.get_image(task.result["image_id"])
    assert image.checksum == hashlib.md5(disk.read_bytes(), usedforsecurity=False).hexdigest()
    shown = io.StringIO()
    call_command("show_task", str(task.pk), stdout=shown)
    assert "method     glance-direct" in shown.getvalue()
    assert f"image      {image.id} (active)" in shown.getvalue()
    assert "stores     cheap" in shown.getvalue()
    assert "glance task success" in shown.getvalue()


def test_without_a_terminal_the_upload_prints_no_progress(discovered, disk):
    printed, said = submit_task("--method", "glance-direct", "--file", str(disk))

    task = ImageTask.objects.get(pk=printed.strip())
    assert "staging" not in said and said.startswith("status: ")
    image = Image.objects.get()
    assert str(image.id) == task.result["image_id"]
    assert image.status == Image.Status.IMPORTING, "staged whole, and the import asked for"


def refused(*options: str, **task_input) -> str:
    with pytest.raises(CommandError) as refusal:
        submit_task(*options, **task_input)
    return str(refusal.value)


def test_file_and_method_must_go_together(discovered, disk):
    web = refused("--method", "web-download", "--file", str(disk), uri="http://127.0.0.1/x")
    tasks_api = refused("--file", str(disk))
    no_file = refused("--method", "glance-direct")

    assert web == tasks_api == ("--file is for --method glance-direct (an upload into the image)")
    assert no_file == "--method glance-direct needs --file: the image's data"
    assert not ImageTask.objects.exists() and not Image.objects.exists()


def test_a_missing_unreadable_or_empty_file_is_refused_before_anything_is_sent(
    discovered, tmp_path
):
    empty = tmp_path / "empty.vhd"
    empty.write_bytes(b"")
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)

    def upload(path) -> str:
        return refused("--method", "glance-direct", "--file", str(path))

    assert upload(tmp_path / "nope.vhd") == (
        f"cannot read {tmp_path / 'nope.vhd'}: No such file or directory"
    )
    assert upload(tmp_path / "nope.vhd" / "x").startswith("cannot read ")
    assert upload(tmp_path) == f"{tmp_path} is not a regular file"
    assert upload(pipe) == f"{pipe} is not a regular file"
    assert upload(empty) == f"{empty} is empty: nothing to upload"
    assert not ImageTask.objects.exists() and not Image.objects.exists()


def test_a_cloud_that_does_not_list_glance_direct_or_a_store_is_refused(discovered, disk):
    upload = ("--method", "glance-direct", "--file", str(disk))

    unknown_store = refused(*upload, stores=["cheap", "nowhere"])
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=["web-download"])
    not_listed = refused(*upload)
    Cloud.objects.filter(pk=discovered.pk).update(import_methods=None)
    not_known = refused(*upload)

    assert unknown_store == "not a store of local: nowhere (it has fast, cheap)"
    assert not_listed == (
        "the cloud local does not list glance-direct among its import methods (web-download); "
        "manage.py refresh_capabilities asks it again"
    )
    assert "(unknown)" in not_known
    assert not ImageTask.objects.exists() and not Image.objects.exists()


def test_properties_the_cloud_cannot_use_reject_the_task_before_the_file_is_sent(discovered, disk):
    message = refused("--method", "glance-direct", "--file", str(disk), image_properties={})

    assert message == "the cloud refused the task: An image needs a name and a disk format."
    assert ImageTask.objects.get().status == statuses.REJECTED
    assert not Image.objects.exists()
