"""The page cache across processes: a gunicorn server (two worker processes, each with its own copies) and a
writer in another process share only PostgreSQL and the Redis hash of table versions. A job posted by the
writer shows on the very next view in every gunicorn worker: no process serves a copy made before the write."""

from __future__ import annotations

import re
import uuid

import pytest
import requests
from market_fixtures import give_profile, post_job, seed_categories

import support

PAGE = "/work/requests"


@pytest.fixture
def key():
    return f"test:page-cache:{uuid.uuid4().hex}"


@pytest.fixture
def app(database_template, broker_urls, tmp_path, key):
    """The writer: this process's app, with the page cache on the shared Redis hash (``make_user`` uses it)."""
    support.require(support.postgres_url() is not None, "TEST_DATABASE_URL is not set: the page cache across "
                                                         "processes needs PostgreSQL")
    redis = support.redis_url()
    support.require(redis is not None and support.redis_available(redis),
                    "TEST_REDIS_URL is not set or not answering: the page cache across processes needs Redis")
    with support.app_under_test(database_template, broker_urls, tmp_path, PAGE_CACHE_URL=redis,
                                PAGE_CACHE_KEY=key) as app:
        yield app
        app.extensions["page_cache"].store.client.delete(key)


@pytest.fixture
def server_url(app, broker_urls, tmp_path, key):
    """The readers: gunicorn, two worker processes, on the same database and the same Redis hash."""
    broker, results = broker_urls
    env = support.process_env(app.config["SQLALCHEMY_DATABASE_URI"], broker, results, tmp_path / "instance",
                              PAGE_CACHE_URL=app.config["PAGE_CACHE_URL"], PAGE_CACHE_KEY=key)
    server = support.start_gunicorn(env, tmp_path / "gunicorn.log")
    try:
        yield server.url
    finally:
        support.stop_process(server.proc)


def summary(responses) -> list[tuple]:
    return [(r.status_code, r.headers.get("X-Page-Cache"), "Second job" in r.text) for r in responses]


def test_a_write_in_one_process_retires_the_copies_of_every_other(app, server_url, make_user):
    url = server_url
    seed_categories()
    worker = make_user("worker", name="Rosa Diaz")
    give_profile(worker, neighbourhood="Temescal", radius_km=5)
    poster = make_user("client")
    post_job(app, poster, title="First job", neighbourhood="Rockridge")

    browser = requests.Session()
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                      browser.get(url + "/login", timeout=10).text).group(1)
    signed_in = browser.post(url + "/login", data={"email": worker.email, "password": support.TEST_PASSWORD,
                                                   "csrf_token": token}, timeout=10)
    assert signed_in.status_code == 200 and "/login" not in signed_in.url
    browser.get(url + "/dashboard", timeout=10)  # the welcome message is read here, not on the page under test

    # Enough views that both gunicorn processes have stored the page and served it again.
    before = [browser.get(url + PAGE, timeout=10) for _ in range(24)]
    assert all(r.status_code == 200 and "First job" in r.text for r in before), summary(before)
    assert sum(r.headers.get("X-Page-Cache") == "hit" for r in before) >= 12

    post_job(app, poster, title="Second job", neighbourhood="Rockridge")  # commits in this process
    after = [browser.get(url + PAGE, timeout=10) for _ in range(24)]
    assert all(r.status_code == 200 and "Second job" in r.text for r in after), summary(after)
    assert after[0].headers.get("X-Page-Cache") == "miss"
