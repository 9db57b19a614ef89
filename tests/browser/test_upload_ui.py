"""Uploading a disk image from the browser, with its progress, then importing it."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import ImageTask
from imagetasks.localcloud import vhd_samples
from imagetasks.openstack import NotFound
from tests.browser.imports import open_new_import
from tests.browser.looks import look_at
from tests.browser.people import log_in, make_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_operator_uploads_a_vhd_with_a_progress_bar_and_imports_it(
    page, django_user_model, local_cloud, beat, tmp_path
):
    disk = vhd_samples.fixed_vhd()
    path = tmp_path / "web-02.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, local_cloud, "ursula", "operators")
    log_in(page, "ursula")

    open_new_import(page)
    upload = page.locator("#upload-form")
    expect(upload.get_by_role("button", name="Cancel")).to_be_hidden()  # until an upload runs
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_label("Container").fill("uploads")
    upload.get_by_role("button", name="Upload").click()

    expect(upload.get_by_role("status")).to_contain_text("Uploaded uploads/web-02.vhd")
    # The source browser now shows where the file went.
    expect(page.locator("#browser").get_by_role("link", name="web-02.vhd")).to_be_visible()
    assert upload.locator("progress").evaluate("p => p.value === p.max && p.max > 0")
    form = page.locator("#import-form")
    expect(form.get_by_label("Container")).to_have_value("uploads")
    expect(form.get_by_label("Object", exact=True)).to_have_value("web-02.vhd")
    expect(form.get_by_label("Image name")).to_have_value("web-02")
    with client_for(local_cloud).objects.get_object("uploads", "web-02.vhd") as stored:
        assert b"".join(stored.iter_content()) == disk

    form.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name=re.compile("Import"))).to_be_visible()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=60_000)
    assert ImageTask.objects.get().input["import_from"] == "uploads/web-02.vhd"


def test_an_upload_the_cloud_refuses_shows_why_and_keeps_the_form(
    page, django_user_model, local_cloud, tmp_path
):
    path = tmp_path / "empty.vhd"
    path.write_bytes(b"")
    make_person(django_user_model, local_cloud, "uma", "operators")
    log_in(page, "uma")

    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_role("button", name="Upload").click()

    expect(upload.get_by_role("status")).to_contain_text("The file is empty")
    expect(upload.get_by_role("button", name="Upload")).to_be_enabled()
    expect(page.locator("#import-form").get_by_label("Object", exact=True)).to_have_value("")


MiB = 1024 * 1024


def segment_index(url: str) -> int:
    return int(parse_qs(urlsplit(url).query)["index"][0])


def choose_and_upload(upload, path) -> None:
    upload.get_by_label("File").set_input_files(str(path))
    upload.get_by_label("Container").fill("uploads")
    upload.get_by_role("button", name="Upload").click()


def test_a_file_larger_than_a_segment_goes_up_in_segments_and_imports_whole(
    page, django_user_model, segmenting_cloud, beat, tmp_path
):
    disk = vhd_samples.fixed_vhd(20 * MiB - 512)  # with its footer, 20 MiB: 7 segments of 3 MiB
    path = tmp_path / "big-01.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, segmenting_cloud, "sam", "operators")
    log_in(page, "sam")
    sent: list[int] = []
    page.on("request", lambda r: "/upload-segment/" in r.url and sent.append(segment_index(r.url)))

    open_new_import(page)
    upload = page.locator("#upload-form")
    choose_and_upload(upload, path)

    expect(upload.get_by_role("status")).to_contain_text(
        "Uploaded uploads/big-01.vhd (20.0 MiB in 7 segments, checksum verified)", timeout=60_000
    )
    assert sent == [0, 1, 2, 3, 4, 5, 6]
    assert upload.locator("progress").evaluate("p => p.value === p.max && p.max > 0")
    expect(page.locator("#browser").get_by_role("link", name="big-01.vhd")).to_be_visible()
    objects = client_for(segmenting_cloud).objects
    assert objects.head_object("uploads", "big-01.vhd").static_large_object
    segments = [o.name for o in objects.list_objects("uploads_segments")]
    assert len(segments) == 7
    assert all(name.startswith("big-01.vhd/slo/") for name in segments)
    look_at(page, "upload-segments-done")

    form = page.locator("#import-form")
    expect(form.get_by_label("Object", exact=True)).to_have_value("big-01.vhd")
    form.get_by_role("button", name="Import").click()
    expect(page.locator("#task-status")).to_contain_text("Success", timeout=90_000)
    task = ImageTask.objects.get()
    image = client_for(segmenting_cloud).images.get_image(task.result["image_id"])
    assert image.checksum == hashlib.md5(disk, usedforsecurity=False).hexdigest()


def test_an_upload_that_dropped_sends_only_the_missing_segments_when_the_file_is_chosen_again(
    page, django_user_model, segmenting_cloud, tmp_path
):
    disk = vhd_samples.fixed_vhd(20 * MiB - 512)
    path = tmp_path / "big-02.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, segmenting_cloud, "rita", "operators")
    log_in(page, "rita")
    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    tried: list[int] = []

    def drop_the_third(route):
        tried.append(segment_index(route.request.url))
        if len(tried) == 3:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/upload-segment/**", drop_the_third)
    choose_and_upload(upload, path)
    expect(upload.get_by_role("status")).to_contain_text(
        "The upload stopped: the network dropped. The 2 segments already stored are kept: "
        "choose the same file and press Upload again to send the rest.",
        timeout=60_000,
    )
    expect(upload.get_by_role("button", name="Upload")).to_be_enabled()
    page.unroute("**/upload-segment/**")
    assert tried == [0, 1, 2]

    sent: list[int] = []
    page.on("request", lambda r: "/upload-segment/" in r.url and sent.append(segment_index(r.url)))
    choose_and_upload(upload, path)

    expect(upload.get_by_role("status")).to_contain_text(
        "Uploaded uploads/big-02.vhd (20.0 MiB in 7 segments, 2 of them already stored, "
        "checksum verified)",
        timeout=60_000,
    )
    assert sent == [2, 3, 4, 5, 6]
    with client_for(segmenting_cloud).objects.get_object("uploads", "big-02.vhd") as stored:
        assert hashlib.md5(b"".join(stored.iter_content()), usedforsecurity=False).digest() == (
            hashlib.md5(disk, usedforsecurity=False).digest()
        )


def test_cancel_stops_a_segmented_upload_and_leaves_no_segment(
    page, django_user_model, segmenting_cloud, tmp_path
):
    path = tmp_path / "big-03.vhd"
    path.write_bytes(vhd_samples.fixed_vhd(20 * MiB - 512))
    make_person(django_user_model, segmenting_cloud, "carl", "operators")
    log_in(page, "carl")
    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    held = []

    def hold_the_third(route):
        if segment_index(route.request.url) == 2:
            held.append(route)  # never answered: the segment hangs, as on a stalled network
        else:
            route.continue_()

    page.route("**/upload-segment/**", hold_the_third)
    choose_and_upload(upload, path)
    while not held:
        page.wait_for_timeout(100)
    expect(upload.get_by_role("status")).to_contain_text(
        "(sending segment 3 of 7, 6.0 MiB of 20.0 MiB sent)"
    )
    look_at(page, "upload-segments-sending")
    upload.get_by_role("button", name="Cancel").click()

    expect(upload.get_by_role("status")).to_contain_text(
        "Upload cancelled: the 2 segments already stored were removed. Nothing was kept."
    )
    expect(upload.get_by_role("button", name="Cancel")).to_be_hidden()
    objects = client_for(segmenting_cloud).objects
    assert list(objects.list_objects("uploads_segments")) == []
    with pytest.raises(NotFound):
        objects.head_object("uploads", "big-03.vhd")


def flip_a_byte_of(route) -> None:
    """Send the request on with one byte of its body changed, as a faulty network might."""
    body = bytearray(route.request.post_data_buffer)
    body[len(body) // 2] ^= 0xFF
    route.continue_(post_data=bytes(body))


def segment_requests(page) -> list[tuple[str, int, bool]]:
    """Each request to upload-segment as (method, index, whether it carried the MD5)."""
    seen: list[tuple[str, int, bool]] = []

    def note(request) -> None:
        if "/upload-segment/" in request.url:
            query = parse_qs(urlsplit(request.url).query)
            seen.append((request.method, int(query["index"][0]), "md5" in query))

    page.on("request", note)
    return seen


def test_a_segment_that_arrives_different_is_removed_and_sent_again_with_its_md5(
    page, django_user_model, segmenting_cloud, tmp_path
):
    disk = vhd_samples.fixed_vhd(8 * MiB - 512)  # 3 segments of 3, 3 and 2 MiB
    path = tmp_path / "big-04.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, segmenting_cloud, "fay", "operators")
    log_in(page, "fay")
    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    seen = segment_requests(page)
    changed: list[int] = []

    def change_the_first_send_of_the_second(route):
        if route.request.method == "PUT" and segment_index(route.request.url) == 1 and not changed:
            changed.append(1)
            flip_a_byte_of(route)
        else:
            route.continue_()

    page.route("**/upload-segment/**", change_the_first_send_of_the_second)
    choose_and_upload(upload, path)

    expect(upload.get_by_role("status")).to_contain_text(
        "Uploaded uploads/big-04.vhd (8.0 MiB in 3 segments, checksum verified)", timeout=60_000
    )
    # Sent while hashed, without the MD5; the one that arrived different was removed and
    # sent again with its MD5 for the store to check.
    assert seen == [
        ("PUT", 0, False), ("PUT", 1, False), ("DELETE", 1, False), ("PUT", 1, True),
        ("PUT", 2, False),
    ]  # fmt: skip
    assert upload.locator("progress").evaluate("p => p.value === p.max && p.max > 0")
    with client_for(segmenting_cloud).objects.get_object("uploads", "big-04.vhd") as stored:
        assert b"".join(stored.iter_content()) == disk


def test_a_segment_that_arrives_different_twice_is_not_kept_and_the_page_says_so(
    page, django_user_model, segmenting_cloud, tmp_path
):
    disk = vhd_samples.fixed_vhd(8 * MiB - 512)
    path = tmp_path / "big-05.vhd"
    path.write_bytes(disk)
    make_person(django_user_model, segmenting_cloud, "gil", "operators")
    log_in(page, "gil")
    page.goto("/tasks/new/import/?cloud=local")
    upload = page.locator("#upload-form")
    seen = segment_requests(page)

    def change_every_send_of_the_second(route):
        if route.request.method == "PUT" and segment_index(route.request.url) == 1:
            flip_a_byte_of(route)
        else:
            route.continue_()

    page.route("**/upload-segment/**", change_every_send_of_the_second)
    choose_and_upload(upload, path)

    status = upload.get_by_role("status")
    expect(status).to_contain_text(
        "Segment 1 arrived different from the file (its MD5 is not the one the page computed); "
        "it was not stored. The 1 segment already stored is kept: choose the same file and "
        "press Upload again to send the rest.",
        timeout=60_000,
    )
    expect(status).to_have_class(re.compile(r"\berror\b"))
    expect(upload.get_by_role("button", name="Upload")).to_be_enabled()
    assert seen == [("PUT", 0, False), ("PUT", 1, False), ("DELETE", 1, False), ("PUT", 1, True)]
    objects = client_for(segmenting_cloud).objects
    assert [o.name.rsplit("/", 1)[1] for o in objects.list_objects("uploads_segments")] == [
        "00000000"
    ]
    with pytest.raises(NotFound):
        objects.head_object("uploads", "big-05.vhd")
    look_at(page, "upload-segment-arrived-different")
