"""Registration, login, logout, password reset and the profile page, through the browser forms."""

import re

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.models import LoginSession, OutboxEmail, PasswordResetToken, User
from marketplace.models.base import utcnow
from support import TEST_PASSWORD


def post_form(client, get_csrf, path, data):
    return client.post(path, data={**data, "csrf_token": get_csrf(client, path)})


def register_data(**overrides):
    data = {"name": "Rosa Diaz", "email": "rosa@example.org", "password": "plum-tree-harbour",
            "confirm": "plum-tree-harbour", "role": "worker"}
    data.update(overrides)
    return data


def test_register_as_worker_logs_in_and_grants_role(client, get_csrf, db):
    resp = post_form(client, get_csrf, "/register", register_data())
    assert resp.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "rosa@example.org"))
    assert user.roles == {"worker"}
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert client.get("/dashboard").status_code == 200


@pytest.mark.parametrize(
    ("overrides", "field_message"),
    [
        ({"password": "password1", "confirm": "password1"}, "too common"),
        ({"password": "short", "confirm": "short"}, "at least 8 characters"),
        ({"confirm": "different-thing"}, "do not match"),
        ({"email": "not-an-email"}, "valid email"),
        ({"role": "admin"}, "Not a valid choice"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_register_rejects_bad_input_beside_the_field(client, get_csrf, db, overrides, field_message):
    resp = post_form(client, get_csrf, "/register", register_data(**overrides))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert field_message in html
    assert 'aria-invalid="true"' in html
    assert db.session.scalar(select(User).where(User.email == "rosa@example.org")) is None


def test_register_duplicate_email_is_refused(client, get_csrf, make_user):
    make_user("client", email="taken@example.org")
    resp = post_form(client, get_csrf, "/register", register_data(email="Taken@Example.org"))
    assert resp.status_code == 200
    assert "already exists" in resp.get_data(as_text=True)


def test_login_wrong_password_and_unknown_email_say_the_same(client, get_csrf, make_user):
    user = make_user("client")
    wrong = post_form(client, get_csrf, "/login", {"email": user.email, "password": "not-the-password"})
    unknown = post_form(client, get_csrf, "/login", {"email": "nobody@example.org", "password": "whatever-123"})
    for resp in (wrong, unknown):
        assert resp.status_code == 200
        assert "Wrong email or password." in resp.get_data(as_text=True)
    assert client.get("/dashboard").status_code == 302


def test_login_redirect_ignores_offsite_next(client, get_csrf, make_user):
    user = make_user("client")
    path = "/login?next=https://evil.example/phish"
    form = {"email": user.email, "password": TEST_PASSWORD, "csrf_token": get_csrf(client, path)}
    resp = client.post(path, data=form)
    assert resp.status_code == 302
    assert "evil.example" not in resp.headers["Location"]


def test_session_cookie_copied_before_logout_no_longer_authenticates(app, client, login, make_user):
    user = make_user("worker")
    login(user)
    assert client.get("/dashboard").status_code == 200
    stolen = client.get_cookie("session").value

    html = client.get("/dashboard").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", stolen, domain="localhost")
    resp = replay.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_each_login_starts_a_new_server_session(client, login, make_user, db):
    user = make_user("client")
    login(user)
    first = client.get_cookie("session").value
    login(user, test_client=client.application.test_client())
    sessions = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len({s.sid for s in sessions}) == 2
    assert first


def request_reset(client, get_csrf, email):
    return post_form(client, get_csrf, "/password/forgot", {"email": email})


def reset_link(db, email) -> str:
    mail = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == email)
                              .order_by(OutboxEmail.id.desc())).first()
    assert mail is not None, "no reset email in the outbox"
    return re.search(r"http://localhost(/password/reset/\S+)", mail.body_text).group(1)


def test_password_reset_works_once(client, get_csrf, make_user, db):
    user = make_user("client")
    assert request_reset(client, get_csrf, user.email).status_code == 302
    link = reset_link(db, user.email)
    ok = post_form(client, get_csrf, link, {"password": "new-lantern-river", "confirm": "new-lantern-river"})
    assert ok.status_code == 302
    again = post_form(client, get_csrf, link, {"password": "another-lantern-9", "confirm": "another-lantern-9"})
    assert again.status_code == 200 and "already been used" in again.get_data(as_text=True)
    login = post_form(client, get_csrf, "/login", {"email": user.email, "password": "new-lantern-river"})
    assert login.status_code == 302


def test_password_reset_expired_or_bogus_token(client, get_csrf, make_user, db):
    user = make_user("client")
    request_reset(client, get_csrf, user.email)
    link = reset_link(db, user.email)
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    row.expires_at = utcnow()
    db.session.commit()
    expired = post_form(client, get_csrf, link, {"password": "new-lantern-river", "confirm": "new-lantern-river"})
    assert expired.status_code == 200 and "expired" in expired.get_data(as_text=True)
    bogus = post_form(client, get_csrf, "/password/reset/not-a-token",
                      {"password": "new-lantern-river", "confirm": "new-lantern-river"})
    assert bogus.status_code == 200 and "not valid" in bogus.get_data(as_text=True)


def test_password_reset_refuses_common_password(client, get_csrf, make_user, db):
    user = make_user("client")
    request_reset(client, get_csrf, user.email)
    link = reset_link(db, user.email)
    resp = post_form(client, get_csrf, link, {"password": "qwertyuiop", "confirm": "qwertyuiop"})
    assert resp.status_code == 200 and "too common" in resp.get_data(as_text=True)


def test_reset_request_for_unknown_email_reveals_nothing(client, get_csrf, db):
    resp = request_reset(client, get_csrf, "ghost@example.org")
    assert resp.status_code == 302
    assert db.session.scalar(select(OutboxEmail)) is None


def test_profile_update_requires_current_password_for_email_change(client, login, get_csrf, make_user, db):
    user = make_user("client")
    login(user)
    resp = post_form(client, get_csrf, "/account/", {"name": "New Name", "email": "new@example.org",
                                                      "current_password": "", "new_password": "", "confirm": ""})
    assert resp.status_code == 200 and "current password" in resp.get_data(as_text=True)
    resp = post_form(client, get_csrf, "/account/", {"name": "New Name", "email": "new@example.org",
                                                      "current_password": TEST_PASSWORD, "new_password": "",
                                                      "confirm": ""})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "new@example.org"


def test_error_pages_are_html_outside_api_and_json_inside(client):
    html = client.get("/no-such-page")
    assert html.status_code == 404 and b"<html" in html.data
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.get_json()["error"]["code"] == "not_found"


def test_security_headers_on_pages_and_errors(client):
    for path in ("/", "/no-such-page"):
        resp = client.get(path)
        assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_unexpected_error_gives_500_page(app, client):
    @app.get("/boom-for-test")
    def boom():
        raise RuntimeError("boom")

    resp = client.get("/boom-for-test")
    assert resp.status_code == 500 and b"Something went wrong" in resp.data


def test_urls_build(app):
    with app.test_request_context():
        assert url_for("auth.reset_password", token="x").endswith("/password/reset/x")
