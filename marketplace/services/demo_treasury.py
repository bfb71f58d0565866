"""Demo treasury: last year is closed and its patronage dividend has been run; the current year is open.

A new user of the demo therefore sees notices of allocation, capital accounts and the open books at once.
Every treasury step goes through the services a treasurer and the board use (``periods``, ``dividends``),
so the demo holds exactly the rows production makes. Only last year's *work history* is written directly:
backdated gigs cannot go through the live gig lifecycle, so when the demo has no member gigs in that year
they are added as confirmed jobs, priced with the billing rules (``billing.price_for_job``: the fee rate in
force when booked) and posted with the ledger's own entry builders (charge and payment captured), so the
patronage SQL, the fee check of ``flask ledger verify`` and the reports read them like any other gig.
Last year's demo books (``demo_money.seed_books``) are recorded first, so the run closes a complete year.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from marketplace.domain import city
from marketplace.domain import ledger as chart
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import Job, ServiceCategory, User, UserRole
from marketplace.models.treasury import FiscalPeriod
from marketplace.services import billing, demo_money, dividends, fees, ledger_bulk, periods
from marketplace.services.patronage import gig_patronage
from marketplace.services.worker_stats import local_today

DEMO_POLICY = {"reserve_percent": "20", "hours_weight": "1", "earnings_weight": "1", "cash_percent": "30",
               "small_allocation_threshold_cents": 1_000, "revolving_years": 5, "loss_reserve_percent": "100"}
GIG_MINUTES = (360, 420, 480, 540, 600, 720)
RATES_CENTS = tuple(range(3_000, 4_800, 200))


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        raise Conflict(f"The demo account {email} is missing: run the demo seed first.")
    return user


def _period(name: str, start: date, end: date, treasurer: User, admin: User) -> FiscalPeriod:
    """The named period with an approved demo policy, created through the services when missing."""
    period = db.session.scalar(select(FiscalPeriod).where(FiscalPeriod.name == name))
    if period is None:
        period = periods.create_period(name, start, end, treasurer.id)
    if periods.current_policy(period.id) is None and dividends.run_for_period(period.id) is None:
        policy, _ = periods.create_policy(period.id, treasurer.id, note="Demo policy", **DEMO_POLICY)
        periods.approve_policy(policy.id, admin.id)
    return period


def _people(role: str, *, without: str | None = None) -> list[int]:
    query = select(UserRole.user_id).where(UserRole.role == role).order_by(UserRole.user_id)
    if without:
        query = query.where(UserRole.user_id.not_in(select(UserRole.user_id).where(UserRole.role == without)))
    return list(db.session.scalars(query))


def _has_member_gigs(period: FiscalPeriod) -> bool:
    return db.session.scalar(select(func.count()).select_from(gig_patronage(period).subquery())) > 0


def _gig(rng: random.Random, year: int, worker_id: int, client_id: int, category_id: int, member: bool) -> Job:
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    day = date(year, 1, 1) + timedelta(days=rng.randrange(360))
    starts = datetime.combine(day, time(rng.choice((8, 9, 10, 13))), zone).astimezone(UTC)
    minutes = rng.choice(GIG_MINUTES)
    neighbourhood = rng.choice(sorted(city.NEIGHBOURHOODS))
    lat, lng = city.coordinates(neighbourhood)
    return Job(client_id=client_id, category_id=category_id, title="Demo gig", neighbourhood=neighbourhood,
               lat_e6=round(lat * 1_000_000), lng_e6=round(lng * 1_000_000), starts_at=starts,
               ends_at=starts + timedelta(minutes=minutes), estimated_minutes=minutes, status="confirmed",
               worker_id=worker_id, agreed_rate_cents=rng.choice(RATES_CENTS), actual_minutes=minutes,
               created_at=starts - timedelta(days=4), accepted_at=starts - timedelta(days=3),
               completed_at=starts + timedelta(minutes=minutes), confirmed_at=starts + timedelta(hours=14),
               worker_was_member=member)


def _post_history(jobs: list[Job], year_end: date) -> None:
    """Charge and payment entries for each backdated gig, posted by the ledger's bulk path, keyed by gig."""
    rates = fees.all_rates()
    for job in jobs:
        price = billing.price_for_job(job, rates)
        on = min(fees.local_date(job.confirmed_at), year_end)
        specs = [chart.entry_gig_charged(job.id, job.client_id, job.worker_id, price, job.worker_was_member, on),
                 chart.entry_payment_captured(job.id, job.client_id, price.client_total_cents, on)]
        ledger_bulk.post_many(specs, source_type="job", source_id=job.id)


def seed_history(period: FiscalPeriod, seed: int = 2025) -> int:
    """A year of confirmed gigs for the demo's workers (members busier than probationers); returns how many.

    Does nothing when the period already has member gigs (another demo module made them). Commits.
    """
    if _has_member_gigs(period):
        return 0
    rng = random.Random(seed)
    clients = _people("client")
    categories = list(db.session.scalars(select(ServiceCategory.id).order_by(ServiceCategory.id)))
    members, probationers = _people("member"), _people("worker", without="member")
    if not clients or not categories or not members:
        return 0
    plan = [(worker, True, rng.randint(8, 30)) for worker in members]
    plan += [(worker, False, rng.randint(2, 6)) for worker in probationers]
    jobs = [_gig(rng, period.start_date.year, worker, rng.choice(clients), rng.choice(categories), member)
            for worker, member, count in plan for _ in range(count)]
    db.session.add_all(jobs)
    db.session.flush()
    _post_history(jobs, period.end_date)
    db.session.commit()
    return len(jobs)


def seed_treasury(today: date | None = None) -> dict[str, object]:
    """Close last year and run its dividend (previewed, approved by the demo admin, run by the demo
    treasurer), and open the current year with an approved policy. Safe to call again: finished steps
    are skipped. Returns what was done."""
    today = today or local_today()
    treasurer, admin = _user("treasurer@demo.coop"), _user("admin@demo.coop")
    year = today.year - 1
    last = _period(f"FY {year}", date(year, 1, 1), date(year, 12, 31), treasurer, admin)
    demo_money.seed_books(year)
    gigs = seed_history(last)
    if last.status != "closed":
        periods.close_period(last.id, treasurer.id)
    run = dividends.run_for_period(last.id) or dividends.approve_run(last.id, admin.id)
    if run.status in ("approved", "failed"):
        run = dividends.start_run(last.id, treasurer.id)
    outcome = dividends.execute_run(run.id) if run.status != "completed" else "completed"
    current = _period(f"FY {today.year}", date(today.year, 1, 1), date(today.year, 12, 31), treasurer, admin)
    return {"history gigs": gigs, "closed period": last.name, "dividend run": outcome, "open period": current.name}
