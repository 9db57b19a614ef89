"""Absolute links for messages read outside the site (emails, webhook receivers)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def task_url(task_id) -> str:
    return settings.IMAGETASKS_BASE_URL + reverse("dashboard:task", kwargs={"task_id": task_id})


def profile_url() -> str:
    return settings.IMAGETASKS_BASE_URL + reverse("dashboard:profile")
