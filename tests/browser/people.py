"""People in browser tests: accounts made in the database, logged in through the form."""

from __future__ import annotations

from django.contrib.auth.models import Group
from playwright.sync_api import expect


def password_of(name: str) -> str:
    return f"pw-{name}-browser"


def make_person(django_user_model, cloud, name: str, group: str):
    """A user in ``group`` (operators, viewers) granted ``cloud`` (None: no cloud)."""
    user = django_user_model.objects.create_user(name, password=password_of(name))
    user.groups.add(Group.objects.get_or_create(name=group)[0])
    if cloud is not None:
        cloud.users.add(user)
    return user


def log_in(page, name: str, password: str | None = None) -> None:
    """Types the login and password into the form, as a person does; waits for the task
    table and its scripts (its dismiss buttons and live rows are htmx's)."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(password or password_of(name))
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()
    page.wait_for_load_state()  # the heading shows before the deferred scripts have run
