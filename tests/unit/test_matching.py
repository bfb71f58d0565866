"""Matching: the eligibility filter is exact, the ranking is fair and deterministic."""

import random
from dataclasses import replace
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain.geo import MAX_SERVICE_RADIUS_KM, haversine_km
from marketplace.domain.matching import (
    AvailabilityWindow,
    JobSpec,
    MatchWeights,
    WorkerCandidate,
    eligibility_problems,
    is_available,
    rank_candidates,
    score,
    smoothed_rating,
    weekly_hours,
)

PROPERTY = settings(max_examples=200, deadline=None)
CATEGORIES = ("cleaning", "plumbing", "tutoring")
FIRST_DAY = date(2024, 3, 4)  # a Monday
MONDAY_10 = datetime(2024, 3, 4, 10, 0)


def window(weekday, start, end):
    return AvailabilityWindow(weekday, time(*start), time(*end))


def worker(worker_id=1, **changes):
    """An eligible-by-default worker for MONDAY_10 cleaning jobs at the job's own location."""
    base = WorkerCandidate(
        worker_id=worker_id,
        lat=40.7,
        lng=-74.0,
        radius_km=10,
        rate_cents=3000,
        categories=frozenset({"cleaning"}),
        weekly_availability=(window(0, (9, 0), (17, 0)),),
    )
    return replace(base, **changes)


def job(**changes):
    base = JobSpec(category="cleaning", lat=40.7, lng=-74.0, starts_at=MONDAY_10, duration_minutes=120)
    return replace(base, **changes)


# ---- strategies ---------------------------------------------------------------------------------

quarter_hours = st.integers(0, 96)  # 96 quarters is 24:00, written as time(0, 0)


