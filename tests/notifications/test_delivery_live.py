"""Tasks run on the built-in cloud over HTTP; a real worker polls them and notifies.

A real Celery worker (threads of this process) runs the poll, dispatch and
delivery jobs; a beat thread sends the dispatchers through the broker. Email
goes to Django's in-memory backend (``mailoutbox``), which the worker threads
share with the test; webhooks go to an ``http.server`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Notification
from imagetasks.dashboard.notifications import outbox, signing
from tests.support.tracking import finished, import_disk
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "whsec-for-tests-4b1d"


def _disk() -> bytes:
    from imagetasks.localcloud import vhd_samples

    return vhd_samples.fixed_vhd()


def all_sent(task) -> bool:
    rows = list(Notification.objects.filter(task=task).values_list("status", flat=True))
    return bool(rows) and all(status == "sent" for status in rows)


def with_webhook(cloud, url: str):
    cloud.webhook_url = url
    cloud.set_webhook_secret(SECRET)
    cloud.save()
    return cloud


def test_a_task_ending_on_the_cloud_emails_its_submitter_exactly_once(
    local_cloud, notifying_beat, submitter, mailoutbox
):
    task = import_disk(local_cloud, "mail-01", user=submitter)
    wait_for(lambda: finished(task), what="the import to finish")
    wait_for(lambda: all_sent(task), what="the email to be sent")
    time.sleep(2)  # several more sweeps: nothing is sent again

    assert task.status == statuses.SUCCESS
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["sam@example.test"]
    assert mailoutbox[0].subject == "[imagetasks] Import mail-01: Success"


def test_the_clouds_webhook_receives_the_signed_snapshot_once(
    local_cloud, notifying_beat, submitter, receiver
):
    with_webhook(local_cloud, receiver.url)
    task = import_disk(local_cloud, "hook-01", user=submitter)
    wait_for(lambda: finished(task), what="the import to finish")
    wait_for(lambda: all_sent(task), what="the webhook to be delivered")
    time.sleep(2)

    assert len(receiver.received) == 1
    delivery = receiver.received[0]
    headers = delivery["headers"]
    assert signing.verify(
        SECRET,
        headers["X-Imagetasks-Timestamp"],
        delivery["body"],
        headers["X-Imagetasks-Signature"],
    )
    assert headers["X-Imagetasks-Event"] == "task.finished"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(delivery["body"])
    assert payload["id"] == int(headers["X-Imagetasks-Delivery"])
    assert payload["task"]["id"] == str(task.pk)
    assert payload["task"]["url"] == f"http://127.0.0.1:8000/tasks/{task.pk}/"
    assert payload["snapshot"]["status"] == "success"
    assert payload["snapshot"]["result"] == {"image_id": task.result["image_id"]}
    assert payload["snapshot"]["body"]["id"] == task.remote_id
    raw = delivery["body"].decode()
    assert SECRET not in raw and local_cloud.reveal_secret() not in raw


def test_a_receiver_that_fails_twice_gets_it_on_the_third_try_and_the_page_shows_it(
    local_cloud, notifying_beat, submitter, receiver, monkeypatch, client
):
    # The real waits are 10 s and 30 s; the order and the counting are what is tested.
    monkeypatch.setattr(outbox, "BACKOFF", (timedelta(seconds=0.5),) * 5)
    receiver.answers = [500, 503]
    with_webhook(local_cloud, receiver.url)
    task = import_disk(local_cloud, "hook-02", user=submitter)
    wait_for(lambda: finished(task), what="the import to finish")
    wait_for(lambda: all_sent(task), what="the webhook to be delivered")
    time.sleep(2)

    assert [d["status"] for d in receiver.received] == [500, 503, 204]
    ids = {d["headers"]["X-Imagetasks-Delivery"] for d in receiver.received}
    assert len(ids) == 1, "every try carries the same delivery id"
    webhook = Notification.objects.get(task=task, channel="webhook")
    assert (webhook.status, webhook.attempts) == ("sent", 3)

    local_cloud.users.add(submitter)
    client.force_login(submitter)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    section = page[page.index('id="notifications"') :]
    assert "Webhook" in section and "3 attempts" in section and "Sent" in section
    assert "127.0.0.1" in section
    assert "t0k3n" not in page, "the webhook URL's token is not shown"
    assert "sam@example.test" not in page


def test_tasks_processing_too_long_email_once_that_they_are_stale_then_once_when_they_end(
    local_cloud, notifying_beat, submitter, mailoutbox, settings
):
    disk = _disk()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 6  # about six seconds of processing each
    local_cloud.stale_after = timedelta(seconds=1)
    local_cloud.save()
    # Three in flight: the cloud is followed by list requests, where quiet tasks are flagged.
    tasks = [import_disk(local_cloud, f"slow-0{i}", user=submitter) for i in range(3)]
    for task in tasks:
        wait_for(lambda task=task: finished(task), what="the imports to finish")
        wait_for(lambda task=task: all_sent(task), what="the emails to be sent")
    time.sleep(2)

    subjects = sorted(message.subject for message in mailoutbox)
    assert subjects == sorted(
        f"[imagetasks] Import slow-0{i}: {outcome}"
        for i in range(3)
        for outcome in ("stale", "Success")
    )
    assert local_cloud.__class__.objects.get(pk=local_cloud.pk).list_watermark is not None
