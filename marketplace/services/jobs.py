"""Job requests: posting, editing and cancelling them, and who may see which job.

A job request and the gig it becomes are one ``Job`` row. Posting validates the request and sends the first
round of offers (or one invitation) in the same transaction; editing is possible until a worker accepts.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from sqlalchemy import Float, bindparam, cast, func, select
from sqlalchemy.orm import joinedload, load_only

from marketplace.domain.gig_states import Actor, GigAction, GigState, is_cancellation_late
from marketplace.domain.money import format_cents
from marketplace.domain.paging import Page, bounded
from marketplace.errors import Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, Role, ServiceCategory, User, WorkerProfile, WorkerService
from marketplace.models.base import MAX_PAGE, utcnow
from marketplace.services import audit, gigs, notifications, offers, settings
from marketplace.services.gigs import committing, get_job, gig_url
from marketplace.services.profile_input import InputProblem, parse_location
from marketplace.services.profiles import MAX_RATE_CENTS

FIELDS = ("category", "title", "description", "neighbourhood", "address", "lat", "lng", "starts_at", "hours",
          "max_rate_cents")
# Changing any of these changes who may take the job, so open offers are withdrawn and matching runs again.
_MATCH_COLUMNS = ("category_id", "lat_e6", "lng_e6", "starts_at", "estimated_minutes", "max_rate_cents")
_HOURS_RE = re.compile(r"^(\d{1,2}):([0-5]\d)$")
_KM_PER_E6 = 6371.0088 * math.pi / 180 / 1_000_000
MAX_DAYS_AHEAD = 365


def parse_hours(value, *, field: str = "hours", low: int = 30, high: int = 720, step: int = 15) -> int:
    """Hours as ``2.5``, ``"2.25"``, ``"2:15"`` or a Fraction, read exactly, as whole minutes.

    A job's estimate is 0.5–12 hours in quarter-hour steps (the defaults); callers pass other bounds.
    """
    problem = (f"Enter between {low / 60:g} and {high / 60:g} hours"
               + (f" in steps of {step} minutes (e.g. 2.5 or 2:30)." if step > 1 else " (e.g. 2.5 or 2:30)."))
    if isinstance(value, bool) or value is None:
        raise ValidationFailed({field: problem})
    if isinstance(value, int | Fraction):
        hours = Fraction(value)
    else:
        text = str(value).strip()
        clock = _HOURS_RE.match(text)
        try:
            hours = Fraction(int(clock[1]) * 60 + int(clock[2]), 60) if clock else Fraction(Decimal(text))
        except (InvalidOperation, ValueError, OverflowError):
            raise ValidationFailed({field: problem}) from None
    minutes = hours * 60
    if minutes.denominator != 1 or not low <= minutes <= high or minutes % step:
        raise ValidationFailed({field: problem})
    return int(minutes)


def _as_utc(moment) -> datetime:
    """An aware datetime, or a naive one read as the co-op's local time (what a form gives)."""
    if not isinstance(moment, datetime):
        raise ValidationFailed({"starts_at": "Enter the date and start time."})
    return moment if moment.tzinfo else moment.replace(tzinfo=gigs.coop_zone())


def _category(slug, problems: dict) -> ServiceCategory | None:
    category = db.session.scalar(select(ServiceCategory).where(ServiceCategory.slug == str(slug or "").strip()))
    if category is None or not category.is_active:
        problems["category"] = "Choose one of the services the co-op offers."
        return None
    return category


def _texts(fields: Mapping, problems: dict) -> dict:
    values = {key: str(fields.get(key) or "").strip() for key in ("title", "description", "address")}
    if not values["title"] or len(values["title"]) > 120:
        problems["title"] = "Give the job a title of at most 120 characters."
    if len(values["description"]) > 5000:
        problems["description"] = "Keep the description under 5,000 characters."
    if len(values["address"]) > 200:
        problems["address"] = "Keep the address under 200 characters."
    return values


def _place(fields: Mapping, problems: dict) -> tuple[str, int, int] | None:
    """``(neighbourhood, lat_e6, lng_e6)`` from a known neighbourhood or coordinates (the profile rules)."""
    if not str(fields.get("neighbourhood") or "").strip() and fields.get("lat") is None and fields.get("lng") is None:
        problems["neighbourhood"] = "Pick the job's neighbourhood or give its coordinates."
        return None
    try:
        return parse_location(fields.get("neighbourhood") or "", fields.get("lat"), fields.get("lng"))
    except InputProblem as exc:
        problems[exc.field] = exc.message
        return None


