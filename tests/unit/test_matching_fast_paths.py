"""The shortcuts that keep matching thousands of candidates cheap give exactly what the plain paths give."""

from datetime import date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain.geo import distance_to, haversine_km
from marketplace.domain.matching import (
    AvailabilityWindow,
    JobSpec,
    MatchWeights,
    WorkerCandidate,
    match_reasons,
    rank_candidates,
    score,
)

PROPERTY = settings(max_examples=300, deadline=None)
latitudes = st.floats(-89.9, 89.9, allow_nan=False)
longitudes = st.floats(-179.9, 179.9, allow_nan=False)


@PROPERTY
@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_to_a_fixed_point_is_bit_for_bit_haversine(lat, lng, from_lat, from_lng):
    assert distance_to(lat, lng)(from_lat, from_lng) == haversine_km(from_lat, from_lng, lat, lng)


candidate_fields = st.fixed_dictionaries({
    "worker_id": st.integers(1, 10**6),
    "lat": latitudes,
    "lng": longitudes,
    "radius_km": st.integers(0, 120),
    "rate_cents": st.integers(0, 10**5),
    "categories": st.frozensets(st.sampled_from(["a", "b"])),
    "weekly_availability": st.just((AvailabilityWindow(1, time(9), time(17)),)),
    "blocked_dates": st.frozensets(st.just(date(2024, 3, 5))),
    "rating": st.none() | st.floats(1, 5),
    "rating_count": st.integers(0, 50),
    "hours_this_period": st.floats(0, 300),
    "available_hours_per_week": st.none() | st.floats(0, 80),
})


@PROPERTY
@given(candidate_fields)
def test_fast_candidates_equal_constructed_ones(fields):
    fast = WorkerCandidate.fast(**fields)
    assert fast == WorkerCandidate(**fields)
    assert hash(fast) == hash(WorkerCandidate(**fields))
    assert fast.capacity_hours_per_week == WorkerCandidate(**fields).capacity_hours_per_week


@pytest.mark.parametrize("change", [{"rate_cents": -1}, {"rate_cents": 10.5}, {"radius_km": -1}, {"rating": 5.5},
                                    {"rating_count": -1}, {"hours_this_period": -0.5},
                                    {"available_hours_per_week": -1}])
def test_fast_candidates_are_validated_like_constructed_ones(change):
    fields = {"worker_id": 1, "lat": 37.8, "lng": -122.2, "radius_km": 10, "rate_cents": 2500,
              "categories": frozenset({"a"}), **change}
    with pytest.raises(ValueError):
        WorkerCandidate(**fields)
    with pytest.raises(ValueError):
        WorkerCandidate.fast(**fields)


@PROPERTY
@given(st.lists(candidate_fields, max_size=8), st.floats(0.01, 1), st.floats(0, 1), st.floats(0, 1))
def test_ranked_matches_carry_the_plain_score_and_reasons(pool, fairness, distance, rating):
    job = JobSpec(category="a", lat=10.0, lng=20.0, starts_at=datetime(2024, 3, 5, 10), duration_minutes=60)
    candidates = [WorkerCandidate.fast(**{**fields, "lat": 10.0 + fields["lat"] / 1000,
                                           "lng": 20.0 + fields["lng"] / 1000, "worker_id": index})
                  for index, fields in enumerate(pool)]
    weights = MatchWeights(distance=distance, rating=rating, fairness=fairness)
    by_id = {c.worker_id: c for c in candidates}
    for match in rank_candidates(candidates, job, weights, 2.0):
        candidate = by_id[match.worker_id]
        assert match.distance_km == haversine_km(candidate.lat, candidate.lng, job.lat, job.lng)
        assert match.score == score(candidate, weights, match.distance_km, 2.0)
        assert match.reasons == match_reasons(candidate, match.distance_km)
        assert match.rating_count == candidate.rating_count
