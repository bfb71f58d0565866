"""The demo city's neighbourhoods with their coordinates, so locations need no geocoding service.

A co-op in another city replaces this list (name, latitude, longitude of the neighbourhood's centre).
"""

from __future__ import annotations

CITY_NAME = "Oakland, CA"
TIMEZONE = "America/Los_Angeles"

NEIGHBOURHOODS: dict[str, tuple[float, float]] = {
    "Downtown": (37.8044, -122.2712),
    "Uptown": (37.8110, -122.2670),
    "Lake Merritt": (37.8024, -122.2580),
    "Grand Lake": (37.8118, -122.2475),
    "Adams Point": (37.8140, -122.2560),
    "Temescal": (37.8339, -122.2630),
    "Rockridge": (37.8444, -122.2516),
    "Piedmont Avenue": (37.8260, -122.2530),
    "Montclair": (37.8264, -122.2108),
    "Dimond": (37.8000, -122.2180),
    "Fruitvale": (37.7752, -122.2240),
    "Jack London Square": (37.7955, -122.2772),
    "West Oakland": (37.8120, -122.2950),
    "Chinatown": (37.7998, -122.2696),
    "Glenview": (37.8065, -122.2215),
    "Laurel": (37.7940, -122.2030),
    "Maxwell Park": (37.7830, -122.1960),
    "Millsmont": (37.7760, -122.1800),
    "East Oakland": (37.7600, -122.1900),
    "Elmhurst": (37.7500, -122.1780),
}


def neighbourhood_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(NEIGHBOURHOODS)]


def coordinates(neighbourhood: str) -> tuple[float, float]:
    """The centre of a known neighbourhood; raises KeyError for an unknown one."""
    return NEIGHBOURHOODS[neighbourhood]