def _start(fields: Mapping, now: datetime, problems: dict) -> datetime | None:
    try:
        starts_at = _as_utc(fields.get("starts_at"))
    except ValidationFailed as exc:
        problems.update(exc.fields)
        return None
    if starts_at <= now:
        problems["starts_at"] = "The start must be in the future."
    elif starts_at > now + timedelta(days=MAX_DAYS_AHEAD):
        problems["starts_at"] = f"Choose a start within the next {MAX_DAYS_AHEAD} days."
    return starts_at


def _rate_cap(cap, category: ServiceCategory | None, problems: dict) -> None:
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap <= 0):
        problems["max_rate_cents"] = "Enter the highest hourly rate in whole cents, or leave it empty."
    elif cap is not None and cap > MAX_RATE_CENTS:
        problems["max_rate_cents"] = f"The highest rate can be at most ${format_cents(MAX_RATE_CENTS)}/h."
    elif cap is not None and category is not None and cap < category.rate_floor_cents:
        problems["max_rate_cents"] = (f"The highest rate cannot be below the co-op's floor of "
                                      f"${format_cents(category.rate_floor_cents)}/h for {category.name}.")


def _columns(fields: Mapping, now: datetime) -> dict:
    """The validated column values of a job request; every problem at once, by field."""
    problems: dict[str, str] = {}
    category = _category(fields.get("category"), problems)
    texts = _texts(fields, problems)
    place = _place(fields, problems)
    starts_at = _start(fields, now, problems)
    minutes = None
    try:
        minutes = parse_hours(fields.get("hours"))
    except ValidationFailed as exc:
        problems.update(exc.fields)
    cap = fields.get("max_rate_cents")
    _rate_cap(cap, category, problems)
    if problems:
        raise ValidationFailed(problems)
    neighbourhood, lat_e6, lng_e6 = place
    return {"category_id": category.id, **texts, "neighbourhood": neighbourhood, "lat_e6": lat_e6, "lng_e6": lng_e6,
            "starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=minutes), "estimated_minutes": minutes,
            "max_rate_cents": cap}


def post_job(client_id: int, *, category: str, title: str, description: str = "", neighbourhood: str = "",
             address: str = "", lat: float | None = None, lng: float | None = None, starts_at: datetime,
             hours: str | Fraction, max_rate_cents: int | None = None, invite_worker_id: int | None = None) -> Job:
    """A client posts a job request; commits.

    Rules: a known, active category; a start in the future (naive times are the co-op's local time);
    0.5–12 hours in 15-minute steps; a rate cap, if any, not below the category's floor; a place given as a
    known neighbourhood or coordinates. The first round of offers (or the single invitation, which must be
    an eligible match) goes out in the same transaction, so a failed invitation posts nothing.
    """
    client = db.session.get(User, client_id)
    if client is None or not client.has_role(Role.CLIENT.value):
        raise Forbidden("Only clients can post jobs. Register as a client to post one.")
    fields = {"category": category, "title": title, "description": description, "neighbourhood": neighbourhood,
              "address": address, "lat": lat, "lng": lng, "starts_at": starts_at, "hours": hours,
              "max_rate_cents": max_rate_cents}
    with committing():
        job = Job(client_id=client_id, status=GigState.REQUESTED.value, offer_round=0, **_columns(fields, utcnow()))
        db.session.add(job)
        db.session.flush()
        audit.record("job.posted", actor_id=client_id, subject=job)
        if invite_worker_id is not None:
            offers.invite(job, invite_worker_id, client_id, field="invite_worker_id")
        else:
            offers.offer_round(job)
    return get_job(job.id)


def _current_fields(job: Job) -> dict:
    return {"category": job.category.slug, "title": job.title, "description": job.description,
            "neighbourhood": job.neighbourhood, "address": job.address, "lat": job.lat_e6 / 1e6,
            "lng": job.lng_e6 / 1e6, "starts_at": job.starts_at, "hours": Fraction(job.estimated_minutes, 60),
            "max_rate_cents": job.max_rate_cents}


