"""Factories for the dashboard's rows: clouds nobody answers for, people, tasks, snapshots."""

from __future__ import annotations

import socket
import uuid
from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from imagetasks.dashboard import statuses
from imagetasks.dashboard.models import Cloud, Copy, ImageTask, Notification, TaskSnapshot
from imagetasks.dashboard.models.snapshots import fingerprint

PASSWORD = "s3cret-pass-for-tests"


def closed_port() -> int:
    """A local port nobody listens on: a cloud there is down (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_cloud(name: str = "acme", **fields) -> Cloud:
    """A cloud nobody answers for: pages that only read the database still work.

    Its capabilities count as checked, nothing learnt (so the import page offers the tasks
    API form); ``capabilities_checked_at=None`` makes a cloud never asked.
    """
    port = closed_port()
    fields.setdefault("capabilities_checked_at", timezone.now())
    fields.setdefault("auth_type", Cloud.AuthType.NONE)
    fields.setdefault("image_endpoint", f"http://127.0.0.1:{port}/image")
    fields.setdefault("object_store_endpoint", f"http://127.0.0.1:{port}/v1/AUTH_x")
    fields.setdefault("timeout", 2.0)
    fields.setdefault("region", "RegionOne")
    return Cloud.objects.create(name=name, **fields)


def make_user(django_user_model, name: str, *groups: str):
    user = django_user_model.objects.create_user(name, password=PASSWORD)
    for group in groups:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


def make_task(cloud: Cloud, user=None, *, status: str = statuses.PENDING, **fields) -> ImageTask:
    fields.setdefault("type", "import")
    if fields["type"] == "import":
        fields.setdefault(
            "input", {"import_from": "images/web.vhd", "image_properties": {"name": "web"}}
        )
        fields.setdefault("name", "web")
    else:
        fields.setdefault(
            "input", {"image_uuid": str(uuid.uuid4()), "receiving_swift_container": "exports"}
        )
    fields.setdefault("remote_id", str(uuid.uuid4()))
    return ImageTask.objects.create(cloud=cloud, submitted_by=user, status=status, **fields)


def add_snapshot(task: ImageTask, status: str, message: str = "", **body) -> TaskSnapshot:
    body = {"id": task.remote_id, "status": status, "message": message, **body}
    return TaskSnapshot.objects.create(
        task=task,
        observed_at=timezone.now(),
        status=status,
        message=message,
        body=body,
        fingerprint=fingerprint(body),
        expires_at=timezone.now() + timedelta(hours=48) if status == "success" else None,
    )


def make_copy(source: Cloud, target: Cloud, *, status: str = statuses.COPY_EXPORTING, **fields):
    fields.setdefault("source_image_id", str(uuid.uuid4()))
    fields.setdefault("target_name", "web")
    fields.setdefault("staging_container", "imagetasks-staging")
    return Copy.objects.create(source_cloud=source, target_cloud=target, status=status, **fields)


def make_notification(
    task: ImageTask, *, channel: str = Notification.Channel.EMAIL, **fields
) -> Notification:
    """A notice in the outbox about ``task``'s latest snapshot (one is added if it has none)."""
    snapshot = task.snapshots.order_by("-observed_at").first() or add_snapshot(task, task.status)
    fields.setdefault("event", Notification.Event.OUTCOME)
    fields.setdefault("target", "owner@example.com")
    fields.setdefault("next_attempt_at", timezone.now())
    return Notification.objects.create(task=task, snapshot=snapshot, channel=channel, **fields)


def client_for_user(client, user):
    if user is not None:
        client.force_login(user)
    return client


def logged_in(client, user, *clouds: Cloud):
    """``client`` logged in as ``user``, who is granted ``clouds`` first."""
    for cloud in clouds:
        cloud.users.add(user)
    client.force_login(user)
    return client
