"""The gig lifecycle drives the money side: a booking holds the payment, a confirmation posts the charge once,
a cancellation releases the hold — through the real services, not by calling billing directly."""

from datetime import timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import JournalEntry, Payment, Posting
from marketplace.services import gigs, ledger, offers
from marketplace_helpers import fresh, local_start, make_category, make_worker, offers_of, post


def test_booked_and_confirmed_gig_is_charged_exactly_once(app, make_user):
    category = make_category(floor=2000)
    worker = make_worker(make_user, category, rate=3000, member=True)
    client = make_user("client")
    job = post(client, category, starts_at=local_start(days=0, hour=0) + timedelta(days=1))
    assert [o.worker_id for o in offers_of(job.id)] == [worker.id]

    offers.accept_offer(job.id, worker.id)
    assert db.session.scalar(select(Payment).where(Payment.job_id == job.id)) is not None

    gigs.start_gig(job.id, worker.id)
    gigs.complete_gig(job.id, worker.id, 90)
    gigs.confirm_gig(job.id, client.id)
    assert fresh(job.id).status == "confirmed"

    charges = db.session.scalars(select(JournalEntry).where(JournalEntry.idempotency_key == f"gig:{job.id}:charge"))
    charge = charges.one()
    worker_credit = db.session.scalar(select(func.sum(Posting.amount_cents)).where(
        Posting.entry_id == charge.id, Posting.account_code == f"2100:{worker.id}"))
    assert worker_credit == -(3000 * 90 // 60 * 95 // 100)  # $45.00 of work, 5% co-op fee deducted
    assert ledger.verify() == []


def test_cancelled_booking_releases_the_hold_and_posts_nothing(app, make_user):
    category = make_category(floor=2000)
    worker = make_worker(make_user, category, rate=3000)
    client = make_user("client")
    job = post(client, category, starts_at=local_start(days=5))
    offers.accept_offer(job.id, worker.id)
    from marketplace.services import jobs

    jobs.cancel_job(job.id, client.id, "plans changed")
    payment = db.session.scalar(select(Payment).where(Payment.job_id == job.id))
    assert payment.status in {"voided", "released", "cancelled"}
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == 0
    assert ledger.verify() == []
