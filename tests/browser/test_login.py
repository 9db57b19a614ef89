import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_a_person_logs_in_through_the_form_and_sees_the_dashboard(page, operator, screenshot):
    page.goto("/")
    assert "/accounts/login/" in page.url

    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("s3cret-pass-olivia")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Image tasks")).to_be_visible()
    expect(page.get_by_text("No tasks yet")).to_be_visible()
    expect(page.get_by_text("olivia")).to_be_visible()
    screenshot("login-dashboard")


def test_a_wrong_password_keeps_the_person_on_the_login_form(page, operator):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("olivia")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    assert "/accounts/login/" in page.url
