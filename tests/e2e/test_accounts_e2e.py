"""A person signs in, looks around and signs out in a real browser, with no network beyond the app."""

from playwright.sync_api import expect

from e2e_helpers import log_in, screenshot


def test_demo_member_logs_in_and_out(page, live_server):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screenshot(page, "home")
    log_in(page, "member@demo.coop")
    assert "Hello" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, "dashboard-member")
    page.locator(".user-menu > summary").click()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/")
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    page.goto("/dashboard")
    assert "/login" in page.url
    assert page.console_errors == []


def test_login_form_shows_field_errors(page, live_server):
    page.goto("/login")
    page.get_by_label("Email").fill("member@demo.coop")
    page.get_by_label("Password").fill("wrong-password-1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Wrong email or password.")).to_be_visible()
    screenshot(page, "login-error")


def test_register_as_client(page, live_server):
    page.goto("/register")
    page.get_by_label("Your name").fill("Nadia Park")
    page.get_by_label("Email").fill("nadia.park@example.org")
    page.locator("#password").fill("violet-harbour-42")
    page.get_by_label("Repeat password").fill("violet-harbour-42")
    page.get_by_label("A client: I want to book help").check()
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/dashboard")
    assert "client" in page.content()
