"""Matching workers to a job request: who may take it, and in which order they are offered it.

Eligibility is a hard filter (category, service radius, availability, rate cap): no ineligible
worker is ever ranked. Among eligible workers the score mixes three terms, each in [0, 1]:
closeness, a smoothed rating, and fairness, which favours workers who have had less work this
period so that work rotates among worker-owners. Weights are the co-op's to set.

All datetimes are naive local times of the co-op; weekly windows are read in that same clock.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from marketplace.domain.geo import MAX_SERVICE_RADIUS_KM, distance_to, haversine_km

RATING_PRIOR_MEAN = 4.0
RATING_PRIOR_WEIGHT = 3
_MIN_RATING, _MAX_RATING = 1.0, 5.0
_DAY_SECONDS = 24 * 3600
_MAX_RADIUS = float(MAX_SERVICE_RADIUS_KM)


def _is_cents(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_POST_INITS: dict[type, object] = {}


def _frozen(cls, values: dict):
    """An instance of the frozen dataclass ``cls`` equal to ``cls(**values)`` (every field named), validated
    by its ``__post_init__``, without the per-field ``object.__setattr__`` calls of the generated ``__init__``."""
    instance = object.__new__(cls)
    object.__setattr__(instance, "__dict__", values)
    if cls not in _POST_INITS:
        _POST_INITS[cls] = getattr(cls, "__post_init__", None)
    post_init = _POST_INITS[cls]
    if post_init is not None:
        post_init(instance)
    return instance


@dataclass(frozen=True)
class AvailabilityWindow:
    """A weekly time range a worker is available: ``weekday`` 0=Monday..6=Sunday, ``start`` < ``end``.

    An ``end`` of ``time(0, 0)`` means midnight at the end of the day, so a window can run to 24:00.
    """

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday {self.weekday} is outside 0 (Monday)..6 (Sunday)")
        if self.start_seconds >= self.end_seconds:
            raise ValueError(f"window {self.start}-{self.end} must end after it starts")

    @property
    def start_seconds(self) -> int:
        """Seconds from the start of the day to the window's start."""
        return _seconds(self.start)

    @property
    def end_seconds(self) -> int:
        """Seconds from the start of the day to the window's end (midnight counts as 24:00)."""
        return _DAY_SECONDS if self.end == time(0, 0) else _seconds(self.end)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def merged_spans(windows: Iterable[AvailabilityWindow], weekday: int) -> list[tuple[int, int]]:
    """The weekday's windows as sorted, non-overlapping ``(start_s, end_s)`` spans.

    Touching or overlapping windows are merged, because a worker free 9-12 and 12-17 is free 9-17:
    a job from 11 to 13 fits, and overlapping windows must not count their hours twice.
    """
    spans = sorted((w.start_seconds, w.end_seconds) for w in windows if w.weekday == weekday)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def weekly_hours(windows: Iterable[AvailabilityWindow]) -> float:
    """Hours a worker declares available per week: the length of the union of their weekly windows."""
    windows = tuple(windows)
    seconds = sum(end - start for day in range(7) for start, end in merged_spans(windows, day))
    return seconds / 3600


@dataclass(frozen=True)
class JobSpec:
    """What a client asks for: a category, a place, a start, a duration in minutes and an optional rate cap."""

    category: str
    lat: float
    lng: float
    starts_at: datetime
    duration_minutes: int
    max_rate_cents: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.duration_minutes, int) or self.duration_minutes <= 0:
            raise ValueError(f"duration {self.duration_minutes!r} must be a positive number of minutes")
        if self.max_rate_cents is not None and (not _is_cents(self.max_rate_cents) or self.max_rate_cents < 0):
            raise ValueError(f"rate cap {self.max_rate_cents!r} must be a non-negative int of cents")


