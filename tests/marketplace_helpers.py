"""Factories for marketplace tests: categories, workers with real profiles, job times and posted jobs."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from marketplace.extensions import db
from marketplace.models import Job, JobEvent, Offer, ServiceCategory
from marketplace.models.base import utcnow
from marketplace.services import jobs, profiles

ALL_WEEK = [(day, "00:00", "24:00") for day in range(7)]
_slugs = itertools.count(1)


def make_category(slug: str | None = None, floor: int = 2000) -> ServiceCategory:
    slug = slug or f"service-{next(_slugs)}"
    category = ServiceCategory(slug=slug, name=slug.replace("-", " ").title(), rate_floor_cents=floor)
    db.session.add(category)
    db.session.commit()
    return category


def make_worker(make_user, category: ServiceCategory | str, *, rate: int = 2500, neighbourhood: str = "Downtown",
                radius_km: int = 10, windows=None, member: bool = False, **user_kwargs):
    """A worker with a saved profile offering ``category`` (through the real profile service)."""
    roles = ("worker", "member") if member else ("worker",)
    user = make_user(*roles, **user_kwargs)
    slug = category if isinstance(category, str) else category.slug
    profiles.save_profile(user.id, bio="", neighbourhood=neighbourhood, lat=None, lng=None, radius_km=radius_km,
                          services=[(slug, rate)], windows=ALL_WEEK if windows is None else windows,
                          blocked_dates=[])
    return user


def local_start(days: int = 2, hour: int = 10, minute: int = 0) -> datetime:
    """An aware start ``days`` from today at ``hour``:``minute`` on the co-op's clock."""
    from flask import current_app

    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    day = utcnow().astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def next_local(hour: int) -> datetime:
    """The next moment it is ``hour``:00 on the co-op's clock (always within 24 hours)."""
    today = local_start(days=0, hour=hour)
    return today if today > utcnow() else local_start(days=1, hour=hour)


def post(client, category, **overrides) -> Job:
    fields = {"category": category if isinstance(category, str) else category.slug, "title": "Clean the flat",
              "description": "Two rooms", "neighbourhood": "Downtown", "address": "12 Private Lane",
              "starts_at": local_start(), "hours": "2"}
    fields.update(overrides)
    return jobs.post_job(client.id, **fields)


def offers_of(job_id: int, status: str | None = None) -> list[Offer]:
    db.session.expire_all()
    stmt = select(Offer).where(Offer.job_id == job_id)
    if status:
        stmt = stmt.where(Offer.status == status)
    return list(db.session.scalars(stmt.order_by(Offer.id)))


def events_of(job_id: int) -> list[JobEvent]:
    return list(db.session.scalars(select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)))


def event_count(job_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(JobEvent).where(JobEvent.job_id == job_id))


def fresh(job_id: int) -> Job:
    db.session.expire_all()
    return db.session.get(Job, job_id)


def make_offers_overdue(job_id: int) -> None:
    db.session.execute(update(Offer).where(Offer.job_id == job_id, Offer.status == "pending")
                       .values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
