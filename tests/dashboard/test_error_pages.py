"""Our own 403, 404 and 500 pages: in the site's layout, saying why and where to go next,
and never showing a traceback, a setting or a secret."""

from __future__ import annotations

import uuid

from django.test import Client

from imagetasks.dashboard import tables


def test_a_viewer_opening_the_import_form_learns_that_operators_submit(client, viewer):
    client.force_login(viewer)
    response = client.get("/tasks/new/import/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "<h1>You may not do this</h1>" in html
    assert "Only operators submit imports, exports and copies" in html
    assert 'href="/">Go to the task table</a>' in html
    assert 'class="topbar"' in html  # the site's own layout, with its navigation


def test_a_task_that_is_not_there_gets_our_404(client, owner):
    client.force_login(owner)
    response = client.get(f"/tasks/{uuid.uuid4()}/")
    assert response.status_code == 404
    assert "<h1>There is nothing here</h1>" in response.content.decode()


def test_a_crash_shows_our_500_without_the_error_or_any_setting(client, owner, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("password=hunter2 in a local variable")

    monkeypatch.setattr(tables, "page_of", crash)
    client.force_login(owner)
    client.raise_request_exception = False
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in html
    assert "hunter2" not in html and "Traceback" not in html and "SECRET_KEY" not in html


def test_a_form_sent_without_its_csrf_token_says_what_to_do(db, owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post("/profile/", {"email_on_completion": "on"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form could not be sent" in html and "Nothing was submitted" in html
