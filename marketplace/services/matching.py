"""Matching a job to workers: one indexed candidate query, then the domain's ranking.

The query (``matching_query``) narrows 100,000 workers to the few that could take the job, using
``ix_worker_services_area`` (category, then the service-area box containing the job's point, then
the rate) and per-worker index probes for availability, blocked dates and booked gigs. It also
fetches everything the ranking needs (location, radius, rating, declared hours, this period's
hours), so matching is one round trip. ``domain.matching.rank_candidates`` then applies the exact
great-circle radius (the box is only a pre-filter) and orders by distance, rating and fairness.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, Select, bindparam, select

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
from marketplace.models import CoopSetting, Job
from marketplace.services import matching_query
from marketplace.services.profiles import local_today, period_start

E6 = 1_000_000


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
    is active and listed, and they are not the client. Driven by ``ix_worker_services_area`` (see
    ``matching_query`` for the plan).
    """
    statement, values = candidate_statement(job, exclude_worker_ids=exclude_worker_ids, on=on)
    return statement.params(values)


def candidate_statement(job: Job, *, exclude_worker_ids: Iterable[int] = (),
                        on: date | None = None) -> tuple[Select, dict]:
    """What ``find_matches`` executes: the cached candidate statement and the job's values for it."""
    return _bound(job_slot(job), exclude_worker_ids, period_start(on or local_today()))


def _bound(slot: JobSlot, exclude_worker_ids: Iterable[int], period: date) -> tuple[Select, dict]:
    """The cached statement for the job's shape and dialect, and its bound values."""
    excluded = sorted(set(exclude_worker_ids))
    shape = matching_query.Shape(db.session.get_bind().dialect.name, slot.max_rate_cents is not None,
                                 slot.client_id is not None, bool(excluded))
    values = {
        "category_id": slot.category_id, "lat": slot.lat_e6, "lng": slot.lng_e6, "weekday": slot.weekday,
        "start_minute": slot.start_minute, "end_minute": slot.end_minute, "day": slot.local_start.date(),
        "starts_at": slot.starts_at_utc, "ends_at": slot.ends_at_utc, "period": period,
        "max_rate": slot.max_rate_cents, "client_id": slot.client_id, "excluded": excluded,
    }
    wanted = shape.parameters
    return matching_query.statement(shape), {key: value for key, value in values.items() if key in wanted}


_WEIGHT_KEYS = ("match_weight_distance", "match_weight_rating", "match_weight_fairness")
# Oldest first, so the value in force (the latest on or before the day) overwrites earlier ones.
_WEIGHTS_QUERY = (
    select(CoopSetting.key, CoopSetting.value)
    .where(CoopSetting.key.in_(_WEIGHT_KEYS), CoopSetting.effective_from <= bindparam("on", type_=Date))
    .order_by(CoopSetting.effective_from)
)


def match_weights(on: date | None = None) -> MatchWeights:
    """The co-op's weights for distance, rating and fairness in force on ``on``, read in one query.

    Each is the latest dated value on or before the day, else its default (see ``services.settings``).
    All three set to zero means no preference among the terms, so they count equally.
    """
    raw = {key: spec(key).default for key in _WEIGHT_KEYS}
    raw.update(db.session.connection().execute(_WEIGHTS_QUERY, {"on": on or local_today()}).tuples().all())
    return _weights(*(raw[key] for key in _WEIGHT_KEYS))


@lru_cache(maxsize=64)
def _weights(distance: str, rating: str, fairness: str) -> MatchWeights:
    """Parsed once per distinct set of stored values (exact fractions, checked against their ranges)."""
    values = [float(spec(key).parse(raw)) for key, raw in zip(_WEIGHT_KEYS, (distance, rating, fairness), strict=True)]
    if sum(values) <= 0:
        return MatchWeights(1.0, 1.0, 1.0)
    return MatchWeights(*values)


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
    rows = db.session.connection().execute(template, values).all()
    if not rows:
        return []
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
            hours_this_period=(minutes or 0) / 60, available_hours_per_week=weekly_minutes / 60,
        )
        for worker_id, rate_cents, lat_e6, lng_e6, radius_km, weekly_minutes, rating_sum, rating_count, minutes
        in rows
    ]


def _clock(minute: int) -> time:
    """A minute of the day as a clock time; 1440 (midnight at the end of the day) is ``time(0, 0)``."""
    return time(0, 0) if minute >= 1440 else time(minute // 60, minute % 60)