@dataclass(frozen=True)
class WorkerCandidate:
    """A worker as matching sees them; ``rate_cents`` is their rate for the job's category.

    ``busy`` holds the ``(start, end)`` of gigs they already hold. ``available_hours_per_week`` is
    the declared weekly capacity; leave it ``None`` to derive it from ``weekly_availability``.
    """

    worker_id: int
    lat: float
    lng: float
    radius_km: float
    rate_cents: int
    categories: frozenset[str]
    weekly_availability: tuple[AvailabilityWindow, ...] = ()
    blocked_dates: frozenset[date] = frozenset()
    busy: tuple[tuple[datetime, datetime], ...] = ()
    rating: float | None = None
    rating_count: int = 0
    hours_this_period: float = 0.0
    available_hours_per_week: float | None = None

    @classmethod
    def fast(cls, worker_id: int, lat: float, lng: float, radius_km: float, rate_cents: int,
             categories: frozenset[str], weekly_availability: tuple[AvailabilityWindow, ...] = (),
             blocked_dates: frozenset[date] = frozenset(), busy: tuple[tuple[datetime, datetime], ...] = (),
             rating: float | None = None, rating_count: int = 0, hours_this_period: float = 0.0,
             available_hours_per_week: float | None = None) -> WorkerCandidate:
        """The same validated, equal object as the constructor, built several times faster.

        A frozen dataclass sets each field through ``object.__setattr__``; filling the instance's
        dict at once matters when a query turns thousands of rows into candidates for one job.
        """
        return _frozen(cls, {
            "worker_id": worker_id, "lat": lat, "lng": lng, "radius_km": radius_km, "rate_cents": rate_cents,
            "categories": categories, "weekly_availability": weekly_availability, "blocked_dates": blocked_dates,
            "busy": busy, "rating": rating, "rating_count": rating_count, "hours_this_period": hours_this_period,
            "available_hours_per_week": available_hours_per_week,
        })

    def __post_init__(self) -> None:
        if not _is_cents(self.rate_cents) or self.rate_cents < 0:
            raise ValueError(f"rate {self.rate_cents!r} must be a non-negative int of cents")
        if self.radius_km < 0:
            raise ValueError(f"service radius {self.radius_km} km must be zero or more")
        if self.rating is not None and not _MIN_RATING <= self.rating <= _MAX_RATING:
            raise ValueError(f"rating {self.rating} is outside {_MIN_RATING}..{_MAX_RATING}")
        if self.rating_count < 0 or self.hours_this_period < 0:
            raise ValueError("rating count and hours this period cannot be negative")
        if self.available_hours_per_week is not None and self.available_hours_per_week < 0:
            raise ValueError("available hours per week cannot be negative")

    @property
    def capacity_hours_per_week(self) -> float:
        """Declared weekly hours, or the hours of the weekly windows when none were declared.

        Derived on read rather than stored, so ``dataclasses.replace`` with new windows stays consistent.
        """
        if self.available_hours_per_week is not None:
            return float(self.available_hours_per_week)
        return weekly_hours(self.weekly_availability)

    @property
    def service_radius_km(self) -> float:
        """The radius matching honours: the worker's own, capped at ``MAX_SERVICE_RADIUS_KM``.

        The candidate query only scans a box of the maximum radius, so a larger declared radius
        could never be honoured consistently; capping it here keeps filter and query in agreement.
        """
        return min(float(self.radius_km), float(MAX_SERVICE_RADIUS_KM))


@dataclass(frozen=True)
class MatchWeights:
    """Relative weights of the distance, rating and fairness terms; non-negative, not all zero."""

    distance: float = 0.3
    rating: float = 0.2
    fairness: float = 0.5

    def __post_init__(self) -> None:
        if min(self.distance, self.rating, self.fairness) < 0:
            raise ValueError("match weights cannot be negative")
        if self.distance + self.rating + self.fairness <= 0:
            raise ValueError("at least one match weight must be positive")


@dataclass(frozen=True)
class Match:
    """A ranked, eligible worker with the reasons shown to the client."""

    worker_id: int
    score: float
    distance_km: float
    rating: float | None
    hours_this_period: float
    rate_cents: int
    rating_count: int = 0

    @property
    def reasons(self) -> tuple[str, ...]:
        """Distance, rating and hours this period in plain words, from the match's own figures.

        Worded on demand: ranking thousands of workers formats nothing for those nobody reads.
        """
        return _reasons(self.distance_km, self.rating, self.rating_count, self.hours_this_period)


def is_available(candidate: WorkerCandidate, starts_at: datetime, duration_minutes: int) -> bool:
    """True when the worker can take a job from ``starts_at`` for ``duration_minutes``.

    The whole job must lie inside one (merged) weekly window of its weekday, so a job that runs
    past midnight is never available; its date must not be blocked; and it must not overlap a busy
    interval, where merely touching one (ending as another gig starts) is fine.
    """
    return _Slot(starts_at, duration_minutes).fits(candidate)


