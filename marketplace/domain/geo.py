"""Distances on the Earth's surface and the boxes that bound them.

Matching first narrows workers with an indexed ``lat``/``lng`` range query (the bounding box), then
measures the exact great-circle distance for the few rows that remain. The box may be larger than
the circle, never smaller: a worker inside the radius must never be lost by the prefilter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), the sphere all distances here are measured on."""

MAX_SERVICE_RADIUS_KM = 100
"""The farthest a worker may travel to a job; the candidate query never looks farther."""

# A box edge computed in floating point can land a hair inside a point that is exactly on the circle.
# Widening by about a millimetre keeps "surely contains" true without noticeably growing the box.
_EDGE_SLACK_DEG = 1e-8


@dataclass(frozen=True)
class BoundingBox:
    """An inclusive latitude/longitude rectangle, in degrees, with ``min_lng <= max_lng`` always."""

    min_lat: float
    max_lat: float
    min_lng: float
    max_lng: float

    def contains(self, lat: float, lng: float) -> bool:
        """True when the point lies inside the rectangle or on its edge."""
        return self.min_lat <= lat <= self.max_lat and self.min_lng <= lng <= self.max_lng


def _check_point(lat: float, lng: float) -> None:
    if not (-90.0 <= lat <= 90.0):
        raise ValueError(f"latitude {lat} is outside -90..90")
    if not (-180.0 <= lng <= 180.0):
        raise ValueError(f"longitude {lng} is outside -180..180")


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in km between two points given in degrees, on a sphere of radius 6371.0088 km.

    Uses the haversine formula, which stays accurate for the short distances matching cares about.
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lng2 - lng1)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    # Rounding can push h a few ulps above 1 for antipodal points, where asin would fail.
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def distance_to(lat: float, lng: float):
    """``haversine_km(from_lat, from_lng, lat, lng)`` as a function of the start, for measuring many points
    against one: the fixed point's terms are computed once, the arithmetic is the same, so are the results."""
    phi2, cos_phi2 = math.radians(lat), math.cos(math.radians(lat))
    radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
    diameter = 2 * EARTH_RADIUS_KM

    def distance_km(from_lat: float, from_lng: float) -> float:
        phi1 = radians(from_lat)
        h = sin((phi2 - phi1) / 2) ** 2 + cos(phi1) * cos_phi2 * sin(radians(lng - from_lng) / 2) ** 2
        return diameter * asin(sqrt(min(1.0, h)))

    return distance_km


def bounding_box(lat: float, lng: float, radius_km: float) -> BoundingBox:
    """The smallest lat/lng rectangle that surely contains every point within ``radius_km`` of the centre.

    Latitude spans ``radius / R`` radians either way, clamped to the poles. Longitude spans
    ``asin(sin(r/R) / cos(lat))`` either way (the widest the circle gets, which is not at the centre's
    latitude). When the circle reaches a pole, or crosses the antimeridian, the box takes every
    longitude: it stays a single range that an index can scan, at the price of being wide in those
    rare places.
    """
    _check_point(lat, lng)
    if radius_km < 0 or math.isnan(radius_km):
        raise ValueError(f"radius {radius_km} km must be zero or more")
    angular = radius_km / EARTH_RADIUS_KM
    d_lat = math.degrees(angular) + _EDGE_SLACK_DEG
    min_lat, max_lat = lat - d_lat, lat + d_lat
    if min_lat <= -90.0 or max_lat >= 90.0 or angular >= math.pi / 2:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0)

    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    d_lng = math.degrees(math.asin(ratio)) + _EDGE_SLACK_DEG
    min_lng, max_lng = lng - d_lng, lng + d_lng
    if min_lng < -180.0 or max_lng > 180.0:
        return BoundingBox(min_lat, max_lat, -180.0, 180.0)
    return BoundingBox(min_lat, max_lat, min_lng, max_lng)
