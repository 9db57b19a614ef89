"""Uploading a disk image from this computer into a new image (Glance's glance-direct), as a
person does: New import → the cloud → "Upload from this computer" → a file → Upload and
import; then the task's page follows it to its end."""

from __future__ import annotations

import hashlib
import re
import socket
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds import capabilities
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import Image
from tests.browser.imports import open_upload_form
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_a_vhd_into_a_new_image_and_sees_it_succeed_with_its_md5(
    page, django_user_model, local_cloud, beat, tmp_path
):
    disk = vhd_samples.fixed_vhd()
    path = tmp_path / "web-04.vhd"
    path.write_bytes(disk)
    capabilities.refresh(local_cloud)
    make_person(django_user_model, local_cloud, "ursula", "operators")
    log_in(page, "ursula")

    form = open_upload_form(page, local_cloud)
    expect(form.get_by_role("checkbox", name="fast (default)")).to_be_checked()
    expect(form.get_by_role("button", name="Cancel")).to_be_hidden()
    form.get_by_label("File").set_input_files(str(path))
    # The name and the disk format follow the file until changed.
    expect(form.get_by_label("Image name")).to_have_value("web-04")
    expect(form.get_by_label("Disk format")).to_have_value("vhd")
    look_at(page, "image-upload-form")
    form.get_by_role("button", name="Upload and import").click()

    expect(page.get_by_role("heading", name=re.compile("Import web-04"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    expect(page.locator("#import-state")).to_contain_text("Upload")
    expect(page.locator("#import-state")).to_contain_text("fast")
    look_at(page, "image-upload-task")
    task = ImageTask.objects.get()
    assert (task.method, task.input["filename"]) == ("glance-direct", "web-04.vhd")

    page.locator("#task-status").get_by_role("link", name="Image web-04").click()
    md5 = hashlib.md5(disk, usedforsecurity=False).hexdigest()
    expect(page.get_by_role("heading", name="Image web-04")).to_be_visible()
    expect(page.locator("dd", has_text=md5)).to_be_visible()

    page.get_by_role("link", name="Tasks", exact=True).first.click()
    row = page.locator(f"#task-{task.pk}")
    expect(row).to_contain_text("Success")
    expect(row).to_contain_text("glance-direct")


def test_an_upload_cut_off_mid_way_says_so_and_its_task_is_rejected_with_the_reason(
    page, django_user_model, local_cloud, beat, tmp_path, live_server
):
    """The network drops mid-way: the dashboard gets half the file, the page a dropped
    connection. Sending the file again then works."""
    disk = vhd_samples.fixed_vhd(2 * 1024 * 1024)
    path = tmp_path / "web-05.vhd"
    path.write_bytes(disk)
    capabilities.refresh(local_cloud)
    make_person(django_user_model, local_cloud, "uwe", "operators")
    log_in(page, "uwe")
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    server = urlsplit(live_server.url)

    def drop_half_way(route):
        """Relay the request's first half to the dashboard, then drop both sides."""
        request = route.request
        target = urlsplit(request.url)
        head = (
            f"PUT {target.path}?{target.query} HTTP/1.1\r\nHost: {server.netloc}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {len(disk)}\r\n"
            f"Cookie: {cookies}\r\nX-CSRFToken: {request.headers['x-csrftoken']}\r\n\r\n"
        )
        with socket.create_connection((server.hostname, server.port), timeout=30) as relay:
            relay.sendall(head.encode() + disk[: len(disk) // 2])
            relay.shutdown(socket.SHUT_WR)
            while relay.recv(65536):
                pass
        route.abort("connectionreset")

    form = open_upload_form(page, local_cloud)
    page.route("**/upload-image/**", drop_half_way)
    form.get_by_label("File").set_input_files(str(path))
    form.get_by_role("button", name="Upload and import").click()

    status = form.get_by_role("status")
    expect(status).to_contain_text("The upload was cut off before the whole file arrived")
    expect(status).to_contain_text("Nothing was imported.")
    expect(form.get_by_role("button", name="Upload and import")).to_be_enabled()
    expect(form.get_by_role("button", name="Cancel")).to_be_hidden()
    look_at(page, "image-upload-cut-off")
    cut = ImageTask.objects.get()
    assert cut.status == statuses.REJECTED
    assert cut.message.startswith("The upload was cut off (the upload ended")
    assert not Image.objects.exists(), "the empty image made for the upload was removed"

    page.unroute("**/upload-image/**")
    form.get_by_role("button", name="Upload and import").click()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    assert ImageTask.objects.count() == 2

    page.get_by_role("link", name="Tasks", exact=True).first.click()
    expect(page.locator(f"#task-{cut.pk}")).to_contain_text("Rejected")
    expect(page.locator(f"#task-{cut.pk} + .message-row")).to_contain_text("The upload was cut off")


def test_cancel_stops_an_upload_and_nothing_is_imported(
    page, django_user_model, local_cloud, tmp_path
):
    path = tmp_path / "web-06.vhd"
    path.write_bytes(vhd_samples.fixed_vhd())
    capabilities.refresh(local_cloud)
    make_person(django_user_model, local_cloud, "cora", "operators")
    log_in(page, "cora")
    held = []
    form = open_upload_form(page, local_cloud)
    page.route("**/upload-image/**", lambda route: held.append(route))  # never answered
    form.get_by_label("File").set_input_files(str(path))
    form.get_by_role("button", name="Upload and import").click()
    while not held:
        page.wait_for_timeout(100)

    form.get_by_role("button", name="Cancel").click()

    expect(form.get_by_role("status")).to_contain_text("Upload cancelled. Nothing was imported.")
    expect(form.get_by_role("button", name="Cancel")).to_be_hidden()
    expect(form.get_by_role("button", name="Upload and import")).to_be_enabled()
    assert not ImageTask.objects.exists() and not Image.objects.exists()
