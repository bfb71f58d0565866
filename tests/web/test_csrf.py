"""Every browser form route refuses a state-changing request without a CSRF token."""

import re

from flask import url_for

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


def sample_value(converter) -> str:
    from werkzeug.routing.converters import NumberConverter

    return "1" if isinstance(converter, NumberConverter) else "sample"


def form_routes(app):
    for rule in app.url_map.iter_rules():
        methods = STATE_CHANGING & set(rule.methods or ())
        if not methods or rule.rule.startswith("/api/"):
            continue
        path = rule.rule
        for name, converter in rule._converters.items():
            path = re.sub(rf"<(?:[^>:]+:)?{name}>", sample_value(converter), path)
        yield rule, path, methods


def test_every_form_route_rejects_missing_csrf_token(app, client, login, make_user):
    routes = list(form_routes(app))
    assert any(rule.endpoint == "auth.logout" for rule, _, _ in routes)
    assert any(rule.endpoint == "auth.login" for rule, _, _ in routes)
    login(make_user("client", "worker", "member", "treasurer", "admin"))
    for rule, path, methods in routes:
        for method in methods:
            resp = client.open(path, method=method, data={"anything": "x"})
            assert resp.status_code == 400, f"{method} {path} ({rule.endpoint}) answered {resp.status_code}"
            assert b"Your form expired" in resp.data


def test_api_is_token_only_so_it_needs_no_csrf_but_rejects_cookies(client, login, make_user):
    login(make_user("client"))
    resp = client.delete("/api/v1/auth/tokens/current")
    assert resp.status_code == 401


def test_login_with_token_succeeds(client, make_user, get_csrf):
    user = make_user("client")
    with client.application.test_request_context():
        path = url_for("auth.login")
    from support import TEST_PASSWORD

    form = {"email": user.email, "password": TEST_PASSWORD, "csrf_token": get_csrf(client, path)}
    resp = client.post(path, data=form)
    assert resp.status_code == 302