class _Slot:
    """A job's time, prepared once so checking many candidates against it stays cheap."""

    __slots__ = ("day", "weekday", "start_s", "end_s", "starts_at", "ends_at", "_spans")

    def __init__(self, starts_at: datetime, duration_minutes: int):
        if duration_minutes <= 0:
            raise ValueError(f"duration {duration_minutes} must be a positive number of minutes")
        self.day, self.weekday = starts_at.date(), starts_at.weekday()
        self.start_s = _seconds(starts_at.time()) + starts_at.microsecond / 1_000_000
        self.end_s = self.start_s + duration_minutes * 60
        self.starts_at, self.ends_at = starts_at, starts_at + timedelta(minutes=duration_minutes)
        # Candidates often share one windows tuple; the entry keeps it alive, so its id stays unique.
        self._spans: dict[int, tuple[tuple, list[tuple[int, int]]]] = {}

    def fits(self, candidate: WorkerCandidate) -> bool:
        if candidate.blocked_dates and self.day in candidate.blocked_dates:
            return False
        windows = candidate.weekly_availability
        entry = self._spans.get(id(windows))
        if entry is None:
            entry = self._spans[id(windows)] = (windows, merged_spans(windows, self.weekday))
        start_s, end_s = self.start_s, self.end_s
        for lo, hi in entry[1]:
            if lo <= start_s and end_s <= hi:
                break
        else:
            return False
        if not candidate.busy:
            return True
        starts_at, ends_at = self.starts_at, self.ends_at
        return not any(busy_start < ends_at and starts_at < busy_end for busy_start, busy_end in candidate.busy)


def _problems(candidate: WorkerCandidate, job: JobSpec, distance_km: float) -> list[str]:
    problems = []
    if job.category not in candidate.categories:
        problems.append(f"does not offer {job.category}")
    if distance_km > candidate.service_radius_km:
        problems.append(f"{distance_km:.1f} km away, outside their {candidate.service_radius_km:g} km service area")
    if not is_available(candidate, job.starts_at, job.duration_minutes):
        problems.append("not available at that time")
    if job.max_rate_cents is not None and candidate.rate_cents > job.max_rate_cents:
        problems.append("rate is above the job's maximum")
    return problems


def eligibility_problems(candidate: WorkerCandidate, job: JobSpec) -> list[str]:
    """Why the worker cannot take the job; an empty list means eligible.

    A worker is eligible when they offer the category, the job is within their service radius
    (great-circle distance), they are available for the whole job, and their rate does not exceed
    the job's cap (equal is fine).
    """
    distance_km = haversine_km(candidate.lat, candidate.lng, job.lat, job.lng)
    return _problems(candidate, job, distance_km)


def smoothed_rating(rating: float | None, rating_count: int) -> float:
    """Bayesian average of a worker's rating: their reviews blended with 3 phantom reviews of 4.0.

    A new worker starts at the prior, and a few perfect reviews cannot outrank a long good record.
    """
    if rating is None or rating_count <= 0:
        return RATING_PRIOR_MEAN
    total = RATING_PRIOR_MEAN * RATING_PRIOR_WEIGHT + rating * rating_count
    return total / (RATING_PRIOR_WEIGHT + rating_count)


def score(candidate: WorkerCandidate, weights: MatchWeights, distance_km: float, period_weeks: float) -> float:
    """The worker's rank score in [0, 1]: a weighted mean of distance, rating and fairness terms.

    distance = 1 - d / service radius (a zero radius scores 1 at the doorstep);
    rating = smoothed rating mapped from 1..5 onto 0..1;
    fairness = 1 / (1 + utilisation), utilisation = hours this period /
    max(available hours per week * ``period_weeks``, 1), so less-used workers rank higher.
    """
    return _Scorer(weights, period_weeks)(candidate, distance_km)