def edit_job(job_id: int, client_id: int, **changes) -> Job:
    """The client changes their request while no worker has accepted it; commits.

    Same rules as posting. If the change affects who may take the job (service, place, time, length or
    rate cap), open offers are withdrawn and matching runs again; otherwise the offered workers are told.
    """
    unknown = set(changes) - set(FIELDS)
    if unknown:
        raise TypeError(f"edit_job() got unknown fields: {', '.join(sorted(unknown))}")
    with committing():
        job = get_job(job_id, lock=True)
        gigs.require_actor(job, client_id, Actor.CLIENT, verb="change this job")
        gigs.check(job.state, GigAction.EDIT, Actor.CLIENT)
        merged = {**_current_fields(job), **changes}
        if "neighbourhood" in changes and "lat" not in changes and "lng" not in changes:
            merged["lat"] = merged["lng"] = None  # a new neighbourhood brings its own coordinates
        values = _columns(merged, utcnow())
        rematch = any(values[key] != getattr(job, key) for key in _MATCH_COLUMNS)
        job = gigs.apply(job_id, GigAction.EDIT, Actor.CLIENT, client_id, source=job.state, values=values,
                         reason="terms changed" if rematch else "details changed")
        now = utcnow()
        if rematch:
            for worker_id in offers.withdraw_pending(job_id, now):
                notifications.notify(worker_id, "offer_withdrawn", f"The client changed “{job.title}”; "
                                     "your offer was withdrawn.", gig_url(job_id))
            if job.state is GigState.OFFERED:
                offers.next_round(job, now, reason="the client changed the terms")
            else:
                offers.offer_round(job, now=now)
        else:
            for offer in offers.offers_for_job(job_id, status="pending"):
                notifications.notify(offer.worker_id, "job_changed", f"The client updated “{job.title}”.",
                                     gig_url(job_id))
    return get_job(job_id)


def cancellation_was_late(job: Job) -> bool:
    """Whether a cancelled job was cancelled inside the window before its start while a worker held it.

    Before a worker accepts, cancelling is always free; the window is the setting in force that day.
    """
    if job.state is not GigState.CANCELLED or job.cancelled_at is None or job.worker_id is None:
        return False
    hours = settings.get("cancellation_window_hours", gigs.local_date(job.cancelled_at))
    return is_cancellation_late(job.starts_at, job.cancelled_at, timedelta(hours=hours))


def cancel_job(job_id: int, actor_id: int, reason: str = "") -> Job:
    """The client (or an admin) cancels a job that has not started: requested, offered or accepted; commits.

    Open offers are withdrawn. An accepted gig keeps its worker on record, and a cancellation inside the
    cancellation window is marked late in the audit trail (``cancellation_was_late``) for the money side.
    """
    with committing():
        job = get_job(job_id, lock=True)
        actor = gigs.require_actor(job, actor_id, Actor.CLIENT, Actor.ADMIN, verb="cancel this job")
        now = utcnow()
        late = job.state is GigState.ACCEPTED and is_cancellation_late(
            job.starts_at, now, timedelta(hours=settings.get("cancellation_window_hours")))
        note = (reason or "").strip()[:1900] + (" (late: inside the cancellation window)" if late else "")
        job = gigs.apply(job_id, GigAction.CANCEL, actor, actor_id, source=job.state, reason=note.strip(),
                         values={"cancelled_at": now})
        for worker_id in offers.withdraw_pending(job_id, now):
            notifications.notify(worker_id, "offer_withdrawn", f"“{job.title}” was cancelled.", gig_url(job_id))
        affected = [job.worker_id] if job.worker_id else []
        affected += [job.client_id] if actor is Actor.ADMIN else []
        for user_id in affected:
            notifications.notify(user_id, "gig_cancelled", f"“{job.title}” was cancelled.", gig_url(job_id),
                                 email_subject=f"Cancelled: {job.title}", email_template="gig_update", job=job)
    if job.worker_id is not None:  # a held booking: release the hold, or charge a late cancellation
        gigs.bill("on_gig_cancelled", job_id, late)
    return job


