"""A worker's own numbers and calendar: earnings this period, upcoming gigs and a week of gigs.

The period is the calendar month in the co-op's time zone (config ``COOP_TIMEZONE``), the same period
the fairness term of matching counts hours in. Read-only: nothing here commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from marketplace.domain.gig_states import BOOKED_STATES, GigState
from marketplace.domain.pricing import labour_cents
from marketplace.extensions import db
from marketplace.models import Job
from marketplace.models.base import utcnow

# Gigs whose hours the client has accepted (or the timer confirmed): they count as earned.
EARNED_STATES = (GigState.CONFIRMED.value, GigState.REVIEWED.value)
# Gigs that occupy a day of the worker's calendar (cancelled and no-show ones do not).
CALENDAR_STATES = tuple(s.value for s in BOOKED_STATES) + (
    GigState.COMPLETED.value, GigState.CONFIRMED.value, GigState.REVIEWED.value, GigState.DISPUTED.value,
)


@dataclass(frozen=True)
class Earnings:
    period_start: date
    gigs: int
    minutes: int
    cents: int


@dataclass(frozen=True)
class CalendarDay:
    day: date
    is_today: bool
    gigs: list[Job]


def coop_zone() -> ZoneInfo:
    """The co-op's time zone, in which periods, weekdays and availability are read."""
    return ZoneInfo(current_app.config["COOP_TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    """Today's date on the co-op's clock."""
    return (now or utcnow()).astimezone(coop_zone()).date()


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=coop_zone()).astimezone(UTC)


def period_bounds(on: date | None = None) -> tuple[date, datetime, datetime]:
    """The fairness period containing ``on`` (today by default): its first day and its UTC [start, end)."""
    on = on or local_today()
    first = on.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, _local_midnight_utc(first), _local_midnight_utc(following)


def earnings_this_period(worker_id: int, on: date | None = None) -> Earnings:
    """Earnings = agreed hourly rate × actual minutes of the worker's confirmed gigs that started this period.

    Each gig's labour is rounded half up to the cent once (``domain.pricing.labour_cents``), the same
    amount the worker is paid for it, so the total is the sum of what each gig pays.
    """
    first, start, end = period_bounds(on)
    rows = db.session.execute(
        select(Job.agreed_rate_cents, Job.actual_minutes).where(
            Job.worker_id == worker_id, Job.status.in_(EARNED_STATES),
            Job.starts_at >= start, Job.starts_at < end,
        )
    ).all()
    minutes = sum(m or 0 for _, m in rows)
    cents = sum(labour_cents(int(rate or 0), int(m or 0)) for rate, m in rows)
    return Earnings(period_start=first, gigs=len(rows), minutes=minutes, cents=cents)


def upcoming_gigs(worker_id: int, now: datetime | None = None, limit: int = 10) -> list[Job]:
    """The worker's booked gigs (accepted or in progress) that have not ended yet, soonest first.

    A gig in progress stays listed even past its planned end: it is still the worker's to complete.
    """
    now = now or utcnow()
    in_progress = Job.status == GigState.IN_PROGRESS.value
    accepted_ahead = (Job.status == GigState.ACCEPTED.value) & (Job.ends_at >= now)
    return list(db.session.scalars(
        select(Job).where(Job.worker_id == worker_id, in_progress | accepted_ahead)
        .order_by(Job.starts_at, Job.id).limit(limit)
    ))


def week_start_for(day: date, offset_weeks: int = 0) -> date:
    """The Monday of ``day``'s week, moved by ``offset_weeks`` whole weeks."""
    return day - timedelta(days=day.weekday()) + timedelta(weeks=offset_weeks)


def week_schedule(worker_id: int, week_start: date, today: date | None = None) -> list[CalendarDay]:
    """Seven local days from ``week_start`` with the worker's gigs starting on each, in start order.

    Cancelled and no-show gigs are left out: they no longer hold the worker's time.
    """
    today = today or local_today()
    start, end = _local_midnight_utc(week_start), _local_midnight_utc(week_start + timedelta(days=7))
    gigs = db.session.scalars(
        select(Job).where(
            Job.worker_id == worker_id, Job.status.in_(CALENDAR_STATES),
            Job.starts_at >= start, Job.starts_at < end,
        ).order_by(Job.starts_at, Job.id)
    ).all()
    zone = coop_zone()
    days = [CalendarDay(week_start + timedelta(days=i), week_start + timedelta(days=i) == today, [])
            for i in range(7)]
    for gig in gigs:
        index = (gig.starts_at.astimezone(zone).date() - week_start).days
        if 0 <= index < 7:
            days[index].gigs.append(gig)
    return days
