"""Billing a gig: hold the money at booking, charge and capture at confirmation (by card, or by a
bank-transfer invoice — see ``services.invoices``), late-cancellation charges and dispute refunds.

Each money event is posted exactly once: ledger keys are per gig (``gig:<id>:charge``, ``…:capture``,
``…:cancellation``, ``…:refund``), a payment row is unique per gig, and provider calls are claimed by a
conditional ``UPDATE … WHERE status = …`` so that a retried or concurrent call finds the work done and
answers the same summary. Every public function commits.
"""

from __future__ import annotations

import logging
from datetime import datetime
from fractions import Fraction

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from marketplace.domain import ledger as rules
from marketplace.domain import pricing
from marketplace.domain.money import MoneyFormatError, parse_fraction
from marketplace.errors import AppError, Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Invoice, Job, JournalEntry, Payment
from marketplace.models.base import utcnow
from marketplace.services import audit, fees, ledger, payments, settings

log = logging.getLogger(__name__)
CHARGEABLE = ("confirmed", "reviewed")
CANCELLED = ("cancelled", "no_show")
_COLLECTABLE = ("pending", "authorized", "failed")


def _job(job_id: int) -> Job:
    """Load the gig and hold its billing lock until the caller commits, so one gig is billed by one caller
    at a time (PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: a no-op write takes the database write lock)."""
    if db.session.get_bind().dialect.name == "postgresql":
        found = db.session.execute(select(Job.id).where(Job.id == job_id).with_for_update()).first()
    else:
        found = db.session.execute(update(Job).where(Job.id == job_id).values(offer_round=Job.offer_round)
                                   .execution_options(synchronize_session=False)).rowcount
    if not found:
        raise NotFound(f"Gig {job_id} does not exist.")
    return db.session.get(Job, job_id, populate_existing=True)


def _on(moment: datetime | None):
    return fees.local_date(moment or utcnow())


def price_for_job(job: Job, rates=None) -> pricing.GigPrice:
    """The confirmed price: agreed hourly rate × confirmed minutes, with the fee rate in force when the
    gig was booked (issue 4 §2); member or non-member fee is decided by ``job.worker_was_member``."""
    if job.agreed_rate_cents is None or not job.actual_minutes:
        raise Conflict(f"Gig {job.id} has no agreed rate or confirmed hours yet, so it cannot be priced.")
    return pricing.price_gig(job.agreed_rate_cents, job.actual_minutes, fees.fee_rate_for_job(job, rates))


def estimate_for_job(job: Job) -> pricing.GigPrice:
    """The booked price: agreed rate × estimated minutes (what is held on the client's card)."""
    if job.agreed_rate_cents is None:
        raise Conflict(f"Gig {job.id} has no agreed rate yet.")
    return pricing.price_gig(job.agreed_rate_cents, job.estimated_minutes, fees.fee_rate_for_job(job))


def payment_for(job_id: int) -> Payment | None:
    """The gig's payment row (one per gig), if one was opened."""
    return db.session.scalar(select(Payment).where(Payment.job_id == job_id))


def _open_payment(job: Job) -> tuple[Payment, bool]:
    """The gig's payment, created on first use with the client's card or else bank transfer (race-safe)."""
    existing = payment_for(job.id)
    if existing is not None:
        return existing, False
    method = payments.card_on_file(job.client_id)
    payment = Payment(job_id=job.id, client_id=job.client_id, idempotency_key=f"job:{job.id}:payment",
                      provider=method.provider if method else "bank_transfer", status="pending",
                      card_last4=method.last4 if method else None, provider_ref=method.token if method else None)
    try:
        with db.session.begin_nested():
            db.session.add(payment)
    except IntegrityError:
        winner = payment_for(job.id)
        if winner is None:
            raise
        return winner, False
    return payment, True


def _claim(payment: Payment, *conditions, **values) -> bool:
    """Apply ``values`` only if the payment still meets ``conditions``: the caller that wins does the work."""
    result = db.session.execute(
        update(Payment).where(Payment.id == payment.id, *conditions)
        .values(updated_at=utcnow(), **values).execution_options(synchronize_session=False))
    db.session.refresh(payment)
    return result.rowcount == 1


def _via_bank(spec: rules.JournalEntrySpec) -> rules.JournalEntrySpec:
    """The same entry with the bank in place of payment clearing: bank transfers do not pass the provider."""
    postings = tuple(rules.Posting(rules.BANK if p.account_code == rules.PAYMENT_CLEARING else p.account_code,
                                   p.amount_cents) for p in spec.postings)
    return rules.JournalEntrySpec(spec.idempotency_key, spec.memo, spec.occurred_on, postings)


