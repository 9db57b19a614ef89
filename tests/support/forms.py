"""Posting the dashboard's forms that work on one cloud, and reading what they refused."""

from __future__ import annotations


def post_form(client, page: str, cloud, defaults: dict, fields: dict):
    """POST the form on ``page`` for ``cloud``, as the page's own form names it: the cloud,
    then ``defaults``, then the test's ``fields`` over both."""
    data = {"cloud": cloud.name, **defaults, **fields}
    return client.post(f"{page}?cloud={cloud.name}", data)


def errors_of(response) -> dict:
    """The errors of the form the page rendered again, by field."""
    return response.context["form"].errors
