"""Test helpers for the books: confirmed gigs inserted directly and charged through the real ledger service."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marketplace.domain import ledger as journal
from marketplace.domain.pricing import GigPrice, price_gig


def category(db, slug: str = "house-cleaning"):
    from marketplace.models import ServiceCategory

    row = ServiceCategory(slug=slug, name=slug.replace("-", " ").title(), rate_floor_cents=1500)
    db.session.add(row)
    db.session.commit()
    return row


def confirmed_gig(db, *, client, worker, cat, on: date, rate_cents: int, minutes: int, member: bool):
    """A Job row in state confirmed, as the marketplace leaves it after the client confirms."""
    from marketplace.models import Job

    start = datetime.combine(on, time(17, 0), tzinfo=UTC)
    job = Job(client_id=client.id, category_id=cat.id, title=f"Gig on {on}", lat_e6=37_770_000, lng_e6=-122_420_000,
              starts_at=start, ends_at=start + timedelta(minutes=minutes), estimated_minutes=max(30, minutes),
              status="confirmed", worker_id=worker.id, agreed_rate_cents=rate_cents, actual_minutes=minutes,
              accepted_at=start - timedelta(days=2), completed_at=start + timedelta(minutes=minutes),
              confirmed_at=start + timedelta(hours=3), worker_was_member=member)
    db.session.add(job)
    db.session.commit()
    return job


def charge(db, job) -> GigPrice:
    """Price the gig with the fee rate in force when it was booked and post entry_gig_charged (commits)."""
    from marketplace.services import fees, ledger

    price = price_gig(job.agreed_rate_cents, job.actual_minutes, fees.fee_rate_for_job(job))
    on = job.confirmed_at.date()
    ledger.post(journal.entry_gig_charged(job.id, job.client_id, job.worker_id, price, job.worker_was_member, on),
                source_type="job", source_id=job.id)
    db.session.commit()
    return price


def capture(db, job, price: GigPrice) -> None:
    from marketplace.services import ledger

    ledger.post(journal.entry_payment_captured(job.id, job.client_id, price.client_total_cents,
                                               job.confirmed_at.date()), source_type="job", source_id=job.id)
    db.session.commit()


def payout(db, batch_id: int, worker_id: int, amount_cents: int, on: date) -> None:
    from marketplace.services import ledger

    ledger.post(journal.entry_payout(batch_id, worker_id, amount_cents, on))
    db.session.commit()
