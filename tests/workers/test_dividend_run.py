"""The real dividend task through a real Celery worker process: Run → progress → completed → notices emailed."""

import pytest
from sqlalchemy import func, select
from treasury_helpers import approved_and_queued, confirmed_gig, isolated_broker, period_2025

import support
from marketplace.extensions import db as _db
from marketplace.models import OutboxEmail
from marketplace.models.treasury import DividendRun
from marketplace.services import dividends
from support import wait_until


@pytest.fixture
def treasury_worker(app, broker_urls, tmp_path):
    """A real worker process, like the ``celery_worker`` fixture, on a broker namespace of its own."""
    broker, results = broker_urls
    namespace = isolated_broker(app)
    app.extensions["celery"].control.purge()
    env = support.process_env(app.config["SQLALCHEMY_DATABASE_URI"], broker, results, tmp_path / "instance",
                              **namespace)
    proc = support.start_celery_worker(env, tmp_path / "worker.log")
    proc.log_path = tmp_path / "worker.log"
    yield proc
    support.stop_process(proc)


def finished(run_id):
    _db.session.expire_all()
    run = _db.session.get(DividendRun, run_id)
    return run if run.status in ("completed", "failed") else None


def delivered_notices():
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.kind == "allocation_notice", OutboxEmail.delivered_at.is_not(None)))


def test_run_button_completes_through_a_worker_and_emails_the_notices(app, make_user, treasury_worker):
    treasurer, admin, client = make_user("treasurer"), make_user("admin"), make_user("client")
    members = [make_user("worker", "member") for _ in range(3)]
    for i, member in enumerate(members):
        confirmed_gig(member, client, minutes=60 * (i + 1), earnings_cents=10_000 * (i + 1), fee_cents=3_001)
    period = period_2025(treasurer, admin, reserve_percent="10")
    run = approved_and_queued(period, treasurer, admin)

    done = wait_until(lambda: finished(run.id), timeout=90, message="the worker to finish the dividend run")
    assert done.status == "completed", done.error
    assert done.task_id and done.attempts == 1
    assert dividends.progress(run.id) == {"percent": 100, "processed": 3, "total": 3, "state": "completed"}
    rows = _db.session.execute(dividends.run_allocations(run.id)).all()
    # reserve: 10% of 90.03 = 9.003 → 9.00
    assert sum(a.allocation_cents for a, *_ in rows) == done.allocable_cents == 9_003 - 900
    wait_until(lambda: delivered_notices() == 3, timeout=90, message="the three notices to be emailed")
    log = treasury_worker.log_path.read_text()
    assert "treasury.run_dividends" in log and "treasury.email_notices" in log
