"""The email channel: one plain-text message to the person who submitted the task.

Sent through Django's configured backend (the console in the embedded
default, SMTP when ``EMAIL_HOST`` is set), with ``EMAIL_TIMEOUT`` on every
step so a mail server that hangs fails the attempt instead of holding it.
"""

from __future__ import annotations

import smtplib

from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from imagetasks.dashboard import hints, statuses
from imagetasks.dashboard.models import Notification
from imagetasks.dashboard.notifications.errors import DeliveryFailed
from imagetasks.dashboard.notifications.links import profile_url, task_url


def render(notification: Notification) -> EmailMessage:
    """The message for a notification: name, outcome, message with its hint, and a link."""
    task, snapshot = notification.task, notification.snapshot
    context = {
        "task": task,
        "snapshot": snapshot,
        "status": statuses.get(snapshot.status),
        "stale": notification.event == Notification.Event.STALE,
        "hint": hints.hint_for_task(task, snapshot.message),
        "url": task_url(task.pk),
        "profile_url": profile_url(),
    }
    subject = render_to_string("notifications/email_subject.txt", context)
    body = render_to_string("notifications/email_body.txt", context)
    return EmailMessage(subject=" ".join(subject.split()), body=body, to=[notification.target])


def send(notification: Notification) -> None:
    """Hand the message to the mail backend; a refusal or a hang is a ``DeliveryFailed``."""
    message = render(notification)
    try:
        sent = message.send()
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}"[:500]) from error
    if not sent:
        raise DeliveryFailed("The mail backend accepted no message.")
