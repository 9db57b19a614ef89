"""Who is told what, and how often: the outbox written with each recorded change.

These tests record observations the way the poller does and then run what
beat and a worker run (claim what is due, attempt it) in this process, with
Django's in-memory mail backend (``mailoutbox``): what is checked is the
email a person receives.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import ImageTask, Notification, Profile
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import observations, pollstate
from tests.support.factories import closed_port, make_task
from tests.support.notifications import remote, send_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def task(cloud, submitter):
    return make_task(cloud, submitter, status=statuses.PROCESSING, name="web-01")


def observe(task: ImageTask, status: str, **fields) -> bool:
    task.refresh_from_db()
    return observations.record(task, remote(task, status, **fields), timezone.now())


def test_a_task_that_succeeds_emails_its_submitter_once(task, mailoutbox):
    observe(task, "success", result={"image_id": "abc-123"})

    assert send_due() == 1
    assert send_due() == 0
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["sam@example.test"]
    assert email.subject == "[imagetasks] Import web-01: Success"
    assert f"http://127.0.0.1:8000/tasks/{task.pk}/" in email.body
    assert "image_id = abc-123" in email.body


def test_a_failure_email_carries_the_clouds_message_and_its_hint(task, mailoutbox):
    observe(task, "failure", message="Image cannot be imported. Error code: '721'")
    send_due()

    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "[imagetasks] Import web-01: Failure"
    body = mailoutbox[0].body
    assert "Message from the cloud: Image cannot be imported. Error code: '721'" in body
    assert "The VHD depends on a parent disk. Only stand-alone VHDs can be imported." in body


def test_the_link_uses_the_configured_base_url(task, mailoutbox, settings):
    settings.IMAGETASKS_BASE_URL = "https://images.example.com"
    observe(task, "success")
    send_due()
    assert f"https://images.example.com/tasks/{task.pk}/" in mailoutbox[0].body


def test_the_same_ending_observed_twice_is_emailed_once(task, mailoutbox):
    ending = remote(task, "success")
    task.refresh_from_db()
    first_read = ImageTask.objects.get(pk=task.pk)
    assert observations.record(task, ending, timezone.now())
    # A duplicated poll job read the row before the first one wrote it.
    assert not observations.record(first_read, ending, timezone.now())
    send_due()
    assert len(mailoutbox) == 1


def test_a_delivery_job_received_twice_sends_one_email(task, mailoutbox):
    observe(task, "success")
    [(notification_id, claim)] = outbox.claim_due(timezone.now())

    assert outbox.deliver(notification_id, claim)
    assert not outbox.deliver(notification_id, claim)
    assert len(mailoutbox) == 1


def test_changes_before_the_end_send_nothing(cloud, submitter, mailoutbox):
    task = make_task(cloud, submitter, status=statuses.PENDING)
    observe(task, "processing")
    send_due()
    assert mailoutbox == []
    assert not Notification.objects.exists()


def test_no_email_when_the_submitter_switched_it_off(task, submitter, mailoutbox):
    Profile.objects.create(user=submitter, email_on_completion=False)
    observe(task, "success")
    send_due()
    assert mailoutbox == []


def test_no_email_for_a_submitter_without_an_address(task, submitter, mailoutbox):
    submitter.email = ""
    submitter.save()
    observe(task, "success")
    send_due()
    assert mailoutbox == []


def test_no_email_for_a_task_discovered_on_the_cloud(cloud, submitter, mailoutbox):
    task = make_task(
        cloud, submitter, status=statuses.PROCESSING, origin=ImageTask.Origin.DISCOVERED
    )
    observe(task, "success")
    send_due()
    assert mailoutbox == []


def test_a_task_flagged_stale_emails_its_submitter_once(cloud, submitter, mailoutbox):
    task = make_task(cloud, submitter, status=statuses.PENDING, name="slow-01")
    observe(task, "processing")
    ImageTask.objects.filter(pk=task.pk).update(changed_at=timezone.now() - timedelta(hours=7))

    for _ in range(2):  # two quiet polls: flagged once
        task.refresh_from_db()
        pollstate.unchanged(task, timezone.now())
    send_due()

    task.refresh_from_db()
    assert task.stale_since is not None
    assert len(mailoutbox) == 1
    assert mailoutbox[0].subject == "[imagetasks] Import slow-01: stale"
    assert "without any change since" in mailoutbox[0].body
    assert "6 h 0 min" in mailoutbox[0].body


def test_a_mail_server_that_is_down_is_retried_with_backoff_then_given_up(task, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    observe(task, "success")

    send_due()
    notification = Notification.objects.get()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "ConnectionRefusedError" in notification.last_error
    wait = notification.next_attempt_at - notification.last_attempt_at
    assert timedelta(seconds=9) < wait <= timedelta(seconds=11)
    assert send_due() == 0, "not due again before its backoff"

    for _ in range(len(outbox.BACKOFF)):
        Notification.objects.update(next_attempt_at=timezone.now())
        send_due()
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("failed", 6)
