"""Abuse limits: API token requests (per address, and failed ones per email) and job posting (per client, web
form and API together). Over a limit the API answers 429 in the usual error shape and the site a friendly
page, both with Retry-After; never a 500.

The app here runs with limits on and small values so a test reaches them in a few requests. Counters live in
memory, or in Redis when TEST_REDIS_URL is set (under a key prefix of this test's own, so runs never share
counts).
"""

from __future__ import annotations

import re
import uuid

import pytest
from flask import url_for
from limits import parse_many
from sqlalchemy import func, select

import support
from marketplace.models import Job
from marketplace_helpers import local_start, make_category, make_worker
from support import TEST_PASSWORD

TOKENS = "/api/v1/auth/tokens"
JOBS = "/api/v1/jobs"
LIMITS = {"RATELIMIT_API_TOKEN": "3/minute", "RATELIMIT_API_TOKEN_EMAIL": "2/minute",
          "RATELIMIT_JOB_POSTING": "2/hour", "TRUSTED_PROXY_COUNT": 1}


def limit_storage() -> tuple[str, dict, str | None]:
    """(storage URI, storage options, Redis key prefix or None)."""
    url = support.redis_url()
    if not url:
        return "memory://", {}, None
    prefix = f"coop-test-limits-{uuid.uuid4().hex[:12]}"
    return url, {"key_prefix": prefix}, prefix


@pytest.fixture
def app(database_template, broker_urls, tmp_path, password_hash):
    """The suite's ``app`` with rate limits on. ``password_hash`` is built first: building another app
    (as that fixture does) re-initialises the one shared limiter with its own settings."""
    from marketplace.extensions import limiter

    storage, options, prefix = limit_storage()
    with support.app_under_test(database_template, broker_urls, tmp_path, RATELIMIT_ENABLED=True,
                          RATELIMIT_STORAGE_URI=storage, RATELIMIT_STORAGE_OPTIONS=options, **LIMITS) as app:
        # A store marked unreachable by an earlier test would otherwise stay so for this app too.
        limiter._storage_dead = False
        yield app
    if prefix:
        import redis

        conn = redis.Redis.from_url(storage)
        for key in conn.scan_iter(match=f"{prefix}*"):
            conn.delete(key)


def from_address(n: int) -> dict:
    return {"environ_base": {"REMOTE_ADDR": f"127.0.0.{n}"}}


def ask_token(client, email: str, password: str = TEST_PASSWORD, address: int = 1):
    return client.post(TOKENS, json={"email": email, "password": password}, **from_address(address))


def assert_too_many(resp, window_seconds: int) -> dict:
    """A 429 in the API's error shape with a Retry-After no longer than the limit's window."""
    assert resp.status_code == 429, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == "too_many_requests" and body["error"]["fields"] == {}
    assert 1 <= int(resp.headers["Retry-After"]) <= window_seconds
    assert re.search(r"Try again in \d+ (seconds|minutes|hours)\.", body["error"]["message"])
    return body["error"]


def job_body(slug: str, title: str = "Wash the windows") -> dict:
    return {"category": slug, "title": title, "description": "Ground floor", "lat": 37.8044, "lng": -122.2712,
            "address": "9 Main Street", "starts_at": local_start().isoformat(), "hours": 2, "max_rate_cents": 3000}


def job_form(slug: str) -> dict:
    start = local_start(days=3)
    return {"category": slug, "title": "Deep clean before guests", "description": "Kitchen and bath.",
            "neighbourhood": "Temescal", "address": "4000 Telegraph Ave", "date": start.date().isoformat(),
            "start_time": "10:00", "hours": "2.5", "max_rate": "", "invite": ""}


def bearer(client, user, address: int) -> dict:
    resp = ask_token(client, user.email, address=address)
    assert resp.status_code == 201, resp.get_json()
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


@pytest.fixture
def market(app, make_user):
    category = make_category("window-cleaning", floor=2000)
    make_worker(make_user, category, rate=2400)
    return category


def jobs_of(db, user) -> int:
    return db.session.scalar(select(func.count()).select_from(Job).where(Job.client_id == user.id))


def test_the_default_limits_are_valid_limit_strings():
    from config import Config

    for name in ("RATELIMIT_API_TOKEN", "RATELIMIT_API_TOKEN_EMAIL", "RATELIMIT_JOB_POSTING"):
        assert parse_many(getattr(Config, name)), name


def test_the_fourth_token_request_from_one_address_is_refused_with_retry_after(client, make_user):
    user = make_user("worker")
    for _ in range(3):
        assert ask_token(client, user.email).status_code == 201
    refused = ask_token(client, user.email)
    error = assert_too_many(refused, 60)
    assert "token requests" in error["message"]
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert ask_token(client, user.email, address=2).status_code == 201  # counted per address


