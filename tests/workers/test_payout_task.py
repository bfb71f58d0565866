"""The weekly payout task through a real Celery worker process: one batch per week, however often it runs."""

from sqlalchemy import func, select

from marketplace.dispatch import CREATE_PAYOUTS, enqueue
from marketplace.extensions import db as _db
from marketplace.models import JournalEntry, PayoutBatch
from marketplace.services import billing, payouts
from money_support import make_job
from support import wait_until


def batches() -> list[PayoutBatch]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(PayoutBatch)))


def test_the_weekly_task_pays_out_once(app, make_user, celery_worker):
    customer, worker = make_user("client"), make_user("worker", "member")
    billing.on_gig_confirmed(make_job(customer, worker, rate_cents=10_000, actual_minutes=60).id)
    payouts.set_payout_account(worker.id, worker.name, "DE89 3704 0044 0532 0130 00")
    enqueue(CREATE_PAYOUTS)
    enqueue(CREATE_PAYOUTS)
    found = wait_until(lambda: batches(), timeout=60, message="the worker to create the batch")
    wait_until(lambda: celery_worker.log_path.read_text().count("succeeded") >= 2, timeout=60,
               message="both runs of the task to finish")
    assert len(batches()) == 1 and found[0].total_cents == 9_500
    assert _db.session.scalar(select(func.count()).where(JournalEntry.idempotency_key.like("payout:%"))) == 1
    assert payouts.earnings_balance(worker.id) == 0
