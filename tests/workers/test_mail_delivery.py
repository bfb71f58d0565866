"""Mail goes through a real Celery worker process: enqueued after commit, delivered once."""

from sqlalchemy import select

from marketplace.extensions import db as _db
from marketplace.models import OutboxEmail
from marketplace.services import accounts
from support import redis_url, require, wait_until


def delivered(email: str):
    _db.session.expire_all()
    row = _db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == email))
    return row if row is not None and row.delivered_at is not None else None


def test_password_reset_email_is_delivered_by_a_worker_process(app, make_user, celery_worker):
    user = make_user("client")
    accounts.request_password_reset(user.email, lambda token: f"http://localhost/password/reset/{token}")
    row = wait_until(lambda: delivered(user.email), timeout=60, message="the worker to deliver the email")
    assert row.delivery == "log" and row.attempts == 1
    assert "reset" in celery_worker.log_path.read_text()


def test_redelivered_task_does_not_send_twice(app, make_user, celery_worker):
    user = make_user("client")
    accounts.request_password_reset(user.email, lambda token: f"http://localhost/password/reset/{token}")
    row = wait_until(lambda: delivered(user.email), timeout=60, message="first delivery")
    app.extensions["celery"].send_task("mail.deliver_email", args=[row.id])
    wait_until(lambda: celery_worker.log_path.read_text().count("mail.deliver_email") >= 4, timeout=60,
               message="the repeated task to run")
    _db.session.expire_all()
    assert _db.session.get(OutboxEmail, row.id).attempts == 1


def test_broker_is_redis_when_configured(app):
    url = redis_url()
    require(bool(url), "TEST_REDIS_URL is not set: the Redis broker tier is not exercised")
    assert app.extensions["celery"].conf.broker_url.startswith("redis://")


def test_database_is_postgres_when_configured(app, db):
    import os

    require(bool(os.environ.get("TEST_DATABASE_URL")),
            "TEST_DATABASE_URL is not set: the PostgreSQL tier is not exercised")
    assert db.engine.dialect.name == "postgresql"
