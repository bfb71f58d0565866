"""Demo marketplace activity: worker profiles across the demo city, and gigs in every state of their lifecycle.

Everything goes through the services people use (``profiles.save_profile``, ``jobs.post_job``,
``offers.accept_offer``, ``gigs.*``, ``reviews.write_review``), so matching, offers, the audit trail,
notifications and billing hold exactly what production would. Workers get bank details so the weekly
payout run can pay them; last year's gigs are paid out month by month.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from marketplace.domain import city
from marketplace.extensions import db
from marketplace.models import Job, Offer, Role, ServiceCategory, User, UserRole, WorkerProfile
from marketplace.models.base import utcnow
from marketplace.services import gigs, jobs, matching, offers, payouts, profiles, reviews

BIOS = [
    "Careful, punctual and happy to bring my own supplies.",
    "Ten years of experience; references on request.",
    "I love this work and treat every home like my own.",
    "Reliable weekday help; evenings by arrangement.",
    "Member-owner since the co-op started. Ask me anything.",
]
TITLES = {
    "house-cleaning": "Deep clean of a two-bedroom flat", "childcare": "After-school care for two kids",
    "dog-walking": "Midday walks for a friendly labrador", "handyman": "Mount shelves and fix a door",
    "moving-help": "Help carrying boxes to a new flat", "tutoring": "Algebra tutoring before exams",
    "gardening": "Spring clean-up of a small yard", "elder-care": "Company and errands for my father",
}
# (final state, how many): the demo shows each stage of a gig's life.
PLAN = [("offered", 5), ("requested_invite", 1), ("accepted", 4), ("in_progress", 2), ("completed", 3),
        ("confirmed", 3), ("reviewed", 4), ("disputed", 1), ("cancelled", 2), ("no_show", 1)]


def _users(role: str) -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole).where(UserRole.role == role).order_by(User.id)))


def seed_profiles(rng: random.Random) -> int:
    """A profile for every demo worker without one: 1–3 services 10–60% above the floor, a neighbourhood with a
    few hundred metres of jitter, a 5–15 km radius, weekday (and some weekend) availability, bank details."""
    categories = list(db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.id)))
    names = sorted(city.NEIGHBOURHOODS)
    made = 0
    for worker in _users(Role.WORKER.value):
        if db.session.get(WorkerProfile, worker.id) is not None:
            continue
        chosen = rng.sample(categories, rng.randint(1, 3))
        services = [(c.slug, c.rate_floor_cents * rng.randint(110, 160) // 100 // 50 * 50) for c in chosen]
        neighbourhood = rng.choice(names)
        lat, lng = city.coordinates(neighbourhood)
        start, end = rng.choice([("08:00", "16:00"), ("09:00", "17:00"), ("10:00", "18:00"), ("07:00", "15:00")])
        days = range(7) if rng.random() < 0.3 else range(5)
        profiles.save_profile(
            worker.id, bio=rng.choice(BIOS), neighbourhood=neighbourhood,
            lat=lat + rng.uniform(-0.004, 0.004), lng=lng + rng.uniform(-0.004, 0.004),
            radius_km=rng.randint(5, 15), services=services, windows=[(d, start, end) for d in days],
            blocked_dates=[date.today() + timedelta(days=rng.randint(20, 60))],
        )
        payouts.set_payout_account(worker.id, worker.name, f"DEMO-{worker.id:04d}-{rng.randint(1000, 9999)}")
        made += 1
    return made


def _weekday_start(rng: random.Random, zone: ZoneInfo) -> datetime:
    day = datetime.now(zone).date() + timedelta(days=rng.randint(2, 12))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(rng.choice((9, 10, 11, 13))), zone)


def _post(rng: random.Random, client: User, zone: ZoneInfo) -> Job:
    categories = list(db.session.scalars(select(ServiceCategory).order_by(ServiceCategory.id)))
    category = rng.choice(categories)
    neighbourhood = rng.choice(sorted(city.NEIGHBOURHOODS))
    return jobs.post_job(
        client.id, category=category.slug, title=TITLES.get(category.slug, category.name),
        description="Details on the job page; message me with any question.", neighbourhood=neighbourhood,
        address=f"{rng.randint(100, 4999)} {rng.choice(['Grand', 'Park', 'Lakeshore', 'Telegraph'])} Ave",
        lat=None, lng=None, starts_at=_weekday_start(rng, zone), hours=rng.choice(["2", "2.5", "3", "4"]),
        max_rate_cents=None,
    )


def _first_offeree(job_id: int) -> int | None:
    return db.session.scalar(select(Offer.worker_id).where(Offer.job_id == job_id, Offer.status == "pending")
                             .order_by(Offer.score_ppm.desc(), Offer.id))


def _drive(job: Job, final: str, rng: random.Random) -> None:
    """Walk one posted job through the services to ``final``."""
    if final == "cancelled" and rng.random() < 0.5:
        jobs.cancel_job(job.id, job.client_id, "Found a neighbour to help")
        return
    worker_id = _first_offeree(job.id)
    if worker_id is None or final == "offered":
        return
    offers.accept_offer(job.id, worker_id)
    if final == "cancelled":
        jobs.cancel_job(job.id, job.client_id, "Plans changed")
        return
    if final == "no_show":
        gigs.mark_no_show(job.id, job.client_id, now=job.starts_at + timedelta(hours=1))
        return
    if final == "accepted":
        return
    gigs.start_gig(job.id, worker_id)
    if final == "in_progress":
        return
    gigs.complete_gig(job.id, worker_id, job.estimated_minutes + rng.choice((-30, 0, 0, 15)))
    if final == "completed":
        return
    if final == "disputed":
        gigs.dispute_gig(job.id, job.client_id, "Two rooms were left undone.")
        return
    gigs.confirm_gig(job.id, job.client_id)
    if final == "reviewed":
        reviews.write_review(job.id, job.client_id, rng.choice((4, 5, 5)), "Lovely work, would book again.")
        reviews.write_review(job.id, worker_id, 5, "Clear instructions and a friendly welcome.")


def seed_gigs(rng: random.Random) -> dict[str, int]:
    """Jobs in every state, posted by demo clients through the live services; returns counts per state."""
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    clients = _users(Role.CLIENT.value)
    made: dict[str, int] = {}
    for final, count in PLAN:
        for _ in range(count):
            job = _post(rng, rng.choice(clients), zone)
            if final == "requested_invite":
                offered = set(db.session.scalars(select(Offer.worker_id).where(Offer.job_id == job.id)))
                others = matching.find_matches(job, limit=1, exclude_worker_ids=offered)
                if others:
                    offers.invite_worker(job.id, job.client_id, others[0].worker_id)
            else:
                _drive(job, final, rng)
            state = db.session.get(Job, job.id).status
            made[state] = made.get(state, 0) + 1
    return made


def pay_out_year(year: int) -> int:
    """Run the payout batch at the end of every month of ``year`` (as the weekly task would have); returns
    how many batches paid someone."""
    paid = 0
    for month in range(1, 13):
        last_day = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
        if last_day >= utcnow().date():
            break
        if payouts.create_payout_batch(on=last_day) is not None:
            paid += 1
    return paid
