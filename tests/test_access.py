"""Login is required everywhere except /healthz and /metrics (which checks a token of its own)."""

import pytest


@pytest.mark.parametrize("path", ["/", "/admin/"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_a_logged_in_user_sees_the_empty_dashboard(operator_client):
    response = operator_client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "No tasks yet" in page
    assert "olivia" in page


def test_the_page_loads_htmx_from_our_own_server(operator_client):
    page = operator_client.get("/").content.decode()
    assert '<script src="/static/django_htmx/htmx' in page
    assert "https://" not in page


def test_logging_in_with_a_wrong_password_says_so(client, operator):
    response = client.post("/accounts/login/", {"username": "olivia", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logging_out_ends_the_session(operator_client):
    operator_client.post("/accounts/logout/")
    assert operator_client.get("/").status_code == 302
