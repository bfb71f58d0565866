"""Factories for the money tests: gigs put straight into the state a test needs (the gig services are not
called, so the money services are tested on their own), and ledger sums read with plain SQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Job, JournalEntry, Posting, ServiceCategory

BOOKED_AT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def category() -> ServiceCategory:
    row = db.session.scalar(select(ServiceCategory).where(ServiceCategory.slug == "money-tests"))
    if row is None:
        row = ServiceCategory(slug="money-tests", name="Money tests", rate_floor_cents=1000)
        db.session.add(row)
        db.session.flush()
    return row


def make_job(client, worker, *, status="confirmed", rate_cents=3000, estimated_minutes=120, actual_minutes=120,
             member=True, accepted_at=BOOKED_AT) -> Job:
    """A gig in ``status`` with its worker, agreed rate and hours, committed."""
    starts = accepted_at + timedelta(days=2)
    done = status in ("completed", "confirmed", "reviewed", "disputed")
    job = Job(client_id=client.id, category_id=category().id, title=f"Test gig for {client.name}",
              lat_e6=37_770_000, lng_e6=-122_420_000, starts_at=starts, ends_at=starts + timedelta(hours=2),
              estimated_minutes=estimated_minutes, status=status, worker_id=worker.id if worker else None,
              agreed_rate_cents=rate_cents if worker else None, actual_minutes=actual_minutes if done else None,
              accepted_at=accepted_at if worker else None, worker_was_member=member if worker else None,
              completed_at=starts + timedelta(hours=2) if done else None,
              confirmed_at=starts + timedelta(hours=3) if status in ("confirmed", "reviewed") else None)
    db.session.add(job)
    db.session.commit()
    return job


def set_status(job_id: int, status: str, **values) -> None:
    """Move a gig as the gig services would (tests only)."""
    job = db.session.get(Job, job_id)
    job.status = status
    for name, value in values.items():
        setattr(job, name, value)
    if status in ("confirmed", "reviewed") and job.confirmed_at is None:
        job.confirmed_at = job.starts_at + timedelta(hours=3)
        job.actual_minutes = job.actual_minutes or job.estimated_minutes
    if status == "cancelled" and job.cancelled_at is None:
        job.cancelled_at = job.starts_at - timedelta(hours=2)
    db.session.commit()


def postings_total() -> int:
    return int(db.session.scalar(select(func.coalesce(func.sum(Posting.amount_cents), 0))))


def entry_count(key_like: str = "%") -> int:
    return db.session.scalar(select(func.count()).select_from(JournalEntry)
                             .where(JournalEntry.idempotency_key.like(key_like)))
