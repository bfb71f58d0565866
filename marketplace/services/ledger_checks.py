"""The checks behind ``ledger.verify()`` and ``flask ledger verify`` (issue 4 §8), each answering a list of
problems in plain words. Structural checks are single set-based queries; the fee check re-prices every
confirmed gig from its job row and the fee rates, and compares with the fee its charge entry posted.
"""

from __future__ import annotations

from sqlalchemy import String, cast, func, literal, select

from marketplace.domain import ledger as rules
from marketplace.domain.pricing import PricingError
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import Job, JournalEntry, LedgerAccount, Payment, Posting
from marketplace.services.ledger import FEE_REVENUE_ACCOUNTS

CHARGE_KEY = "gig:%:charge"
FEE_EVENT_KEYS = (CHARGE_KEY, "gig:%:cancellation", "gig:%:refund")


def _unbalanced() -> list[str]:
    rows = db.session.execute(
        select(JournalEntry.idempotency_key, func.coalesce(func.sum(Posting.amount_cents), 0), func.count(Posting.id))
        .outerjoin(Posting, Posting.entry_id == JournalEntry.id)
        .group_by(JournalEntry.id, JournalEntry.idempotency_key)
        .having((func.coalesce(func.sum(Posting.amount_cents), 0) != 0) | (func.count(Posting.id) < 2))
    ).all()
    return [f"entry {key}: {count} postings summing to {total} cents (needs two or more summing to zero)"
            for key, total, count in rows]


def _orphans() -> list[str]:
    no_entry = db.session.execute(
        select(Posting.id, Posting.entry_id).outerjoin(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.id.is_(None))).all()
    no_account = db.session.execute(
        select(Posting.id, Posting.account_code).outerjoin(LedgerAccount, LedgerAccount.code == Posting.account_code)
        .where(LedgerAccount.code.is_(None))).all()
    return ([f"posting {pid} belongs to entry {eid}, which does not exist" for pid, eid in no_entry]
            + [f"posting {pid} is on account {code}, which does not exist" for pid, code in no_account])


def _negative_payables() -> list[str]:
    rows = db.session.execute(
        select(Posting.account_code, func.sum(Posting.amount_cents))
        .where(Posting.account_code.startswith(rules.WORKER_PAYABLE + ":"))
        .group_by(Posting.account_code).having(func.sum(Posting.amount_cents) > 0)).all()
    return [f"worker payable {code} is {total} cents in debit: the worker was paid more than they earned"
            for code, total in rows]


def _uncaptured_payments() -> list[str]:
    capture_key = literal("gig:").concat(cast(Payment.job_id, String)).concat(":capture")
    rows = db.session.execute(
        select(Payment.job_id).where(Payment.status == "captured")
        .outerjoin(JournalEntry, JournalEntry.idempotency_key == capture_key)
        .where(JournalEntry.id.is_(None))).scalars().all()
    return [f"gig {job_id}: payment captured but no capture entry is posted" for job_id in rows]


def structural_problems() -> list[str]:
    """Unbalanced or one-legged entries, postings without their entry or account, workers in debit,
    captured payments the ledger does not show."""
    return _unbalanced() + _orphans() + _negative_payables() + _uncaptured_payments()


def _posted_fees() -> dict[int, int]:
    rows = db.session.execute(
        select(JournalEntry.source_id, func.sum(Posting.amount_cents))
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(JournalEntry.idempotency_key.like(CHARGE_KEY), JournalEntry.source_type == "job",
               Posting.account_code.in_(FEE_REVENUE_ACCOUNTS))
        .group_by(JournalEntry.source_id)).all()
    return {int(job_id): -int(total) for job_id, total in rows}


def _charged_jobs() -> set[int]:
    query = select(JournalEntry.source_id).where(JournalEntry.idempotency_key.like(CHARGE_KEY),
                                                 JournalEntry.source_type == "job")
    return {int(job_id) for job_id in db.session.scalars(query)}


def _stray_fee_entries() -> list[str]:
    query = (select(JournalEntry.idempotency_key).join(Posting, Posting.entry_id == JournalEntry.id)
             .where(Posting.account_code.in_(FEE_REVENUE_ACCOUNTS), JournalEntry.reverses_entry_id.is_(None),
                    *[JournalEntry.idempotency_key.not_like(pattern) for pattern in FEE_EVENT_KEYS])
             .distinct().order_by(JournalEntry.idempotency_key))
    return [f"entry {key} posts fee revenue but is not a gig charge, cancellation or refund"
            for key in db.session.scalars(query)]


def fee_problems() -> list[str]:
    """Fee revenue must equal the fees of the confirmed gigs: every confirmed gig has exactly one charge
    entry whose fee matches its price at the rate in force when it was booked, and no other gig has one."""
    from marketplace.services import billing, fees

    rates = fees.all_rates()
    posted = _posted_fees()
    charged = _charged_jobs()
    problems: list[str] = []
    confirmed = db.session.scalars(select(Job).where(Job.status.in_(billing.CHARGEABLE)).order_by(Job.id)).all()
    for job in confirmed:
        try:
            expected = billing.price_for_job(job, rates).fee_cents
        except (PricingError, Conflict) as exc:
            problems.append(f"gig {job.id} cannot be priced: {exc}")
            continue
        if job.id not in charged:
            problems.append(f"gig {job.id} is {job.status} but its charge is not posted")
        elif posted.get(job.id, 0) != expected:
            problems.append(f"gig {job.id}: fee posted {posted.get(job.id, 0)} cents, expected {expected}")
    problems += _stray_fee_entries()
    confirmed_ids = {job.id for job in confirmed}
    problems += [f"gig {job_id} has a charge entry but is not confirmed" for job_id in sorted(charged - confirmed_ids)]
    return problems
