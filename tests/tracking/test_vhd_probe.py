"""The VHD footer check of a 396 failure's source: two range reads of the live cloud."""

from __future__ import annotations

import pytest

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.dashboard.tracking.vhd_probe import check_source, has_vhd_cookie
from imagetasks.localcloud import vhd_samples

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("disk", "is_vhd"),
    [
        (vhd_samples.fixed_vhd(), True),
        (vhd_samples.dynamic_vhd(), True),
        (vhd_samples.fixed_vhd()[:-1], True),  # old writers' 511-byte footer
        (vhd_samples.fixed_vhd()[:-8], False),  # a footer cut short: no cookie where it goes
        (vhd_samples.raw_disk_image(), False),
        (b"tiny", False),
    ],
)
def test_the_cookie_is_looked_for_at_the_end_and_at_the_start(disk, is_vhd):
    assert has_vhd_cookie(disk[:512], disk[-512:]) is is_vhd


def failed_import(cloud, source: str) -> ImageTask:
    return ImageTask.objects.create(
        cloud=cloud, type="import", status="failure", name="x",
        input={"import_from": source, "image_properties": {"name": "x"}},
        message="Image cannot be imported. Error code: '396'",
    )  # fmt: skip


def test_a_source_without_a_footer_is_recorded_as_no_vhd_and_the_row_redrawn(local_cloud):
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "raw.vhd", vhd_samples.raw_disk_image())
    task = failed_import(local_cloud, "images/raw.vhd")
    assert check_source(task) is False
    stored = ImageTask.objects.get(pk=task.pk)
    assert stored.source_is_vhd is False and stored.version == task.version


def test_a_real_vhd_is_recorded_as_one(local_cloud):
    objects = client_for(local_cloud).objects
    objects.create_container("images")
    objects.put_object("images", "web.vhd", vhd_samples.fixed_vhd())
    assert check_source(failed_import(local_cloud, "images/web.vhd")) is True


def test_a_source_that_is_gone_or_a_url_leaves_the_question_open(local_cloud):
    client_for(local_cloud).objects.create_container("images")
    gone = failed_import(local_cloud, "images/deleted.vhd")
    assert check_source(gone) is None
    assert check_source(failed_import(local_cloud, "https://example.test/x.qcow2")) is None
    assert ImageTask.objects.get(pk=gone.pk).source_is_vhd is None