def post_capture(payment: Payment, amount_cents: int, on) -> None:
    """Post the captured payment once: into payment clearing (card) or straight into the bank (transfer)."""
    spec = rules.entry_payment_captured(payment.job_id, payment.client_id, amount_cents, on)
    ledger.post(_via_bank(spec) if payment.provider == "bank_transfer" else spec, source_type="job",
                source_id=payment.job_id)


def on_gig_accepted(job_id: int) -> Payment:
    """Booking: hold the gig's estimated total on the client's card, or note a bank transfer (commits).

    Idempotent: the payment is unique per gig; a second call returns it unchanged.
    """
    job = _job(job_id)
    if job.worker_id is None or job.agreed_rate_cents is None:
        raise Conflict(f"Gig {job_id} has no worker yet; nothing to authorize.")
    payment, created = _open_payment(job)
    if created:
        amount = estimate_for_job(job).client_total_cents
        method = payments.card_on_file(job.client_id) if payment.provider == "test_card" else None
        result = payments.provider(payment.provider).authorize(job, amount, method, f"job:{job.id}:authorize")
        payment.status, payment.provider_ref = result.status, result.reference or payment.provider_ref
        payment.authorized_cents = amount if result.ok else 0
        payment.failure_message = "" if result.ok else result.message
    db.session.commit()
    return payment


def _collect(job: Job, amount_cents: int, on) -> Payment:
    """Capture ``amount_cents`` once: by card, or by invoice when there is no card or the card fails."""
    payment, _ = _open_payment(job)
    if not _claim(payment, Payment.status.in_(_COLLECTABLE), status="capturing"):
        return payment
    key = f"job:{job.id}:capture"
    if payment.provider == "test_card":
        result = payments.provider("test_card").capture(payment, amount_cents, key)
        if result.ok:
            payment.status, payment.amount_cents, payment.provider_ref = "captured", amount_cents, result.reference
            post_capture(payment, amount_cents, on)
            audit.record("payment.captured", subject=payment, detail=f"gig {job.id}: {amount_cents} cents by card")
            return payment
        payment.provider, payment.failure_message = "bank_transfer", result.message
    result = payments.provider("bank_transfer").capture(payment, amount_cents, key)
    payment.status, payment.provider_ref = result.status, result.reference
    return payment


def _post_charge(job: Job, price: pricing.GigPrice):
    spec = rules.entry_gig_charged(job.id, job.client_id, job.worker_id, price, bool(job.worker_was_member),
                                   _on(job.confirmed_at))
    return ledger.post(spec, source_type="job", source_id=job.id)


def on_gig_confirmed(job_id: int) -> dict:
    """Confirmation: post the gig's charge (client owes the total; the worker's earnings and the member or
    non-member fee are credited) and collect the payment — each exactly once, however often or however
    concurrently it is called; every call answers the same :func:`summary` (commits)."""
    job = _job(job_id)
    if job.status not in CHARGEABLE:
        raise Conflict(f"Gig {job_id} is {job.status}; only a confirmed gig is charged.")
    price = price_for_job(job)
    _post_charge(job, price)
    _collect(job, price.client_total_cents, _on(job.confirmed_at))
    db.session.commit()
    return summary(job_id)


def _cancellation_charge(job: Job, on) -> pricing.CancellationCharge:
    policy = pricing.CancellationPolicy(
        late_fee_percent=settings.get("late_cancellation_fee_percent", on),
        worker_share_percent=settings.get("late_cancellation_worker_share_percent", on))
    return pricing.cancellation_charge(estimate_for_job(job).subtotal_cents, True, policy)


def on_gig_cancelled(job_id: int, late: bool) -> dict:
    """Cancellation or no-show: a late cancellation by the client is charged per the policy settings (the
    worker's share is payable to them, the rest is fee revenue) and collected from the hold; otherwise
    the hold is released and nothing is charged (commits, idempotent)."""
    job = _job(job_id)
    if job.status not in CANCELLED:
        raise Conflict(f"Gig {job_id} is {job.status}, not cancelled.")
    on = _on(job.cancelled_at)
    chargeable = late and job.status == "cancelled" and job.worker_id is not None and job.agreed_rate_cents
    charge = _cancellation_charge(job, on) if chargeable else None
    if charge is not None and charge.charged_cents > 0:
        spec = rules.entry_cancellation_charged(job.id, job.client_id, job.worker_id, charge,
                                                bool(job.worker_was_member), on)
        ledger.post(spec, source_type="job", source_id=job.id)
        _collect(job, charge.charged_cents, on)
    else:
        payment = payment_for(job.id)
        if payment is not None and _claim(payment, Payment.status.in_(_COLLECTABLE), status="voided"):
            payments.provider(payment.provider).void(payment, f"job:{job.id}:void")
    db.session.commit()
    return summary(job_id)


