"""Worker profiles: services and rates, home and service area, weekly availability, blocked dates,
the public profile, browsing workers, and the hours each worker had this fairness period."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace.domain.money import format_cents
from marketplace.errors import Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    AvailabilityWindow,
    BlockedDate,
    Review,
    Role,
    ServiceCategory,
    User,
    WorkerPeriodStats,
    WorkerProfile,
    WorkerService,
)
from marketplace.services import audit
from marketplace.services.profile_browse import Page, browse_workers
from marketplace.services.profile_input import (
    InputProblem,
    parse_bio,
    parse_blocked_dates,
    parse_location,
    parse_radius,
    parse_windows,
    service_box_e6,
    weekly_minutes,
)

__all__ = ["Page", "browse_workers", "get_profile", "save_profile", "public_profile", "hours_this_period",
           "record_offered", "record_worked", "local_today", "period_start"]

MAX_RATE_CENTS = 100_000  # $1,000 an hour: anything above is a typo
MAX_PUBLIC_REVIEWS = 20
_FIELDS = {"bio": "bio", "location": "neighbourhood", "radius_km": "radius_km", "windows": "availability",
           "blocked": "blocked_dates", "services": "services"}


def local_today() -> date:
    """Today's date in the co-op's time zone (config ``COOP_TIMEZONE``)."""
    return datetime.now(ZoneInfo(current_app.config["COOP_TIMEZONE"])).date()


def period_start(on: date) -> date:
    """The fairness period containing ``on`` is its calendar month; this is its first day."""
    return on.replace(day=1)


def get_profile(worker_id: int) -> WorkerProfile | None:
    """The worker's profile, or None when they have not created one yet."""
    return db.session.get(WorkerProfile, worker_id)


def save_profile(worker_id: int, *, bio: str, neighbourhood: str, lat: float | None, lng: float | None,
                 radius_km: int, services: list[tuple[str, int]], windows: list[tuple[int, str, str]],
                 blocked_dates: list[date]) -> WorkerProfile:
    """Create or replace a worker's profile and commit.

    Rules: only users with the worker role have a profile; every rate is at least its category's
    floor (field ``services``); the radius is 1–100 km; weekly windows are well formed and do not
    overlap (field ``availability``); the neighbourhood is a known one, and the home defaults to
    its centre. Each service's area box and the declared weekly minutes are recomputed here, so the
    candidate query always reads a box that contains the whole service circle.
    """
    user = db.session.get(User, worker_id)
    if user is None:
        raise NotFound("No such user.")
    if not user.has_role(Role.WORKER.value):
        raise Forbidden("Only workers can have a profile. Register as a worker to offer services.")
    problems: dict[str, str] = {}
    values = {}
    readers = {
        "bio": lambda: parse_bio(bio),
        "location": lambda: parse_location(neighbourhood, lat, lng),
        "radius_km": lambda: parse_radius(radius_km),
        "windows": lambda: parse_windows(windows or []),
        "blocked": lambda: parse_blocked_dates(blocked_dates or []),
        "services": lambda: _parse_services(services or []),
    }
    for key, read in readers.items():
        try:
            values[key] = read()
        except InputProblem as problem:
            problems.setdefault(problem.field, problem.message)
        except (TypeError, ValueError):
            problems.setdefault(_FIELDS[key], "This value is not in a valid form.")
    if problems:
        raise ValidationFailed(problems)
    profile = get_profile(worker_id) or WorkerProfile(user_id=worker_id, rating_sum=0, rating_count=0, is_listed=True)
    db.session.add(profile)
    _apply(profile, values)
    audit.record("profile.saved", actor_id=worker_id, subject=user,
                 detail=f"{len(values['services'])} services, radius {values['radius_km']} km")
    db.session.commit()
    return profile


