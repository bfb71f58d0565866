"""Fixtures shared by every tier: the app on a fresh migrated database, clients, users of each role,
and live processes (a web server, a Celery worker) that share the test's database and broker.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set; Redis as broker when TEST_REDIS_URL is set.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_SESSION_DIR = Path(tempfile.mkdtemp(prefix="coop-tests-"))
os.environ.setdefault("INSTANCE_PATH", str(_SESSION_DIR / "instance"))

import support  # noqa: E402
from support import TEST_PASSWORD  # noqa: E402


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session")
def broker_urls(session_dir) -> tuple[str, str]:
    url = support.redis_url()
    if url:
        return url, url
    return f"sqla+sqlite:///{session_dir / 'broker.sqlite'}", f"db+sqlite:///{session_dir / 'results.sqlite'}"


@pytest.fixture(scope="session")
def database_template(session_dir):
    """A migrated database: a template file on SQLite, a fresh database on PostgreSQL."""
    pg = support.postgres_url()
    if pg:
        url = support.create_postgres_database(pg)
        support.migrate_database(url)
        yield ("postgresql", url)
        support.drop_postgres_database(url)
    else:
        path = session_dir / "template.sqlite"
        support.migrate_database(f"sqlite:///{path}")
        yield ("sqlite", path)


@pytest.fixture
def app(database_template, broker_urls, tmp_path):
    with support.app_under_test(database_template, broker_urls, tmp_path) as app:
        yield app


@pytest.fixture
def db(app):
    from marketplace.extensions import db as _db

    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def password_hash():
    """One Argon2id hash of TEST_PASSWORD, computed once: hashing per user would dominate the suite's time."""
    from marketplace import create_app
    from marketplace.services.passwords import hash_password

    with create_app("testing").app_context():
        return hash_password(TEST_PASSWORD)


@pytest.fixture
def make_user(db, password_hash):
    """Factory: ``make_user("worker", "member", email=..., name=...)`` commits and returns a user."""
    from marketplace.models import User, UserRole

    counter = {"n": 0}

    def factory(*roles: str, email: str | None = None, name: str | None = None):
        counter["n"] += 1
        roles = roles or ("client",)
        n = counter["n"]
        user = User(email=email or f"{roles[0]}{n}@test.coop", name=name or f"Test {roles[0].title()} {n}",
                    password_hash=password_hash)
        user.role_rows = [UserRole(role=r) for r in roles]
        db.session.add(user)
        db.session.commit()
        return user

    return factory


@pytest.fixture
def login(client):
    """``login(user)`` signs the test client in through the real login form (with its CSRF token)."""
    from flask import url_for

    def do_login(user, password: str = TEST_PASSWORD, test_client=None):
        c = test_client or client
        token = csrf_token(c, url_for("auth.login"))
        resp = c.post(url_for("auth.login"), data={"email": user.email, "password": password, "csrf_token": token})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        return c

    return do_login


def csrf_token(test_client, path: str) -> str:
    """Fetch a page and pull the CSRF token out of its form."""
    import re

    html = test_client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def get_csrf():
    return csrf_token


@pytest.fixture
def api_token(client):
    """``api_token(user)`` returns headers with a bearer token for that user."""

    def issue(user, password: str = TEST_PASSWORD):
        resp = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": password})
        assert resp.status_code == 201, resp.get_json()
        return {"Authorization": f"Bearer {resp.get_json()['token']}"}

    return issue


@pytest.fixture
def celery_worker(app, broker_urls, tmp_path):
    """A real Celery worker process on the test's database and broker (purged first); stopped after the test."""
    broker, results = broker_urls
    app.extensions["celery"].control.purge()
    env = support.process_env(app.config["SQLALCHEMY_DATABASE_URI"], broker, results, tmp_path / "instance")
    proc = support.start_celery_worker(env, tmp_path / "worker.log")
    proc.log_path = tmp_path / "worker.log"
    yield proc
    support.stop_process(proc)


@pytest.fixture(scope="module")
def live_server(database_template, broker_urls, tmp_path_factory):
    """The app under gunicorn (2 processes x 4 threads) on its own seeded database, with a Celery worker.

    Yields an object with ``url``, ``db_url`` and ``app`` (a Flask app on the same database for checks).
    """
    from marketplace import create_app

    tmp = tmp_path_factory.mktemp("live")
    kind, location = database_template
    if kind == "sqlite":
        db_url = support.copy_sqlite(location, tmp / "live.sqlite")
    else:
        db_url = support.create_postgres_database(support.postgres_url())
        support.migrate_database(db_url)
    broker, results = broker_urls
    # With Redis, the browser flows run with the rendered-page cache on, as production does.
    cache = {"PAGE_CACHE_URL": broker, "PAGE_CACHE_KEY": f"test:page-cache:{tmp.name}"} \
        if broker.startswith("redis") else {}
    env = support.process_env(db_url, broker, results, tmp / "instance", **cache)
    support.run_flask(env, "seed-demo")
    server = support.start_gunicorn(env, tmp / "gunicorn.log")
    worker = support.start_celery_worker(env, tmp / "worker.log")
    checker = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url})
    try:
        yield support.LiveServer(url=server.url, db_url=db_url, app=checker, log=tmp / "gunicorn.log")
    finally:
        support.stop_process(worker)
        support.stop_process(server.proc)
        if kind == "postgresql":
            with checker.app_context():
                from marketplace.extensions import db as _db

                _db.engine.dispose()
            support.drop_postgres_database(db_url)
