"""Shared helpers for the test tiers: optional parts, database set-up, factories, live processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
TEST_PASSWORD = "Correct-Horse-42"


def require(condition: bool, reason: str) -> None:
    """Skip with a visible reason when an optional part is missing; under CI=true that is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI requires this part: {reason}")
    pytest.skip(reason)


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    from config import normalise_database_url

    return normalise_database_url(url)


def redis_url() -> str | None:
    return os.environ.get("TEST_REDIS_URL")


def redis_available(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_postgres_database(base_url: str) -> str:
    """A new empty database on the TEST_DATABASE_URL server; returns its URL."""
    url = make_url(base_url)
    name = f"coop_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def migrate_database(db_url: str) -> None:
    """Build the schema exactly as production does: ``flask db upgrade``."""
    from flask_migrate import upgrade

    from marketplace import create_app

    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        upgrade(revision="heads")
        from marketplace.extensions import db

        db.engine.dispose()


def truncate_all(engine) -> None:
    """Empty every table between tests on PostgreSQL (TRUNCATE fires no row triggers)."""
    with engine.begin() as conn:
        names = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
        )).scalars().all()
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))


def copy_sqlite(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


def process_env(db_url: str, broker_url: str, result_url: str, instance: Path, **extra: str) -> dict[str, str]:
    """Environment for a server or worker process that must share the test's database and broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env.update({
        "APP_ENV": "testing",
        "DATABASE_URL": db_url,
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": result_url,
        "INSTANCE_PATH": str(instance),
        "PYTHONPATH": str(ROOT),
        "RATELIMIT_ENABLED": "false",
    })
    env.update(extra)
    return env


def start_celery_worker(env: dict[str, str], log_path: Path, *, concurrency: int = 1) -> subprocess.Popen:
    """A real ``celery worker`` process; returns once it answers a ping (or raises with its log)."""
    cmd = [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--loglevel=INFO",
           f"--concurrency={concurrency}", "--pool=prefork", "--without-gossip", "--without-mingle",
           "--without-heartbeat", "-n", f"test-{uuid.uuid4().hex[:6]}@%h"]
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("celery worker exited early:\n" + log_path.read_text(errors="replace")[-4000:])
        if b"ready." in log_path.read_bytes():
            return proc
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("celery worker did not become ready:\n" + log_path.read_text(errors="replace")[-4000:])


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def wait_until(predicate, timeout: float = 30, interval: float = 0.2, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout}s waiting for {message}")


class LiveServer:
    def __init__(self, url: str, db_url: str, app, log: Path):
        self.url, self.db_url, self.app, self.log = url, db_url, app, log


class _Server:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc, self.url = proc, url


def run_flask(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "marketplace", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


TEST_GUNICORN_OPTIONS = ("-w", "2", "--threads", "4", "--access-logfile", "-", "--error-logfile", "-")


def start_gunicorn(env: dict[str, str], log_path: Path, *, options=TEST_GUNICORN_OPTIONS, ready_path: str = "/healthz",
                   timeout: float = 60) -> _Server:
    """gunicorn serving wsgi:app on a free loopback port with ``options`` (the tests' 2 x 4 by default; the
    benchmarks pass ``-c gunicorn.conf.py`` to run as production does); returns once ``ready_path`` answers 200."""
    import urllib.request

    port = free_port()
    cmd = [sys.executable, "-m", "gunicorn", *options, "-b", f"127.0.0.1:{port}", "wsgi:app"]
    log = open(log_path, "wb")  # noqa: SIM115 - handed to the process
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited early:\n" + log_path.read_text(errors="replace")[-4000:])
        try:
            with urllib.request.urlopen(url + ready_path, timeout=3) as resp:  # noqa: S310 - local test server
                if resp.status == 200:
                    return _Server(proc, url)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("gunicorn did not answer:\n" + log_path.read_text(errors="replace")[-4000:])


@contextmanager
def app_under_test(database_template, broker_urls, tmp_path: Path, **config):
    """The app under test on a fresh copy of the migrated database and the session's broker, inside an app
    context; ``config`` adds to the testing settings. Cleans the database (PostgreSQL) afterwards."""
    from marketplace import create_app
    from marketplace.extensions import db as _db

    broker, results = broker_urls
    app = create_app("testing", {
        "SQLALCHEMY_DATABASE_URI": fresh_database_url(database_template, tmp_path),
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": "localhost",
        **config,
    })
    app.test_client_class = IsolatedClient
    app.config["CELERY"].update(broker_url=broker, result_backend=results)
    app.extensions["celery"].conf.update(broker_url=broker, result_backend=results)
    with app.app_context():
        yield app
        _db.session.remove()
        if database_template[0] == "postgresql":
            truncate_all(_db.engine)
        _db.engine.dispose()


def fresh_database_url(database_template, tmp_path: Path) -> str:
    kind, location = database_template
    if kind == "sqlite":
        return copy_sqlite(location, tmp_path / "test.sqlite")
    return location


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: ``g`` (the logged-in user, the CSRF
    token) and the database session never leak from the test's context or from an earlier request."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)
