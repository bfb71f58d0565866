"""Matching a job to workers: one indexed candidate query, then the domain's ranking.

The query narrows 100,000 workers to the few that could take the job, using
``ix_worker_services_area`` (category, then the service-area box containing the job's point, then
the rate) and per-worker index probes for availability, blocked dates and booked gigs. It also
fetches everything the ranking needs (location, radius, rating, declared hours, this period's
hours), so ranking is one round trip. ``domain.matching.rank_candidates`` then applies the exact
great-circle radius (the box is only a pre-filter) and orders by distance, rating and fairness.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import BigInteger, Date, Integer, Select, and_, bindparam, exists, select

from marketplace.domain.gig_states import BOOKED_STATES
from marketplace.domain.matching import (
    AvailabilityWindow,
    JobSpec,
    Match,
    MatchWeights,
    WorkerCandidate,
    rank_candidates,
)
from marketplace.domain.settings import spec
from marketplace.extensions import db
from marketplace.models import AvailabilityWindow as WindowRow
from marketplace.models import BlockedDate, CoopSetting, Job, User, WorkerPeriodStats, WorkerProfile, WorkerService
from marketplace.models.base import UTCDateTime
from marketplace.services.profiles import local_today, period_start

E6 = 1_000_000
_BOOKED = tuple(sorted(state.value for state in BOOKED_STATES))
_ws = WorkerService.__table__
_wp = WorkerProfile.__table__
_users = User.__table__
_stats = WorkerPeriodStats.__table__
_windows = WindowRow.__table__
_blocked = BlockedDate.__table__
_jobs = Job.__table__


@dataclass(frozen=True)
class JobSlot:
    """Where and when a job happens, as the query and the domain read it (co-op local time)."""

    category_id: int
    lat_e6: int
    lng_e6: int
    starts_at_utc: datetime
    ends_at_utc: datetime
    local_start: datetime  # naive, in the co-op's time zone
    minutes: int
    max_rate_cents: int | None
    client_id: int | None

    @property
    def weekday(self) -> int:
        return self.local_start.weekday()

    @property
    def start_minute(self) -> int:
        return self.local_start.hour * 60 + self.local_start.minute

    @property
    def end_minute(self) -> int:
        """Minutes from local midnight to the end; above 1440 when the job runs past midnight (never available)."""
        return self.start_minute + self.minutes + (1 if self.local_start.second or self.local_start.microsecond else 0)


def job_slot(job: Job) -> JobSlot:
    """Read a job (saved or not) as a slot: UTC span, local start, length in minutes."""
    minutes = int(job.estimated_minutes)
    starts = job.starts_at
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    ends = job.ends_at or starts + timedelta(minutes=minutes)
    return JobSlot(
        category_id=job.category_id, lat_e6=job.lat_e6, lng_e6=job.lng_e6, starts_at_utc=starts, ends_at_utc=ends,
        local_start=starts.astimezone(zone).replace(tzinfo=None), minutes=minutes,
        max_rate_cents=job.max_rate_cents, client_id=job.client_id,
    )


def candidate_query(job: Job, *, exclude_worker_ids: Iterable[int] = (), on: date | None = None) -> Select:
    """The bare candidate query: workers who may take ``job``, with what ranking needs, in one statement.

    Rule: the worker offers the job's category at a rate no higher than the job's cap, the job's point
    lies in their service-area box, one weekly window on the job's local weekday covers the whole job,
    the job's local date is not blocked, no gig of theirs in a booked state overlaps it, their account
    is active and listed, and they are not the client. Driven by ``ix_worker_services_area``.
    """
    template, values = _bound(job_slot(job), exclude_worker_ids, period_start(on or local_today()))
    return template.params(values)


def _bound(slot: JobSlot, exclude_worker_ids: Iterable[int], period: date) -> tuple[Select, dict]:
    """The cached statement for the job's shape (rate cap, client, exclusions) and its bound values."""
    excluded = sorted(set(exclude_worker_ids))
    shape = (slot.max_rate_cents is not None, slot.client_id is not None, bool(excluded))
    template = _TEMPLATES.get(shape)
    if template is None:
        template = _TEMPLATES.setdefault(shape, _template(*shape))
    values = {
        "category_id": slot.category_id, "lat": slot.lat_e6, "lng": slot.lng_e6, "weekday": slot.weekday,
        "start_minute": slot.start_minute, "end_minute": slot.end_minute, "day": slot.local_start.date(),
        "starts_at": slot.starts_at_utc, "ends_at": slot.ends_at_utc, "period": period,
        "max_rate": slot.max_rate_cents, "client_id": slot.client_id, "excluded": excluded,
    }
    return template, {key: value for key, value in values.items() if key in _PARAMS[shape]}


_TEMPLATES: dict[tuple[bool, bool, bool], Select] = {}
_PARAMS: dict[tuple[bool, bool, bool], frozenset[str]] = {}