def quarter_to_time(quarter):
    return time(0, 0) if quarter == 96 else time(quarter // 4, quarter % 4 * 15)


@st.composite
def windows(draw):
    start, end = sorted(draw(st.lists(quarter_hours, min_size=2, max_size=2, unique=True)))
    return AvailabilityWindow(draw(st.integers(0, 6)), quarter_to_time(start), quarter_to_time(end))


moments = st.builds(
    lambda day, quarter: datetime.combine(FIRST_DAY + timedelta(days=day), time()) + timedelta(minutes=15 * quarter),
    st.integers(0, 13),
    st.integers(0, 95),
)
durations = st.integers(1, 40).map(lambda quarters: quarters * 15)
near_lat = st.floats(40.0, 41.5)
near_lng = st.floats(-74.5, -73.0)


jobs = st.builds(
    JobSpec,
    category=st.sampled_from(CATEGORIES),
    lat=near_lat,
    lng=near_lng,
    starts_at=moments,
    duration_minutes=durations,
    max_rate_cents=st.none() | st.integers(1000, 6000),
)


GOOD_MARGINS = st.sampled_from([0, 1, 4])
NEAR_MISS_MARGINS = st.sampled_from([-1, 0, 1])
FLAWS = st.sampled_from([None, None, "category", "place", "window", "blocked", "busy", "rate"])


@st.composite
def window_around(draw, spec, margins):
    """A window on the job's weekday reaching ``margins`` quarter hours beyond it (negative: short)."""
    first = (spec.starts_at.hour * 60 + spec.starts_at.minute) // 15
    last = first + spec.duration_minutes // 15
    low, high = max(0, first - draw(margins)), min(96, last + draw(margins))
    if low >= high:
        return None
    return AvailabilityWindow(spec.starts_at.weekday(), quarter_to_time(low), quarter_to_time(high))


@st.composite
def busy_near(draw, spec, overlapping_allowed):
    """A gig near the job: anywhere around it, or ending/starting at or beyond the job's edges."""
    length = timedelta(minutes=draw(durations))
    gap = timedelta(minutes=15 * draw(st.integers(0, 8)))
    if overlapping_allowed:
        start = spec.starts_at + timedelta(minutes=15 * draw(st.integers(-40, 40)))
    elif draw(st.booleans()):
        start = spec.starts_at - gap - length
    else:
        start = spec.starts_at + timedelta(minutes=spec.duration_minutes) + gap
    return (start, start + length)


@st.composite
def candidates(draw, worker_id, spec):
    """A worker aimed at the job, with at most one aspect (the flaw) left to chance.

    Aiming makes eligible workers common, and the good aspects sit on their boundaries (touching
    gigs, exact windows, the radius edge, a rate equal to the cap), where a filter goes wrong.
    """
    flaw = draw(FLAWS)
    radius = draw(st.floats(0, 130))
    if flaw == "place":
        lat, lng = spec.lat + draw(st.floats(-1, 1)), spec.lng + draw(st.floats(-1, 1))
    else:
        lat, lng = spec.lat + draw(st.floats(0, 1)) * min(radius, 100) / 111.195, spec.lng
    categories = set(draw(st.lists(st.sampled_from(CATEGORIES), max_size=2)))
    if flaw != "category":
        categories.add(spec.category)
    weekly = draw(st.lists(windows(), max_size=2))
    weekly.append(draw(window_around(spec, NEAR_MISS_MARGINS if flaw == "window" else GOOD_MARGINS)))
    blocked = {FIRST_DAY + timedelta(d) for d in draw(st.sets(st.integers(0, 13), max_size=2))}
    if flaw != "blocked":
        blocked.discard(spec.starts_at.date())
    busy = draw(st.lists(busy_near(spec, flaw == "busy"), max_size=2))
    cap = spec.max_rate_cents
    rate = draw(st.integers(1000, 6000 if flaw == "rate" or cap is None else cap))
    rated = draw(st.booleans())
    return WorkerCandidate(
        worker_id=worker_id,
        lat=lat,
        lng=lng,
        radius_km=radius,
        rate_cents=rate,
        categories=frozenset(categories),
        weekly_availability=tuple(w for w in weekly if w is not None),
        blocked_dates=frozenset(blocked),
        busy=tuple(busy),
        rating=draw(st.floats(1, 5)) if rated else None,
        rating_count=draw(st.integers(1, 200)) if rated else 0,
        hours_this_period=draw(st.floats(0, 200)),
    )


@st.composite
def scenarios(draw):
    """A job and a pool of workers around it, with distinct worker ids."""
    spec = draw(jobs)
    ids = draw(st.lists(st.integers(1, 10_000), max_size=6, unique=True))
    return spec, [draw(candidates(worker_id, spec)) for worker_id in ids]


match_weights = st.builds(MatchWeights, distance=st.floats(0, 1), rating=st.floats(0, 1), fairness=st.floats(0.01, 1))
period_weeks = st.floats(0, 52)


# ---- an independent, minute-by-minute oracle ----------------------------------------------------


def available_by_minutes(candidate, starts_at, duration_minutes):
    """Every minute of the job lies in some window of its own day; no busy overlap; not blocked."""
    if starts_at.date() in candidate.blocked_dates:
        return False
    ends_at = starts_at + timedelta(minutes=duration_minutes)
    if ends_at.date() != starts_at.date() and ends_at.time() != time(0, 0):
        return False
    for offset in range(duration_minutes):
        minute = starts_at + timedelta(minutes=offset)
        if minute.date() != starts_at.date():
            return False
        of_day = minute.hour * 60 + minute.minute
        if not any(
            w.weekday == starts_at.weekday() and w.start_seconds <= of_day * 60 and of_day * 60 + 60 <= w.end_seconds
            for w in candidate.weekly_availability
        ):
            return False
    return all(not (b_start < ends_at and starts_at < b_end) for b_start, b_end in candidate.busy)


def eligible_by_oracle(candidate, spec):
    return (
        spec.category in candidate.categories
        and haversine_km(candidate.lat, candidate.lng, spec.lat, spec.lng) <= min(candidate.radius_km, 100)
        and available_by_minutes(candidate, spec.starts_at, spec.duration_minutes)
        and (spec.max_rate_cents is None or candidate.rate_cents <= spec.max_rate_cents)
    )


# ---- properties ---------------------------------------------------------------------------------


@PROPERTY
@given(scenarios(), match_weights, period_weeks, st.randoms(use_true_random=False))
def test_filter_is_exact_and_ranking_is_deterministic(scenario, weights, weeks, rnd):
    spec, pool = scenario
    # One test for both properties: generating worker pools is the expensive part.
    ranked = rank_candidates(pool, spec, weights, weeks)
    by_id = {c.worker_id: c for c in pool}
    for match in ranked:
        chosen = by_id[match.worker_id]
        assert spec.category in chosen.categories
        assert haversine_km(chosen.lat, chosen.lng, spec.lat, spec.lng) <= chosen.radius_km
        assert is_available(chosen, spec.starts_at, spec.duration_minutes)
        assert spec.max_rate_cents is None or chosen.rate_cents <= spec.max_rate_cents
    expected = {c.worker_id for c in pool if eligible_by_oracle(c, spec)}
    assert {m.worker_id for m in ranked} == expected
    assert {c.worker_id for c in pool if not eligibility_problems(c, spec)} == expected

    keys = [(-m.score, m.worker_id) for m in ranked]
    assert keys == sorted(keys)
    assert all(-1e-9 <= m.score <= 1 + 1e-9 for m in ranked)
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    assert rank_candidates(shuffled, spec, weights, weeks) == ranked
    assert rank_candidates(pool, spec, weights, weeks, limit=3) == ranked[:3]


@PROPERTY
@given(st.data(), jobs, st.lists(moments, max_size=4), durations)
def test_availability_agrees_with_minute_by_minute_oracle(data, spec, other_starts, other_duration):
    candidate = data.draw(candidates(1, spec))
    for starts_at, duration in [(spec.starts_at, spec.duration_minutes)] + [(s, other_duration) for s in other_starts]:
        assert is_available(candidate, starts_at, duration) == available_by_minutes(candidate, starts_at, duration)


@PROPERTY
@given(
    st.floats(0, 300),
    st.floats(0.5, 300),
    st.integers(1, 1000),
    st.integers(1, 1000),
    match_weights,
    period_weeks,
    st.sampled_from([None, 4.5]),
)
def test_fewer_hours_this_period_ranks_first(hours, extra, id_a, id_b, weights, weeks, rating):
    if id_a == id_b:
        id_b = id_a + 1
    count = 10 if rating else 0
    busier = worker(id_a, hours_this_period=hours + extra, rating=rating, rating_count=count)
    quieter = worker(id_b, hours_this_period=hours, rating=rating, rating_count=count)
    ranked = rank_candidates([busier, quieter], job(), weights, weeks)
    assert [m.worker_id for m in ranked] == [id_b, id_a]


@PROPERTY
@given(st.floats(0, 4.9), st.floats(0.05, 5), match_weights)
def test_closer_is_never_worse_for_otherwise_equal_workers(near_km, farther_by, weights):
    # Move each worker due north of the job: 1 degree of latitude is about 111.195 km.
    near = worker(1, lat=40.7 + near_km / 111.195)
    far = worker(2, lat=40.7 + min(near_km + farther_by, 9.99) / 111.195)
    ranked = rank_candidates([far, near], job(), weights, 1.0)
    assert ranked[0].score >= ranked[1].score
    if weights.distance > 0:
        assert ranked[0].worker_id == 1


def test_equal_workers_are_ordered_by_worker_id():
    ranked = rank_candidates([worker(7), worker(3), worker(5)], job(), MatchWeights(), 2.0)
    assert [m.worker_id for m in ranked] == [3, 5, 7]


# ---- availability edge cases --------------------------------------------------------------------


def test_job_filling_the_window_exactly_is_available():
    assert is_available(worker(), datetime(2024, 3, 4, 9, 0), 8 * 60)


def test_job_one_minute_past_the_window_is_not_available():
    assert not is_available(worker(), datetime(2024, 3, 4, 9, 0), 8 * 60 + 1)
    assert not is_available(worker(), datetime(2024, 3, 4, 8, 59), 60)


def test_job_on_another_weekday_is_not_available():
    assert not is_available(worker(), datetime(2024, 3, 5, 10, 0), 60)


def test_blocked_date_is_not_available():
    blocked = worker(blocked_dates=frozenset({date(2024, 3, 4)}))
    assert not is_available(blocked, MONDAY_10, 60)
    assert is_available(blocked, datetime(2024, 3, 11, 10, 0), 60)


def test_overlapping_a_busy_interval_is_not_available():
    busy = worker(busy=((datetime(2024, 3, 4, 11, 0), datetime(2024, 3, 4, 13, 0)),))
    assert not is_available(busy, MONDAY_10, 61)
    assert not is_available(busy, datetime(2024, 3, 4, 12, 59), 30)
    assert not is_available(busy, datetime(2024, 3, 4, 11, 30), 30)


def test_touching_a_busy_interval_is_available():
    busy = worker(busy=((datetime(2024, 3, 4, 11, 0), datetime(2024, 3, 4, 13, 0)),))
    assert is_available(busy, MONDAY_10, 60)
    assert is_available(busy, datetime(2024, 3, 4, 13, 0), 60)


def test_job_spanning_midnight_is_not_available_even_with_windows_on_both_days():
    night_owl = worker(weekly_availability=(window(0, (20, 0), (0, 0)), window(1, (0, 0), (6, 0))))
    assert not is_available(night_owl, datetime(2024, 3, 4, 23, 0), 120)
    assert is_available(night_owl, datetime(2024, 3, 4, 22, 0), 120)  # ends exactly at midnight
    assert is_available(night_owl, datetime(2024, 3, 5, 0, 0), 120)


def test_touching_windows_merge_into_one():
    split_day = worker(weekly_availability=(window(0, (9, 0), (12, 0)), window(0, (12, 0), (17, 0))))
    assert is_available(split_day, datetime(2024, 3, 4, 11, 0), 120)
    gap_day = worker(weekly_availability=(window(0, (9, 0), (12, 0)), window(0, (12, 30), (17, 0))))
    assert not is_available(gap_day, datetime(2024, 3, 4, 11, 0), 120)


def test_non_positive_duration_is_rejected():
    with pytest.raises(ValueError):
        is_available(worker(), MONDAY_10, 0)
    with pytest.raises(ValueError):
        job(duration_minutes=0)


# ---- eligibility reasons, scoring and reasons ---------------------------------------------------


def test_each_problem_is_reported():
    far_busy_pricey = worker(
        lat=41.7,
        categories=frozenset({"plumbing"}),
        rate_cents=5000,
        blocked_dates=frozenset({MONDAY_10.date()}),
    )
    problems = eligibility_problems(far_busy_pricey, job(max_rate_cents=4000))
    assert len(problems) == 4 and all(problems)
    assert eligibility_problems(worker(), job()) == []


def test_rate_equal_to_the_cap_is_eligible():
    assert eligibility_problems(worker(rate_cents=4000), job(max_rate_cents=4000)) == []
    assert eligibility_problems(worker(rate_cents=4001), job(max_rate_cents=4000)) != []


def test_declared_radius_beyond_the_maximum_is_capped():
    roamer = worker(radius_km=500, lat=40.7 + (MAX_SERVICE_RADIUS_KM + 5) / 111.195)
    assert eligibility_problems(roamer, job()) != []
    assert eligibility_problems(replace(roamer, lat=40.7 + 95 / 111.195), job()) == []


def test_money_must_be_int_cents():
    with pytest.raises(ValueError):
        worker(rate_cents=30.0)
    with pytest.raises(ValueError):
        job(max_rate_cents=40.5)


def test_smoothed_rating_pulls_few_reviews_towards_the_prior():
    assert smoothed_rating(None, 0) == 4.0
    assert smoothed_rating(5.0, 1) == pytest.approx(4.25)
    assert smoothed_rating(5.0, 1) < smoothed_rating(4.9, 100)


def test_score_terms_at_their_extremes():
    only = {"distance": MatchWeights(1, 0, 0), "rating": MatchWeights(0, 1, 0), "fairness": MatchWeights(0, 0, 1)}
    fresh = worker(weekly_availability=(), available_hours_per_week=10.0)
    assert score(fresh, only["distance"], 0.0, 1.0) == 1.0
    assert score(fresh, only["distance"], 10.0, 1.0) == 0.0
    assert score(fresh, only["rating"], 0.0, 1.0) == pytest.approx(0.75)
    assert score(fresh, only["fairness"], 0.0, 1.0) == 1.0
    # 10 h worked against 10 h available in one week: utilisation 1, fairness 1/2.
    assert score(replace(fresh, hours_this_period=10.0), only["fairness"], 0.0, 1.0) == pytest.approx(0.5)


def test_weekly_hours_counts_overlaps_once():
    windows_ = (window(0, (9, 0), (13, 0)), window(0, (12, 0), (17, 0)), window(6, (22, 0), (0, 0)))
    assert weekly_hours(windows_) == 10.0
    assert worker(weekly_availability=windows_).capacity_hours_per_week == 10.0
    assert worker(weekly_availability=windows_, available_hours_per_week=6.0).capacity_hours_per_week == 6.0


def test_reasons_describe_distance_rating_and_hours():
    rated = worker(lat=40.7 + 2.4 / 111.195, rating=4.8, rating_count=12, hours_this_period=12.5)
    (match,) = rank_candidates([rated], job(), MatchWeights(), 1.0)
    assert match.reasons == ("2.4 km away", "rated 4.8 (12 reviews)", "12.5 h this period")
    (new,) = rank_candidates([worker()], job(), MatchWeights(), 1.0)
    assert "new worker, not yet rated" in new.reasons


def test_bad_weights_and_periods_are_rejected():
    with pytest.raises(ValueError):
        MatchWeights(0, 0, 0)
    with pytest.raises(ValueError):
        MatchWeights(-1, 1, 1)
    with pytest.raises(ValueError):
        rank_candidates([], job(), MatchWeights(), -1.0)


def test_ranking_many_workers_keeps_only_the_eligible():
    rng = random.Random(7)
    pool = [worker(i, lat=40.7 + rng.uniform(-0.2, 0.2), hours_this_period=rng.uniform(0, 40)) for i in range(500)]
    ranked = rank_candidates(pool, job(), MatchWeights(), 2.0, limit=10)
    assert len(ranked) == 10
    assert all(m.distance_km <= 10 for m in ranked)
