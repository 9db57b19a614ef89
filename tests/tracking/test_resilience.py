"""Nothing is lost and nothing is recorded twice when the cloud, the broker or a worker fails.

The built-in cloud misbehaves on request (fault injection in the real server),
workers are real, and one test kills a worker process with SIGKILL.
"""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.clouds.clients import client_for
from imagetasks.dashboard.models import Cloud, ImageTask, TaskSnapshot
from imagetasks.dashboard.tracking import dispatcher, observations, poller, submission
from imagetasks.localcloud import vhd_samples
from imagetasks.localcloud.models import CloudTask
from tests.support.tracking import finished, import_disk, timeline, upload
from tests.support.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_under_injected_faults_every_task_still_reaches_its_right_end(local_cloud, beat, settings):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 2
    good = [import_disk(local_cloud, name=f"ok-{i}", data=disk) for i in range(3)]
    bad = submission.submit(
        local_cloud, "import", {"import_from": "images/none.vhd", "image_properties": {}}
    )

    settings.LOCALCLOUD_FAULT_ERROR_RATE = 0.3
    settings.LOCALCLOUD_FAULT_LATENCY = 0.05
    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 0.15
    settings.LOCALCLOUD_FAULT_UNAUTHORIZED_RATE = 0.1
    for task in [*good, bad]:
        wait_for(lambda task=task: finished(task), timeout=120, what=f"{task.name} to end")

    assert [t.status for t in good] == [statuses.SUCCESS] * 3
    assert bad.status == statuses.FAILURE
    assert bad.message == "Image not found for import. Possible invalid location"
    for task in [*good, bad]:
        steps = timeline(task)
        assert len(steps) == len(set(steps)), f"a status was recorded twice: {steps}"
        assert steps[-1] == task.status


def test_a_broken_answer_is_recorded_on_the_task_and_polling_goes_on(local_cloud, beat, settings):
    disk = vhd_samples.fixed_vhd()
    settings.LOCALCLOUD_RATE_LIMIT = len(disk) // 6
    task = import_disk(local_cloud, name="garbled", data=disk)

    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 1.0
    wait_for(
        lambda: ImageTask.objects.get(pk=task.pk).poll_errors >= 2, what="errors to be recorded"
    )
    task.refresh_from_db()
    assert task.status in statuses.IN_FLIGHT, "a broken answer never fails a task"
    assert task.last_error.startswith("MalformedResponse")

    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 0.0
    wait_for(lambda: finished(task), what="the import to finish")
    assert task.status == statuses.SUCCESS
    assert task.poll_errors == 0, "the error count resets once the cloud answers again"


def test_an_unanswered_submission_is_found_on_the_cloud_not_posted_again(
    local_cloud, beat, settings, monkeypatch
):
    monkeypatch.setattr(submission, "RECONCILE_DELAY", 0.5)
    upload(local_cloud, "images", "lost.vhd", vhd_samples.fixed_vhd())
    client_for(local_cloud).images.get_task_schema()  # authenticate before the faults start

    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 1.0  # the task is created, its answer is cut
    task = submission.submit(
        local_cloud, "import", {"import_from": "images/lost.vhd", "image_properties": {}}
    )
    assert task.status == statuses.UNCONFIRMED
    assert "MalformedResponse" in task.last_error
    settings.LOCALCLOUD_FAULT_MALFORMED_RATE = 0.0

    wait_for(lambda: finished(task), what="the reconciled task to finish")
    assert task.status == statuses.SUCCESS
    assert CloudTask.objects.count() == 1, "the app never posted the task a second time"
    assert task.remote_id == str(CloudTask.objects.get().id)


def test_the_same_form_sent_twice_creates_one_task(local_cloud, workers):
    upload(local_cloud, "images", "once.vhd", vhd_samples.fixed_vhd())
    form_id = uuid.uuid4()
    payload = {"import_from": "images/once.vhd", "image_properties": {"name": "once"}}

    first = submission.submit(local_cloud, "import", payload, submission_id=form_id)
    second = submission.submit(local_cloud, "import", payload, submission_id=form_id)

    assert first.pk == second.pk == form_id
    assert CloudTask.objects.count() == 1


def test_a_duplicated_poll_message_writes_no_second_snapshot(local_cloud, workers):
    task = import_disk(local_cloud, name="dup")
    remote = client_for(local_cloud).images.get_task(task.remote_id)
    task.refresh_from_db()

    observations.record(task, remote, timezone.now())  # new, or the body seen at POST
    task.refresh_from_db()
    assert observations.record(task, remote, timezone.now()) is None, "recorded twice"
    task.refresh_from_db()
    ImageTask.objects.filter(pk=task.pk).update(next_poll_at=timezone.now())
    claimed = dispatcher.claim_due(timezone.now())
    poller.poll(local_cloud.pk, claimed[local_cloud.pk])
    requests_again = poller.poll(local_cloud.pk, claimed[local_cloud.pk])  # the duplicate

    assert requests_again == 0, "the second delivery found nothing claimed"
    bodies = list(TaskSnapshot.objects.filter(task=task).values_list("fingerprint", flat=True))
    assert len(bodies) == len(set(bodies))


def test_two_dispatchers_at_once_never_claim_a_task_or_a_cloud_twice(transactional_db):
    due = timezone.now()
    for name in ("busy", "busier", "busiest"):
        cloud = Cloud.objects.create(
            name=name, auth_type="none", image_endpoint="http://127.0.0.1:9"
        )
        ImageTask.objects.bulk_create(
            ImageTask(cloud=cloud, type="import", status="pending", next_poll_at=due)
            for _ in range(100)
        )
    start = threading.Barrier(2)
    claims: list[dict] = []

    def dispatch():
        start.wait()
        claims.append(dispatcher.claim_due(timezone.now()))

    threads = [threading.Thread(target=dispatch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    first, second = ({i for ids in c.values() for i in ids} for c in claims)
    assert not first & second, "a task was claimed by both dispatchers"
    assert not set(claims[0]) & set(claims[1]), "a cloud got two poll jobs at once"
    assert len(first | second) == 300


def test_a_clouds_secret_never_leaves_the_vault(local_cloud, beat, account, admin_client, caplog):
    caplog.set_level("DEBUG")
    secret = account.password
    task = import_disk(local_cloud, name="secretive")
    wait_for(lambda: finished(task), what="the import to finish")
    wrong = Cloud.objects.create(
        name="wrong", auth_type="v3password", auth_url=local_cloud.auth_url,
        username=account.user.name, project_name=account.project.name,
    )  # fmt: skip
    wrong.set_secret(secret + "-but-wrong")
    wrong.save()
    refused = submission.submit(wrong, "import", {"import_from": "images/x.vhd"})

    assert refused.status == statuses.REJECTED
    evidence = [
        caplog.text,
        refused.message,
        refused.last_error,
        json.dumps(list(TaskSnapshot.objects.values_list("body", flat=True))),
        admin_client.get(f"/admin/dashboard/cloud/{local_cloud.pk}/change/").content.decode(),
        admin_client.get("/admin/dashboard/cloud/").content.decode(),
        admin_client.get(f"/admin/dashboard/imagetask/{task.pk}/change/").content.decode(),
        repr(local_cloud),
        repr(client_for(local_cloud)),
    ]
    for text in evidence:
        assert secret not in text
    assert local_cloud.reveal_secret() == secret