def _template(has_cap: bool, has_client: bool, has_excluded: bool) -> Select:
    ws = _ws.c
    worker = ws.worker_id
    lat, lng = bindparam("lat", type_=Integer), bindparam("lng", type_=Integer)
    available = exists().where(
        _windows.c.worker_id == worker, _windows.c.weekday == bindparam("weekday", type_=Integer),
        _windows.c.start_minute <= bindparam("start_minute", type_=Integer),
        _windows.c.end_minute >= bindparam("end_minute", type_=Integer),
    )
    blocked = exists().where(_blocked.c.worker_id == worker, _blocked.c.day == bindparam("day", type_=Date))
    booked = exists().where(
        _jobs.c.worker_id == worker, _jobs.c.starts_at < bindparam("ends_at", type_=UTCDateTime),
        _jobs.c.ends_at > bindparam("starts_at", type_=UTCDateTime), _jobs.c.status.in_(_BOOKED),
    )
    conditions = [ws.category_id == bindparam("category_id", type_=Integer),
                  ws.min_lat_e6 <= lat, ws.max_lat_e6 >= lat, ws.min_lng_e6 <= lng, ws.max_lng_e6 >= lng]
    names = {"category_id", "lat", "lng", "weekday", "start_minute", "end_minute", "day", "starts_at", "ends_at",
             "period"}
    if has_cap:
        conditions.append(ws.rate_cents <= bindparam("max_rate", type_=BigInteger))
        names.add("max_rate")
    if has_client:
        conditions.append(worker != bindparam("client_id", type_=Integer))
        names.add("client_id")
    if has_excluded:
        conditions.append(worker.not_in(bindparam("excluded", expanding=True)))
        names.add("excluded")
    _PARAMS[(has_cap, has_client, has_excluded)] = frozenset(names)
    conditions += [available, ~blocked, ~booked, _users.c.is_active_account.is_(True), _wp.c.is_listed.is_(True)]
    stats_join = and_(_stats.c.worker_id == worker, _stats.c.period_start == bindparam("period", type_=Date))
    return (
        select(worker, ws.rate_cents, _wp.c.lat_e6, _wp.c.lng_e6, _wp.c.radius_km, _wp.c.weekly_minutes,
               _wp.c.rating_sum, _wp.c.rating_count, _stats.c.minutes_offered, _stats.c.minutes_worked)
        .select_from(_ws.join(_wp, _wp.c.user_id == worker).join(_users, _users.c.id == worker)
                     .outerjoin(_stats, stats_join))
        .where(*conditions)
    )


_WEIGHT_KEYS = ("match_weight_distance", "match_weight_rating", "match_weight_fairness")


def match_weights(on: date | None = None) -> MatchWeights:
    """The co-op's weights for distance, rating and fairness in force on ``on``, read in one query.

    Each is the latest dated value on or before the day, else its default (see ``services.settings``).
    All three set to zero means no preference among the terms, so they count equally.
    """
    raw = {key: spec(key).default for key in _WEIGHT_KEYS}
    raw.update(db.session.execute(
        select(CoopSetting.key, CoopSetting.value)
        .where(CoopSetting.key.in_(_WEIGHT_KEYS), CoopSetting.effective_from <= (on or local_today()))
        .order_by(CoopSetting.effective_from)
    ).tuples().all())
    distance, rating, fairness = (float(spec(key).parse(raw[key])) for key in _WEIGHT_KEYS)
    if distance + rating + fairness <= 0:
        return MatchWeights(1.0, 1.0, 1.0)
    return MatchWeights(distance=distance, rating=rating, fairness=fairness)


def period_weeks(on: date) -> float:
    """How much of the fairness period has passed, in weeks (the day itself included)."""
    return on.day / 7


def find_matches(job: Job, *, limit: int | None = None,
                 exclude_worker_ids: Iterable[int] = frozenset()) -> list[Match]:
    """Eligible workers for ``job``, best first, with the reasons shown to the client.

    One candidate query (see ``candidate_query``) finds who may take the job; the domain's
    ``rank_candidates`` checks the exact service radius and ranks by distance, rating and
    fairness (hours offered and worked this month relative to the weekly hours declared), with
    the co-op's weights. ``exclude_worker_ids`` leaves out workers offered in earlier rounds.
    """
    today = local_today()
    slot = job_slot(job)
    template, values = _bound(slot, exclude_worker_ids, period_start(today))
    rows = db.session.execute(template, values).all()
    spec = JobSpec(category=str(slot.category_id), lat=slot.lat_e6 / E6, lng=slot.lng_e6 / E6,
                   starts_at=slot.local_start, duration_minutes=slot.minutes, max_rate_cents=slot.max_rate_cents)
    candidates = _candidates(rows, slot, spec.category)
    return rank_candidates(candidates, spec, match_weights(today), period_weeks(today), limit=limit)


def _candidates(rows, slot: JobSlot, category: str) -> list[WorkerCandidate]:
    """Domain candidates from query rows.

    The query already proved the calendar facts, so each candidate carries exactly what it proved:
    a window covering the job's slot that day, no blocked date and no busy time. The domain checks
    them again, and checks the exact great-circle radius, which the query's box only bounds.
    """
    categories = frozenset((category,))
    end = slot.end_minute
    window = (AvailabilityWindow(slot.weekday, _clock(slot.start_minute), _clock(end)),) if end <= 1440 else ()
    return [
        WorkerCandidate.fast(
            worker_id, lat_e6 / E6, lng_e6 / E6, radius_km, rate_cents, categories, window,
            rating=round(rating_sum / rating_count, 2) if rating_count else None, rating_count=rating_count,
            hours_this_period=((offered or 0) + (worked or 0)) / 60, available_hours_per_week=weekly_minutes / 60,
        )
        for (worker_id, rate_cents, lat_e6, lng_e6, radius_km, weekly_minutes, rating_sum, rating_count,
             offered, worked) in rows
    ]


def _clock(minute: int) -> time:
    """A minute of the day as a clock time; 1440 (midnight at the end of the day) is ``time(0, 0)``."""
    return time(0, 0) if minute >= 1440 else time(minute // 60, minute % 60)
