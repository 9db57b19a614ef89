"""The webhook channel: the task's snapshot as JSON, POSTed to the cloud's URL and signed.

Headers: ``X-Imagetasks-Delivery`` (the notification's id, the same on every
retry, so a receiver can drop a repeat), ``X-Imagetasks-Event``,
``X-Imagetasks-Timestamp`` and ``X-Imagetasks-Signature`` (see ``signing``).
Only a 2xx answer counts as delivered; redirects are not followed. The
payload holds what the cloud said and where to see it, never a secret.
"""

from __future__ import annotations

import json
import time

import requests
from django.core.serializers.json import DjangoJSONEncoder

from imagetasks.dashboard import hints
from imagetasks.dashboard.clouds.secretbox import SecretUnreadable
from imagetasks.dashboard.models import Notification
from imagetasks.dashboard.notifications import signing
from imagetasks.dashboard.notifications.errors import DeliveryFailed
from imagetasks.dashboard.notifications.links import task_url

# (connect, read) seconds: a slow receiver fails the attempt, it does not hold a worker.
TIMEOUT = (5.0, 10.0)
EVENTS: dict[str, str] = {
    Notification.Event.OUTCOME: "task.finished",
    Notification.Event.STALE: "task.stale",
}


def payload(notification: Notification) -> dict:
    """What a receiver gets: the snapshot as stored, the task it belongs to, a hint."""
    task, snapshot = notification.task, notification.snapshot
    hint = hints.hint_for_task(task, snapshot.message)
    return {
        "id": notification.pk,
        "event": EVENTS[notification.event],
        "occurred_at": notification.created_at,
        "task": {
            "id": str(task.pk),
            "url": task_url(task.pk),
            "cloud": task.cloud.name,
            "region": task.cloud.region,
            "type": task.type,
            "name": task.name,
            "remote_id": task.remote_id,
            "origin": task.origin,
            "submitted_at": task.submitted_at,
            "submitted_by": task.submitted_by.get_username() if task.submitted_by else None,
        },
        "snapshot": {
            "status": snapshot.status,
            "message": snapshot.message,
            "result": snapshot.result,
            "observed_at": snapshot.observed_at,
            "remote_updated_at": snapshot.remote_updated_at,
            "expires_at": snapshot.expires_at,
            "body": snapshot.body,
        },
        "hint": {"title": hint.title, "advice": hint.advice} if hint else None,
    }


def encode(notification: Notification) -> bytes:
    """The body's bytes: the same for every retry of one notification."""
    return json.dumps(
        payload(notification), cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":")
    ).encode()


def send(notification: Notification) -> None:
    """POST the signed payload once; anything but a 2xx answer is a ``DeliveryFailed``."""
    try:
        secret = notification.task.cloud.reveal_webhook_secret()
    except SecretUnreadable as error:
        raise DeliveryFailed(str(error)) from None
    if not secret:
        raise DeliveryFailed("The cloud has no webhook secret: nothing is sent unsigned.")
    body = encode(notification)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "imagetasks-webhook/1",
        signing.DELIVERY_HEADER: str(notification.pk),
        signing.EVENT_HEADER: EVENTS[notification.event],
        signing.TIMESTAMP_HEADER: timestamp,
        signing.SIGNATURE_HEADER: signing.signature(secret, timestamp, body),
    }
    try:
        response = requests.post(
            notification.target,
            data=body,
            headers=headers,
            timeout=TIMEOUT,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise DeliveryFailed("The receiver did not answer in time.") from None
    except requests.ConnectionError:
        # The exception's text repeats the URL, which may carry a token of the receiver's.
        raise DeliveryFailed("Could not connect to the receiver.") from None
    except requests.RequestException as error:
        raise DeliveryFailed(f"The request failed ({type(error).__name__}).") from None
    if not 200 <= response.status_code < 300:
        raise DeliveryFailed(f"The receiver answered HTTP {response.status_code}.")


def lease_seconds() -> float:
    """How long one attempt can take at most, with a margin."""
    return sum(TIMEOUT) + 15.0