class _Scorer:
    """``score`` with the job-wide parts (weights, period length) read once."""

    __slots__ = ("distance", "rating", "fairness", "total", "period_weeks")

    def __init__(self, weights: MatchWeights, period_weeks: float):
        if period_weeks < 0:
            raise ValueError(f"period length {period_weeks} weeks cannot be negative")
        self.distance, self.rating, self.fairness = weights.distance, weights.rating, weights.fairness
        self.total = weights.distance + weights.rating + weights.fairness
        self.period_weeks = period_weeks

    def __call__(self, candidate: WorkerCandidate, distance_km: float, radius: float | None = None) -> float:
        """``radius`` is the candidate's ``service_radius_km`` when the caller already has it."""
        if radius is None:
            radius = candidate.service_radius_km
        distance_term = 1.0 if radius <= 0 else 1.0 - distance_km / radius
        distance_term = 1.0 if distance_term > 1.0 else (0.0 if distance_term < 0.0 else distance_term)
        rating, count = candidate.rating, candidate.rating_count
        if rating is None or count <= 0:  # smoothed_rating, inlined
            smoothed = RATING_PRIOR_MEAN
        else:
            smoothed = (RATING_PRIOR_MEAN * RATING_PRIOR_WEIGHT + rating * count) / (RATING_PRIOR_WEIGHT + count)
        rating_term = (smoothed - _MIN_RATING) / (_MAX_RATING - _MIN_RATING)
        declared = candidate.available_hours_per_week
        weekly = float(declared) if declared is not None else weekly_hours(candidate.weekly_availability)
        capacity = max(weekly * self.period_weeks, 1.0)
        fairness_term = 1.0 / (1.0 + candidate.hours_this_period / capacity)
        weighted = self.distance * distance_term + self.rating * rating_term + self.fairness * fairness_term
        return weighted / self.total


def match_reasons(candidate: WorkerCandidate, distance_km: float) -> tuple[str, ...]:
    """The plain-language reasons shown next to a match: distance, rating, hours this period."""
    return _reasons(distance_km, candidate.rating, candidate.rating_count, candidate.hours_this_period)


def _reasons(distance_km: float, rating: float | None, rating_count: int, hours: float) -> tuple[str, ...]:
    if rating is None or rating_count <= 0:
        rated = "new worker, not yet rated"
    else:
        noun = "review" if rating_count == 1 else "reviews"
        rated = f"rated {rating:.1f} ({rating_count} {noun})"
    return (f"{distance_km:.1f} km away", rated, f"{hours:.1f} h this period")


def rank_candidates(
    candidates: Iterable[WorkerCandidate],
    job: JobSpec,
    weights: MatchWeights,
    period_weeks: float,
    limit: int | None = None,
) -> list[Match]:
    """Eligible workers for the job, best first: score descending, then worker id ascending.

    Ineligible workers never appear (see ``eligibility_problems``). The tie-break on worker id
    makes the order deterministic, so the same inputs always offer the job in the same order.
    The job's side of every check is prepared once, and a ``Match`` with its reasons is built only
    for the workers returned, so ranking thousands of candidates stays cheap.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit {limit} cannot be negative")
    if period_weeks < 0:
        raise ValueError(f"period length {period_weeks} weeks cannot be negative")
    slot, scorer = _Slot(job.starts_at, job.duration_minutes), _Scorer(weights, period_weeks)
    category, cap, distance_to_job = job.category, job.max_rate_cents, distance_to(job.lat, job.lng)
    scored = []
    for candidate in candidates:
        # Cheap checks first: the distance and calendar work is skipped for most non-matches.
        if category not in candidate.categories or (cap is not None and candidate.rate_cents > cap):
            continue
        distance_km = distance_to_job(candidate.lat, candidate.lng)
        radius = min(float(candidate.radius_km), _MAX_RADIUS)  # service_radius_km, inlined
        if distance_km > radius or not slot.fits(candidate):
            continue
        scored.append((-scorer(candidate, distance_km, radius), candidate.worker_id, distance_km, candidate))
    chosen = sorted(scored, key=_rank_key) if limit is None else heapq.nsmallest(limit, scored, key=_rank_key)
    return [_match(candidate, -negative_score, distance_km) for negative_score, _, distance_km, candidate in chosen]


def _match(candidate: WorkerCandidate, match_score: float, distance_km: float) -> Match:
    return _frozen(Match, {
        "worker_id": candidate.worker_id, "score": match_score, "distance_km": distance_km,
        "rating": candidate.rating, "hours_this_period": candidate.hours_this_period,
        "rate_cents": candidate.rate_cents, "rating_count": candidate.rating_count,
    })


def _rank_key(entry: tuple) -> tuple[float, int]:
    return entry[0], entry[1]