def test_behind_a_proxy_each_client_address_has_its_own_allowance(client, db, make_user):
    """Through one load balancer (TRUSTED_PROXY_COUNT=1) the address counted is the one the balancer saw."""
    from marketplace.models import AuditEvent

    user = make_user("worker")

    def via_balancer(forwarded_for: str):
        return client.post(TOKENS, json={"email": user.email, "password": TEST_PASSWORD},
                           headers={"X-Forwarded-For": forwarded_for}, **from_address(50))

    for _ in range(3):
        assert via_balancer("127.0.1.1").status_code == 201
    assert via_balancer("127.0.1.1").status_code == 429
    # A client cannot pick its own address: only the last hop, added by the balancer, is believed.
    assert via_balancer("127.0.1.2, 127.0.1.1").status_code == 429
    assert via_balancer("127.0.1.2").status_code == 201
    addresses = db.session.scalars(select(AuditEvent.ip_address).where(AuditEvent.action == "api_token.issued"))
    assert set(addresses) == {"127.0.1.1", "127.0.1.2"}


def test_wrong_passwords_for_one_email_are_limited_from_any_address(client, make_user):
    target, other = make_user("client"), make_user("client")
    for address in (1, 2):
        assert ask_token(client, target.email, "not-the-password", address=address).status_code == 401
    error = assert_too_many(ask_token(client, target.email, "not-the-password", address=3), 60)
    assert "failed sign-ins" in error["message"]
    assert ask_token(client, other.email, "not-the-password", address=3).status_code == 401


def test_successful_token_requests_do_not_count_as_failures(client, make_user):
    user = make_user("client")
    for address in range(1, 5):  # four successes for one email: only wrong passwords use up its limit of 2
        assert ask_token(client, user.email, address=address).status_code == 201


def test_api_job_posting_is_limited_per_client(client, db, market, make_user):
    first, second = make_user("client"), make_user("client")
    headers = bearer(client, first, 1)
    assert client.post(JOBS, json=job_body(market.slug, "First"), headers=headers).status_code == 201
    bad = client.post(JOBS, json={**job_body(market.slug), "hours": 0.1}, headers=headers)
    assert bad.status_code == 422  # a post refused for its content still counts
    refused = client.post(JOBS, json=job_body(market.slug, "One too many"), headers=headers)
    error = assert_too_many(refused, 3600)
    assert "as many jobs" in error["message"]
    assert jobs_of(db, first) == 1
    # Another client, from the same address, still has their own allowance.
    other = bearer(client, second, 1)
    assert client.post(JOBS, json=job_body(market.slug), headers=other).status_code == 201
    assert jobs_of(db, second) == 1


def test_web_job_posting_shares_the_allowance_and_shows_a_friendly_page(app, client, db, market, make_user, login,
                                                                        get_csrf):
    customer, neighbour = make_user("client"), make_user("client")
    headers = bearer(client, customer, 1)
    assert client.post(JOBS, json=job_body(market.slug), headers=headers).status_code == 201
    login(customer)
    form = job_form(market.slug)
    posted = client.post("/jobs/new", data={**form, "csrf_token": get_csrf(client, "/jobs/new")})
    assert posted.status_code == 302, posted.get_data(as_text=True)[:500]
    refused = client.post("/jobs/new", data={**form, "csrf_token": get_csrf(client, "/jobs/new")})
    assert refused.status_code == 429
    assert refused.mimetype == "text/html"
    page = refused.get_data(as_text=True)
    assert "Please slow down" in page and "as many jobs" in page
    assert re.search(r"Try again in \d+ minutes\.", page)
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert jobs_of(db, customer) == 2
    assert client.get("/jobs/new").status_code == 200  # the form itself can still be opened
    assert_too_many(client.post(JOBS, json=job_body(market.slug), headers=headers), 3600)
    # Another client on the site is not affected.
    other = app.test_client()
    login(neighbour, test_client=other)
    resp = other.post("/jobs/new", data={**form, "csrf_token": get_csrf(other, "/jobs/new")})
    assert resp.status_code == 302
    assert jobs_of(db, neighbour) == 1


def test_the_login_limit_shows_the_friendly_page(client, make_user, get_csrf):
    user = make_user("client")
    statuses = []
    for _ in range(11):  # the form allows 10 sign-in attempts a minute from one address
        token = get_csrf(client, url_for("auth.login"))
        resp = client.post(url_for("auth.login"), data={"email": user.email, "password": "wrong-password",
                                                       "csrf_token": token})
        statuses.append(resp.status_code)
    assert statuses == [200] * 10 + [429]
    page = resp.get_data(as_text=True)
    assert "Please slow down" in page and "the limit is 10 per 1 minute" in page
    assert int(resp.headers["Retry-After"]) >= 1


def test_an_unreachable_limit_store_does_not_break_sign_in(app, client, make_user):
    """With the store down, each process counts in memory: requests are served and limits still hold."""
    from marketplace.extensions import limiter

    unreachable = f"redis://127.0.0.1:{support.free_port()}/0"
    app.config.update(RATELIMIT_STORAGE_URI=unreachable, RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 1})
    limiter.init_app(app)
    user = make_user("worker")
    statuses = [ask_token(client, user.email).status_code for _ in range(4)]
    assert statuses == [201, 201, 201, 429]



def test_the_openapi_document_declares_the_429s(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in ("/api/v1/auth/tokens", "/api/v1/jobs"):
        assert "Retry-After" in paths[path]["post"]["responses"]["429"]["description"]