def _parse_services(services: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """``(category_id, rate_cents)`` pairs; each category once, active, and the rate at least its floor."""
    pairs = [(str(slug or "").strip(), rate) for slug, rate in services]
    if not pairs:
        raise InputProblem("services", "Offer at least one service.")
    found = {c.slug: c for c in db.session.scalars(
        select(ServiceCategory).where(ServiceCategory.slug.in_({slug for slug, _ in pairs})))}
    parsed: dict[int, int] = {}
    for slug, rate in pairs:
        category = found.get(slug)
        if category is None or not category.is_active:
            raise InputProblem("services", f"'{slug}' is not a service the co-op offers.")
        if category.id in parsed:
            raise InputProblem("services", f"{category.name} is listed twice.")
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            raise InputProblem("services", f"{category.name}: enter the hourly rate in whole cents.")
        if rate < category.rate_floor_cents:
            raise InputProblem("services", f"{category.name}: ${format_cents(rate)}/h is below the co-op's floor "
                                           f"of ${format_cents(category.rate_floor_cents)}/h.")
        if rate > MAX_RATE_CENTS:
            raise InputProblem("services", f"{category.name}: ${format_cents(rate)}/h is above the "
                                           f"${format_cents(MAX_RATE_CENTS)}/h limit.")
        parsed[category.id] = rate
    return list(parsed.items())


def _apply(profile: WorkerProfile, values: dict) -> None:
    """Write validated values onto the profile, reusing rows so unique constraints never clash mid-flush."""
    profile.bio = values["bio"]
    profile.neighbourhood, profile.lat_e6, profile.lng_e6 = values["location"]
    profile.radius_km = values["radius_km"]
    profile.weekly_minutes = weekly_minutes(values["windows"])
    min_lat, max_lat, min_lng, max_lng = service_box_e6(profile.lat_e6, profile.lng_e6, profile.radius_km)
    rates = dict(values["services"])
    existing = {service.category_id: service for service in profile.services}
    profile.services = [
        existing.get(category_id) or WorkerService(category_id=category_id) for category_id in rates
    ]
    for service in profile.services:
        service.rate_cents = rates[service.category_id]
        service.min_lat_e6, service.max_lat_e6 = min_lat, max_lat
        service.min_lng_e6, service.max_lng_e6 = min_lng, max_lng
    profile.windows = [AvailabilityWindow(weekday=weekday, start_minute=lo, end_minute=hi)
                       for weekday, lo, hi in values["windows"]]
    kept = {row.day: row for row in profile.blocked_dates}
    profile.blocked_dates = [kept.get(day) or BlockedDate(day=day) for day in values["blocked"]]


def public_profile(worker_id: int) -> dict:
    """What anyone may see of a worker: name, bio, area, services and rates, rating, published reviews.

    Rule: only listed profiles of active accounts are public; reviews show only once published
    (double-blind), newest first, at most 20; the member badge shows worker-owners.
    """
    profile = get_profile(worker_id)
    if profile is None or not profile.is_listed or not profile.user.is_active_account:
        raise NotFound("No such worker.")
    services = db.session.execute(
        select(ServiceCategory.name, ServiceCategory.slug, WorkerService.rate_cents)
        .join(WorkerService, WorkerService.category_id == ServiceCategory.id)
        .where(WorkerService.worker_id == worker_id).order_by(ServiceCategory.name)
    ).all()
    reviews = db.session.execute(
        select(Review.stars, Review.body, Review.published_at, User.name)
        .join(User, User.id == Review.author_id)
        .where(Review.subject_id == worker_id, Review.published_at.is_not(None))
        .order_by(Review.published_at.desc(), Review.id.desc()).limit(MAX_PUBLIC_REVIEWS)
    ).all()
    return {
        "worker_id": worker_id,
        "name": profile.user.name,
        "bio": profile.bio,
        "neighbourhood": profile.neighbourhood,
        "radius_km": profile.radius_km,
        "services": [(name, slug, rate) for name, slug, rate in services],
        "rating": profile.rating,
        "rating_count": profile.rating_count,
        "reviews": [{"stars": stars, "body": body, "published_at": published, "author": author.split()[0]}
                    for stars, body, published, author in reviews],
        "is_member": profile.user.has_role(Role.MEMBER.value),
    }


def hours_this_period(worker_id: int, on: date | None = None) -> dict:
    """Minutes offered to and worked by the worker in the fairness period (calendar month) of ``on``."""
    row = db.session.execute(
        select(WorkerPeriodStats.minutes_offered, WorkerPeriodStats.minutes_worked).where(
            WorkerPeriodStats.worker_id == worker_id,
            WorkerPeriodStats.period_start == period_start(on or local_today()))
    ).first()
    offered, worked = row if row else (0, 0)
    return {"minutes_offered": offered, "minutes_worked": worked}


def record_offered(worker_id: int, minutes: int, on: date) -> None:
    """Add ``minutes`` to the worker's offered time for the period of ``on`` (no commit; the caller's transaction)."""
    _increment(worker_id, "minutes_offered", minutes, on)


def record_worked(worker_id: int, minutes: int, on: date) -> None:
    """Add ``minutes`` to the worker's worked time for the period of ``on`` (no commit; the caller's transaction)."""
    _increment(worker_id, "minutes_worked", minutes, on)


def _increment(worker_id: int, column: str, minutes: int, on: date) -> None:
    """One atomic insert-or-add, so concurrent offers and completions never lose an increment."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise ValueError(f"minutes {minutes!r} must be a non-negative whole number")
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    counts = {"minutes_offered": 0, "minutes_worked": 0, column: minutes}
    statement = insert(WorkerPeriodStats).values(worker_id=worker_id, period_start=period_start(on), **counts)
    target = WorkerPeriodStats.__table__.c[column]
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["worker_id", "period_start"], set_={column: target + statement.excluded[column]}))
