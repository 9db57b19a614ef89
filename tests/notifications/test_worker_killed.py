"""A worker killed (SIGKILL) while it sends a notification: it is still sent, once.

Real processes: a ``celery worker`` subprocess polls the task on the built-in
cloud, records its end (and so the notification, in the same transaction),
then starts sending the email to a mail server that hangs. It is killed right
there. A second worker takes the row once the dead one's lease runs out and
sends it. The workers speak SMTP to a server in this test (a worker in
another process cannot reach the test's in-memory outbox).
"""

from __future__ import annotations

import logging
import time

import pytest
from django.utils import timezone

from imagetasks.dashboard.jobs import deliver_notification, poll_cloud
from imagetasks.dashboard.models import Notification
from imagetasks.dashboard.notifications import outbox
from imagetasks.dashboard.tracking import dispatcher
from tests.notifications.mailserver import MailServer
from tests.support.beat import ticking
from tests.support.tracking import import_disk
from tests.support.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

log = logging.getLogger(__name__)
# Each step of talking to the mail server may take this long; the lease of an
# attempt is derived from it (5 × 3 s + 10 s).
EMAIL_TIMEOUT = "3"


@pytest.fixture
def mail_server():
    with MailServer() as server:
        yield server


@pytest.fixture
def test_beat(queues):
    """What beat drives, from this process, onto the test's own queue."""

    def send_due_work():
        now = timezone.now()
        until = dispatcher.lease_end(now).isoformat()
        for cloud_id, ids in dispatcher.claim_due(now).items():
            poll_cloud.apply_async((cloud_id, ids, until), queue=queues["dashboard"])
        for notification_id, claim in outbox.claim_due(now):
            deliver_notification.apply_async((notification_id, claim), queue=queues["dashboard"])

    with ticking(send_due_work, interval=0.5):
        yield


def test_a_worker_killed_while_sending_leaves_the_email_to_be_sent_once_after_restart(
    local_cloud, queues, test_beat, submitter, mail_server, tmp_path
):
    mail = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_server.port),
        "EMAIL_TIMEOUT": EMAIL_TIMEOUT,
    }
    mail_server.answering.clear()  # the relay accepts connections and says nothing
    first = WorkerProcess(list(queues.values()), tmp_path / "worker-a.log", **mail)
    second = None
    try:
        task = import_disk(local_cloud, "killed-01", user=submitter)

        def sending():
            row = Notification.objects.filter(task=task).first()
            # Begun and not failed: the attempt is under way, holding its lease.
            underway = row and row.attempts == 1 and row.status == "pending" and not row.last_error
            return underway and mail_server.connections

        wait_until(sending, 90, "the first worker to start sending", [first])
        first.kill()
        mail_server.answering.set()
        second = WorkerProcess(list(queues.values()), tmp_path / "worker-b.log", **mail)

        wait_until(
            lambda: Notification.objects.get(task=task).status == "sent",
            90,
            "the email to be sent after the restart",
            [first, second],
        )
        time.sleep(2)  # more sweeps: nothing is sent again
    finally:
        first.stop()
        if second is not None:
            second.stop()

    task.refresh_from_db()
    assert task.status == "success"
    assert len(mail_server.messages) == 1
    message = mail_server.messages[0]
    assert message["To"] == "sam@example.test"
    assert message["Subject"] == "[imagetasks] Import killed-01: Success"
    notification = Notification.objects.get(task=task)
    assert notification.attempts == 2, "the killed attempt, then the one that got through"