def job_for_viewer(job_id: int, user: User | None) -> Job:
    """The job if ``user`` may see it (client, gig's worker, offered worker, admin, or a worker of its
    category while it is open); NotFound for everyone else, so strangers cannot probe ids."""
    job = db.session.get(Job, job_id)
    if job is None or not gigs.can_view(job, user):
        raise NotFound("There is no such job.")
    return job


def can_see_address(job: Job, user: User | None) -> bool:
    """The street address is private: the client, admins, and the worker while the gig is theirs."""
    if user is None:
        return False
    if user.id == job.client_id or user.has_role(Role.ADMIN.value):
        return True
    return user.id == job.worker_id and job.state in gigs.WORKER_HELD


def jobs_for_client(client_id: int, state: str | GigState | None = None) -> list[Job]:
    """The client's jobs, newest start first, optionally only those in one state."""
    stmt = select(Job).where(Job.client_id == client_id)
    if state is not None:
        stmt = stmt.where(Job.status == GigState(state).value)
    return list(db.session.scalars(stmt.order_by(Job.starts_at.desc(), Job.id.desc())))


@functools.cache
def _open_requests_statements():
    """The open-requests page (with ``count(*) OVER ()``) and its count, built once: only the bound values
    change between requests, so neither the statement nor its cache key is rebuilt on every page view.
    Only the columns the list shows are loaded."""
    d_lat = cast(Job.lat_e6 - bindparam("home_lat"), Float)
    d_lng = cast(Job.lng_e6 - bindparam("home_lng"), Float) * bindparam("cos_lat", type_=Float)
    reach = bindparam("reach", type_=Float)
    worker = bindparam("worker_id")
    filters = (
        Job.status.in_([GigState.REQUESTED.value, GigState.OFFERED.value]),
        Job.category_id.in_(select(WorkerService.category_id).where(WorkerService.worker_id == worker)),
        Job.starts_at > bindparam("now"), Job.client_id != worker,
        Job.lat_e6.between(bindparam("min_lat"), bindparam("max_lat")),
        Job.lng_e6.between(bindparam("min_lng"), bindparam("max_lng")),
        d_lat * d_lat + d_lng * d_lng <= reach * reach,
    )
    shown = load_only(Job.id, Job.category_id, Job.title, Job.neighbourhood, Job.starts_at, Job.estimated_minutes,
                      Job.max_rate_cents, Job.status)
    page = (select(Job, func.count().over().label("total")).where(*filters)
            .options(shown, joinedload(Job.category).load_only(ServiceCategory.name))
            .order_by(Job.starts_at, Job.id).limit(bindparam("limit")).offset(bindparam("offset")))
    return page, select(func.count()).select_from(Job).where(*filters)


def open_requests_for_worker(worker_id: int, page: int = 1, per_page: int = 20) -> Page:
    """Open requests (requested or offered, not yet started) in the worker's categories and service area,
    soonest first, one page of them; never the worker's own requests.

    The area test is the service-area box (indexed) refined by an equirectangular distance, exact to well
    under 1% at these radii, so the database does the whole filter and pagination stays right. The page and
    the total come back in one statement (``count(*) OVER ()``); only a page past the end counts separately.
    Pages past ``MAX_PAGE`` are answered as that page, so no offset can overflow the database's integers.
    """
    page = bounded(int(page), MAX_PAGE)
    profile = db.session.execute(
        select(WorkerProfile).options(joinedload(WorkerProfile.services)).where(WorkerProfile.user_id == worker_id)
    ).unique().scalar_one_or_none()
    if profile is None or not profile.services:
        return Page([], page, per_page, 0)
    box = profile.services[0]
    values = {"worker_id": worker_id, "now": utcnow(), "home_lat": profile.lat_e6, "home_lng": profile.lng_e6,
              "cos_lat": math.cos(math.radians(profile.lat_e6 / 1e6)), "reach": profile.radius_km / _KM_PER_E6,
              "min_lat": box.min_lat_e6, "max_lat": box.max_lat_e6,
              "min_lng": box.min_lng_e6, "max_lng": box.max_lng_e6}
    page_stmt, count_stmt = _open_requests_statements()
    rows = db.session.execute(page_stmt, {**values, "limit": per_page, "offset": (page - 1) * per_page}).all()
    if rows:
        total = rows[0].total
    else:
        total = db.session.scalar(count_stmt, values) if page > 1 else 0
    return Page([row[0] for row in rows], page, per_page, total)
