"""Great-circle distance and the bounding box that drives the indexed candidate query."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from marketplace.domain.geo import EARTH_RADIUS_KM, MAX_SERVICE_RADIUS_KM, bounding_box, haversine_km

PROPERTY = settings(max_examples=200, deadline=None)

latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)
radii = st.floats(min_value=0, max_value=MAX_SERVICE_RADIUS_KM, allow_nan=False)


def destination(lat, lng, bearing_deg, distance_km):
    """The point reached by travelling ``distance_km`` from (lat, lng) on the given initial bearing."""
    phi, lam, theta = math.radians(lat), math.radians(lng), math.radians(bearing_deg)
    delta = distance_km / EARTH_RADIUS_KM
    phi2 = math.asin(math.sin(phi) * math.cos(delta) + math.cos(phi) * math.sin(delta) * math.cos(theta))
    lam2 = lam + math.atan2(
        math.sin(theta) * math.sin(delta) * math.cos(phi), math.cos(delta) - math.sin(phi) * math.sin(phi2)
    )
    lng2 = (math.degrees(lam2) + 540) % 360 - 180
    return math.degrees(phi2), lng2


def test_same_point_is_zero_km():
    assert haversine_km(52.52, 13.405, 52.52, 13.405) == 0.0


def test_one_degree_of_latitude_is_about_111_2_km():
    assert haversine_km(10.0, 20.0, 11.0, 20.0) == pytest.approx(111.195, abs=0.01)


def test_one_degree_of_longitude_shrinks_with_latitude():
    at_equator = haversine_km(0.0, 0.0, 0.0, 1.0)
    at_sixty = haversine_km(60.0, 0.0, 60.0, 1.0)
    assert at_equator == pytest.approx(111.195, abs=0.01)
    assert at_sixty == pytest.approx(at_equator / 2, rel=0.001)


def test_paris_to_london_within_half_a_percent():
    # Reference great-circle distance between the two city centres: 343.5 km.
    distance = haversine_km(48.8566, 2.3522, 51.5074, -0.1278)
    assert distance == pytest.approx(343.5, rel=0.005)


def test_san_francisco_to_new_york_within_half_a_percent():
    # SFO-JFK reference great-circle distance: 4152 km.
    distance = haversine_km(37.6189, -122.3750, 40.6398, -73.7789)
    assert distance == pytest.approx(4152, rel=0.005)


def test_antipodes_are_half_the_circumference():
    assert haversine_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(math.pi * EARTH_RADIUS_KM)


@PROPERTY
@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_non_negative(lat1, lng1, lat2, lng2):
    forward = haversine_km(lat1, lng1, lat2, lng2)
    assert forward >= 0
    assert forward == pytest.approx(haversine_km(lat2, lng2, lat1, lng1), abs=1e-9)


def test_box_of_zero_radius_is_the_point():
    box = bounding_box(45.0, 7.0, 0)
    assert box.contains(45.0, 7.0)
    assert box.max_lat - box.min_lat < 1e-6 and box.max_lng - box.min_lng < 1e-6


def test_box_is_wider_in_longitude_at_high_latitude():
    equator = bounding_box(0.0, 0.0, 50)
    north = bounding_box(70.0, 0.0, 50)
    assert north.max_lng - north.min_lng > 2 * (equator.max_lng - equator.min_lng)
    assert north.max_lat - north.min_lat == pytest.approx(equator.max_lat - equator.min_lat)


def test_box_reaching_a_pole_clamps_latitude_and_takes_every_longitude():
    box = bounding_box(89.8, 10.0, 50)
    assert box.max_lat == 90.0
    assert (box.min_lng, box.max_lng) == (-180.0, 180.0)
    assert box.contains(89.9, -170.0)


def test_box_crossing_the_antimeridian_takes_every_longitude():
    box = bounding_box(-17.0, 179.9, 30)
    assert (box.min_lng, box.max_lng) == (-180.0, 180.0)
    assert box.contains(-17.0, -179.9)


def test_box_rejects_bad_input():
    with pytest.raises(ValueError):
        bounding_box(91.0, 0.0, 10)
    with pytest.raises(ValueError):
        bounding_box(0.0, 181.0, 10)
    with pytest.raises(ValueError):
        bounding_box(0.0, 0.0, -1)


@PROPERTY
@given(latitudes, longitudes, radii, st.floats(0, 360), st.floats(0, 1))
def test_every_point_within_radius_is_in_the_box(lat, lng, radius, bearing, fraction):
    point = destination(lat, lng, bearing, radius * fraction)
    assume(haversine_km(lat, lng, *point) <= radius)
    assert bounding_box(lat, lng, radius).contains(*point)


@PROPERTY
@given(latitudes, longitudes, radii, st.floats(0, 360))
def test_points_on_the_circle_edge_are_in_the_box(lat, lng, radius, bearing):
    # The edge is where a too-tight box would fail first; allow the slack of float rounding only.
    point = destination(lat, lng, bearing, radius * (1 - 1e-9))
    assume(haversine_km(lat, lng, *point) <= radius)
    assert bounding_box(lat, lng, radius).contains(*point)


@PROPERTY
@given(
    st.floats(min_value=-80, max_value=80),
    st.floats(min_value=-170, max_value=170),
    st.floats(min_value=0.1, max_value=MAX_SERVICE_RADIUS_KM),
)
def test_box_is_tight_along_the_meridian(lat, lng, radius):
    # Away from poles the latitude span is exactly the radius: a box that is needlessly large
    # would make the indexed query scan far more rows than it must.
    box = bounding_box(lat, lng, radius)
    assert haversine_km(lat, lng, box.max_lat, lng) == pytest.approx(radius, abs=0.001)
    assert haversine_km(lat, lng, box.min_lat, lng) == pytest.approx(radius, abs=0.001)
