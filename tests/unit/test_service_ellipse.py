"""The candidate query's ellipse pre-filter never drops a worker whose service circle holds the job's point.

The filter is evaluated as SQL (on an in-memory SQLite database) for points on the very edge of service
circles at many latitudes and radii, walked all the way round; and it does drop the corners of the box.
"""

from __future__ import annotations

import math

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, create_engine, insert, select

from marketplace.domain.geo import EARTH_RADIUS_KM, MAX_SERVICE_RADIUS_KM
from marketplace.services.matching_query import in_service_ellipse
from marketplace.services.profile_input import E6, service_box_e6

metadata = MetaData()
boxes = Table("boxes", metadata, Column("id", Integer, primary_key=True), Column("min_lat_e6", Integer),
              Column("max_lat_e6", Integer), Column("min_lng_e6", Integer), Column("max_lng_e6", Integer))
LATITUDES = [0.0, 20.0, 37.8, 51.5, 60.0, 70.0, 75.0, 79.5, -33.9, -79.5, 85.0]
RADII = [1, 3, 8, 25, 50, MAX_SERVICE_RADIUS_KM]


def destination(lat: float, lng: float, km: float, bearing: float) -> tuple[float, float]:
    """The point ``km`` along the great circle from (lat, lng) at ``bearing`` radians."""
    d, phi1, lam1 = km / EARTH_RADIUS_KM, math.radians(lat), math.radians(lng)
    phi2 = math.asin(math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(bearing))
    lam2 = lam1 + math.atan2(math.sin(bearing) * math.sin(d) * math.cos(phi1),
                             math.cos(d) - math.sin(phi1) * math.sin(phi2))
    return math.degrees(phi2), (math.degrees(lam2) + 540) % 360 - 180


@pytest.fixture(scope="module")
def conn():
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as connection:
        yield connection


def _query():
    lat, lng = bindparam("lat", type_=Integer), bindparam("lng", type_=Integer)
    return select(in_service_ellipse(boxes.c, lat, lng)).where(boxes.c.id == bindparam("id"))


@pytest.mark.parametrize("home_lat", LATITUDES)
@pytest.mark.parametrize("home_lng", [-122.27, 179.9])
def test_every_point_on_the_circle_passes(conn, home_lat, home_lng):
    query, dropped = _query(), []
    for radius in RADII:
        lat_e6, lng_e6 = round(home_lat * E6), round(home_lng * E6)
        box = service_box_e6(lat_e6, lng_e6, radius)
        box_id = conn.execute(insert(boxes).values(dict(zip(
            ("min_lat_e6", "max_lat_e6", "min_lng_e6", "max_lng_e6"), box, strict=True)))).inserted_primary_key[0]
        for step in range(720):
            for km in (radius * (1 - 1e-9), radius * 0.5):
                lat, lng = destination(home_lat, home_lng, km, step * math.pi / 360)
                point = {"lat": math.floor(lat * E6), "lng": math.floor(lng * E6), "id": box_id}
                inside_box = box[0] <= point["lat"] <= box[1] and box[2] <= point["lng"] <= box[3]
                if inside_box and not conn.execute(query, point).scalar():
                    dropped.append((radius, step, km))
    assert not dropped, f"points within the radius were dropped: {dropped[:5]}"


def test_the_corners_of_the_box_are_dropped(conn):
    lat_e6, lng_e6 = round(37.8 * E6), round(-122.27 * E6)
    min_lat, max_lat, min_lng, max_lng = service_box_e6(lat_e6, lng_e6, 10)
    box_id = conn.execute(insert(boxes).values(min_lat_e6=min_lat, max_lat_e6=max_lat, min_lng_e6=min_lng,
                                               max_lng_e6=max_lng)).inserted_primary_key[0]
    query = _query()
    corners = [(min_lat, min_lng), (min_lat, max_lng), (max_lat, min_lng), (max_lat, max_lng)]
    assert not any(conn.execute(query, {"lat": a, "lng": b, "id": box_id}).scalar() for a, b in corners)
    # Most of the way to a corner is out too; the middle of each edge is in.
    near = (min_lat + (max_lat - min_lat) // 12, min_lng + (max_lng - min_lng) // 12)
    assert not conn.execute(query, {"lat": near[0], "lng": near[1], "id": box_id}).scalar()
    edges = [(min_lat, lng_e6), (max_lat, lng_e6), (lat_e6, min_lng), (lat_e6, max_lng)]
    assert all(conn.execute(query, {"lat": a, "lng": b, "id": box_id}).scalar() for a, b in edges)
