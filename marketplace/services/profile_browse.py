"""Browsing workers: by category, by the neighbourhood they serve, by rating and by a free date, paginated."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import Float, case, cast, exists, func, literal, select

from marketplace.domain.city import NEIGHBOURHOODS
from marketplace.domain.geo import EARTH_RADIUS_KM
from marketplace.domain.paging import Page, bounded
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    AvailabilityWindow,
    BlockedDate,
    Role,
    ServiceCategory,
    User,
    UserRole,
    WorkerProfile,
    WorkerService,
)
from marketplace.models.base import MAX_PAGE

MAX_PER_PAGE = 100
KM_PER_MICRODEGREE = EARTH_RADIUS_KM * math.pi / 180 / 1_000_000


def browse_workers(*, category: str | None = None, neighbourhood: str | None = None, min_rating: float | None = None,
                   available_on: date | None = None, page: int = 1, per_page: int = 20) -> Page:
    """Listed workers of active accounts, best rated first, filtered and paginated.

    Filters: ``category`` (a slug they offer); ``neighbourhood`` (its centre lies within their service
    radius, by an equirectangular distance that is within a fraction of a percent of the great-circle
    one at city scale); ``min_rating`` (1–5, rated workers only); ``available_on`` (a weekly window
    on that weekday and the date not blocked). Unknown filter values are field errors.
    """
    conditions = _conditions(category, neighbourhood, min_rating, available_on)
    per_page = bounded(_whole(per_page, 20), MAX_PER_PAGE)
    page = bounded(_whole(page, 1), MAX_PAGE)
    base = select(WorkerProfile.user_id).join(User, User.id == WorkerProfile.user_id).where(*conditions)
    total = db.session.scalar(select(func.count()).select_from(base.subquery()))
    rating = case((WorkerProfile.rating_count > 0,
                   cast(WorkerProfile.rating_sum, Float) / WorkerProfile.rating_count), else_=0.0)
    rows = db.session.execute(
        select(WorkerProfile.user_id, User.name, WorkerProfile.neighbourhood, WorkerProfile.radius_km,
               WorkerProfile.rating_sum, WorkerProfile.rating_count, WorkerProfile.bio)
        .join(User, User.id == WorkerProfile.user_id).where(*conditions)
        .order_by(rating.desc(), User.name, WorkerProfile.user_id)
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=_items(rows), page=page, per_page=per_page, total=total)


def _whole(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _conditions(category, neighbourhood, min_rating, available_on) -> list:
    problems: dict[str, str] = {}
    conditions = [WorkerProfile.is_listed.is_(True), User.is_active_account.is_(True)]
    if category:
        category_id = db.session.scalar(select(ServiceCategory.id).where(ServiceCategory.slug == category))
        if category_id is None:
            problems["category"] = f"'{category}' is not a service the co-op offers."
        conditions.append(exists().where(WorkerService.worker_id == WorkerProfile.user_id,
                                         WorkerService.category_id == category_id))
    if neighbourhood:
        if neighbourhood not in NEIGHBOURHOODS:
            problems["neighbourhood"] = f"'{neighbourhood}' is not a neighbourhood we know."
        else:
            conditions.append(_serves(*NEIGHBOURHOODS[neighbourhood]))
    if min_rating is not None:
        try:
            min_rating = float(min_rating)
        except (TypeError, ValueError):
            min_rating = math.nan
        if not 1 <= min_rating <= 5:
            problems["min_rating"] = "The minimum rating must be between 1 and 5."
        conditions += [WorkerProfile.rating_count > 0,
                       WorkerProfile.rating_sum >= WorkerProfile.rating_count * literal(min_rating, Float)]
    if available_on is not None:
        conditions += [
            exists().where(AvailabilityWindow.worker_id == WorkerProfile.user_id,
                           AvailabilityWindow.weekday == available_on.weekday()),
            ~exists().where(BlockedDate.worker_id == WorkerProfile.user_id, BlockedDate.day == available_on),
        ]
    if problems:
        raise ValidationFailed(problems)
    return conditions


def _serves(lat: float, lng: float):
    """The point lies within the worker's service radius (equirectangular distance, in km)."""
    lat_e6, lng_e6 = round(lat * 1_000_000), round(lng * 1_000_000)
    north = (WorkerProfile.lat_e6 - lat_e6) * literal(KM_PER_MICRODEGREE, Float)
    east = (WorkerProfile.lng_e6 - lng_e6) * literal(KM_PER_MICRODEGREE * math.cos(math.radians(lat)), Float)
    return north * north + east * east <= WorkerProfile.radius_km * WorkerProfile.radius_km


def _items(rows) -> list[dict]:
    ids = [row.user_id for row in rows]
    services: dict[int, list] = {worker_id: [] for worker_id in ids}
    for worker_id, name, slug, rate in db.session.execute(
        select(WorkerService.worker_id, ServiceCategory.name, ServiceCategory.slug, WorkerService.rate_cents)
        .join(ServiceCategory, ServiceCategory.id == WorkerService.category_id)
        .where(WorkerService.worker_id.in_(ids)).order_by(ServiceCategory.name)
    ):
        services[worker_id].append((name, slug, rate))
    members = set(db.session.scalars(
        select(UserRole.user_id).where(UserRole.user_id.in_(ids), UserRole.role == Role.MEMBER.value)))
    return [
        {"worker_id": row.user_id, "name": row.name, "neighbourhood": row.neighbourhood, "radius_km": row.radius_km,
         "rating": round(row.rating_sum / row.rating_count, 2) if row.rating_count else None,
         "rating_count": row.rating_count, "bio": row.bio, "services": services[row.user_id],
         "is_member": row.user_id in members}
        for row in rows
    ]