def _parse_percent(value) -> Fraction:
    try:
        return parse_fraction(str(value), minimum=Fraction(0), maximum=Fraction(100))
    except MoneyFormatError as exc:
        raise ValidationFailed({"refund_percent": f"Enter a percent from 0 to 100 ({exc})."}) from exc


def refund_dispute(job_id: int, refund_percent, actor_id: int | None) -> dict:
    """Dispute outcome: refund ``refund_percent`` of what the client paid (rounded half up in the client's
    favour), borne by the worker and the co-op in proportion to earnings : fee (commits).

    One refund per gig; repeating it answers the same summary. Refused (``Conflict``) while the client has
    not paid, or when the worker's share exceeds their unpaid earnings (no worker balance goes negative).
    """
    percent = _parse_percent(refund_percent)
    job = _job(job_id)
    if job.status not in CHARGEABLE:
        raise Conflict(f"Gig {job_id} is {job.status}; resolve the dispute (confirm the gig) before refunding.")
    price = price_for_job(job)
    _post_charge(job, price)  # the confirmation's billing, in case it has not run yet
    payment = _collect(job, price.client_total_cents, _on(job.confirmed_at))
    if payment.status != "captured":
        db.session.commit()  # the gig's charge and invoice stand; only the refund has to wait
        raise Conflict("The client has not paid for this gig yet; settle the invoice before refunding.")
    refund = pricing.dispute_refund(payment.amount_cents, percent).refund_cents
    if payment.refunded_cents or refund == 0:
        if payment.refunded_cents not in (0, refund):
            raise Conflict(f"Gig {job_id} was already refunded {payment.refunded_cents} cents; one refund per gig.")
        db.session.commit()
        return summary(job_id)
    spec = rules.entry_refund(job.id, job.worker_id, price, refund, bool(job.worker_was_member), _on(None))
    spec = _via_bank(spec) if payment.provider == "bank_transfer" else spec
    payable = rules.worker_payable(job.worker_id)
    ledger.lock_accounts([payable])
    worker_part = sum(p.amount_cents for p in spec.postings if p.account_code == payable)
    if worker_part > -ledger.balance(payable):
        db.session.commit()
        raise Conflict("The worker has already been paid out; their share of this refund exceeds what the co-op "
                       "still owes them. Settle it with the worker first.")
    if _claim(payment, Payment.status == "captured", Payment.refunded_cents == 0, refunded_cents=refund):
        payments.provider(payment.provider).refund(payment, refund, f"job:{job_id}:refund")
        ledger.post(spec, source_type="job", source_id=job_id)
        audit.record("gig.refunded", actor_id=actor_id, subject=job, detail=f"{refund} cents ({percent}%)")
    db.session.commit()
    return summary(job_id)


def summary(job_id: int) -> dict:
    """The billing state of a gig: entries posted for it and its payment (the answer of every call above)."""
    entries = ledger.entries_for("job", job_id)
    payment = payment_for(job_id)
    invoice = db.session.scalar(select(Invoice).where(Invoice.job_id == job_id)) if payment else None
    return {
        "job_id": job_id,
        "entries": {entry.idempotency_key: entry.id for entry in entries},
        "payment": None if payment is None else {
            "id": payment.id, "provider": payment.provider, "status": payment.status,
            "authorized_cents": payment.authorized_cents, "amount_cents": payment.amount_cents,
            "refunded_cents": payment.refunded_cents, "card_last4": payment.card_last4,
            "failure_message": payment.failure_message,
        },
        "invoice": None if invoice is None else {"id": invoice.id, "number": invoice.number,
                                                 "amount_cents": invoice.amount_cents, "status": invoice.status},
    }


def charge_unbilled(limit: int = 500) -> int:
    """Bill the confirmed gigs whose charge is not posted yet (a confirmation hook that never ran, demo
    data, gigs confirmed before billing existed), oldest first; returns how many were billed. Safe to run
    at any time and concurrently: each gig is billed through :func:`on_gig_confirmed`."""
    charged = select(JournalEntry.source_id).where(JournalEntry.source_type == "job",
                                                   JournalEntry.idempotency_key.like("gig:%:charge"))
    ids = db.session.scalars(select(Job.id).where(Job.status.in_(CHARGEABLE), Job.id.not_in(charged))
                             .order_by(Job.id).limit(limit)).all()
    billed = 0
    for job_id in ids:
        try:
            on_gig_confirmed(job_id)
            billed += 1
        except AppError as exc:
            db.session.rollback()
            log.warning("gig %s could not be billed: %s", job_id, exc.message)
    return billed


def receipt(job_id: int) -> dict:
    """The receipt of a confirmed gig (built in ``services.receipts``): hours, rate, the worker's earnings,
    the co-op fee and what it funds."""
    from marketplace.services import receipts

    return receipts.receipt(job_id)
