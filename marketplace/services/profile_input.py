"""Reading a worker's profile input: weekly windows, location, radius, blocked dates.

Each reader returns clean values or raises ``InputProblem(field, message)``; ``profiles.save_profile``
collects them into one ``ValidationFailed`` so the worker sees every problem at once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, time

from marketplace.domain.city import NEIGHBOURHOODS
from marketplace.domain.geo import MAX_SERVICE_RADIUS_KM, bounding_box, haversine_km

E6 = 1_000_000
DAY_MINUTES = 1440
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_WINDOWS = 42
MAX_BLOCKED_DATES = 366
MAX_BIO = 2000
NEAREST_NEIGHBOURHOOD_KM = 3.0
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


class InputProblem(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def clock_minutes(value: str | time, *, is_end: bool) -> int:
    """``"HH:MM"`` (or a ``time``) as minutes from midnight; ``"24:00"`` only as an end, meaning midnight."""
    if isinstance(value, time):
        minutes = value.hour * 60 + value.minute
        return DAY_MINUTES if is_end and minutes == 0 else minutes
    match = _CLOCK.match(str(value).strip())
    if not match:
        raise InputProblem("availability", f"'{value}' is not a time; use HH:MM, for example 09:30.")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if is_end and (hours, minutes) == (24, 0):
        return DAY_MINUTES
    if hours > 23 or minutes > 59:
        raise InputProblem("availability", f"'{value}' is not a time of day (00:00–23:59, or 24:00 as an end).")
    return hours * 60 + minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_windows(windows: Iterable[tuple[int, str | time, str | time]]) -> list[tuple[int, int, int]]:
    """Weekly windows as sorted ``(weekday, start_minute, end_minute)``.

    Rule: weekday 0 (Monday)..6, start before end, at most 24:00; windows of one day may touch but not
    overlap. Touching windows are merged (9–12 and 12–17 become 9–17), so one stored window covers any
    job that fits in the worker's free time.
    """
    parsed = []
    for entry in windows:
        weekday, start, end = entry
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise InputProblem("availability", f"Weekday {weekday!r} must be 0 (Monday) to 6 (Sunday).")
        lo, hi = clock_minutes(start, is_end=False), clock_minutes(end, is_end=True)
        if lo >= hi:
            raise InputProblem("availability", f"{WEEKDAYS[weekday]} {format_minutes(lo)}–{format_minutes(hi)} "
                                               "must end after it starts.")
        parsed.append((weekday, lo, hi))
    if len(parsed) > MAX_WINDOWS:
        raise InputProblem("availability", f"Use at most {MAX_WINDOWS} time ranges a week.")
    merged: list[tuple[int, int, int]] = []
    for weekday, lo, hi in sorted(parsed):
        if merged and merged[-1][0] == weekday and lo <= merged[-1][2]:
            previous = merged[-1]
            if lo < previous[2]:
                raise InputProblem("availability", f"{WEEKDAYS[weekday]}: {format_minutes(lo)}–{format_minutes(hi)} "
                                                   f"overlaps {format_minutes(previous[1])}–"
                                                   f"{format_minutes(previous[2])}.")
            merged[-1] = (weekday, previous[1], hi)
        else:
            merged.append((weekday, lo, hi))
    return merged


def weekly_minutes(windows: Iterable[tuple[int, int, int]]) -> int:
    """Declared minutes per week: the sum of the (non-overlapping) windows."""
    return sum(hi - lo for _, lo, hi in windows)


def parse_radius(radius_km) -> int:
    """A whole number of kilometres from 1 to the co-op's maximum service radius."""
    if isinstance(radius_km, bool) or not isinstance(radius_km, int):
        raise InputProblem("radius_km", "Enter the service radius as a whole number of kilometres.")
    if not 1 <= radius_km <= MAX_SERVICE_RADIUS_KM:
        raise InputProblem("radius_km", f"The service radius must be between 1 and {MAX_SERVICE_RADIUS_KM} km.")
    return radius_km


def parse_location(neighbourhood: str, lat, lng) -> tuple[str, int, int]:
    """``(neighbourhood, lat_e6, lng_e6)``: coordinates default to the neighbourhood's centre.

    With coordinates and no neighbourhood, the nearest known neighbourhood within 3 km is recorded
    (none when farther), so the public profile can still name the area.
    """
    name = (neighbourhood or "").strip()
    if name and name not in NEIGHBOURHOODS:
        raise InputProblem("neighbourhood", f"'{name}' is not a neighbourhood we know; pick one from the list.")
    if (lat is None) != (lng is None):
        raise InputProblem("lat" if lat is None else "lng", "Give both latitude and longitude, or neither.")
    if lat is None:
        if not name:
            raise InputProblem("neighbourhood", "Pick your neighbourhood or give your coordinates.")
        lat, lng = NEIGHBOURHOODS[name]
    lat, lng = _degrees("lat", lat, 90), _degrees("lng", lng, 180)
    if not name:
        name = nearest_neighbourhood(lat, lng)
    return name, round(lat * E6), round(lng * E6)


def _degrees(field: str, value, limit: int) -> float:
    if isinstance(value, bool):
        raise InputProblem(field, "Enter a number of degrees.")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputProblem(field, f"'{value}' is not a number of degrees.") from None
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise InputProblem(field, f"Must be between -{limit} and {limit} degrees.")
    return number


def nearest_neighbourhood(lat: float, lng: float) -> str:
    """The closest demo-city neighbourhood within 3 km, or ``""``."""
    best = min(NEIGHBOURHOODS.items(), key=lambda item: haversine_km(lat, lng, *item[1]))
    return best[0] if haversine_km(lat, lng, *best[1]) <= NEAREST_NEIGHBOURHOOD_KM else ""


def parse_blocked_dates(days: Iterable[date]) -> list[date]:
    """Distinct blocked dates, sorted."""
    unique = set()
    for day in days:
        if not isinstance(day, date):
            raise InputProblem("blocked_dates", f"'{day}' is not a date.")
        unique.add(day.date() if isinstance(day, datetime) else day)
    if len(unique) > MAX_BLOCKED_DATES:
        raise InputProblem("blocked_dates", f"Block at most {MAX_BLOCKED_DATES} dates.")
    return sorted(unique)


def parse_bio(bio: str) -> str:
    text = (bio or "").strip()
    if len(text) > MAX_BIO:
        raise InputProblem("bio", f"Keep the bio under {MAX_BIO} characters (it has {len(text)}).")
    return text


def service_box_e6(lat_e6: int, lng_e6: int, radius_km: int) -> tuple[int, int, int, int]:
    """The service area's bounding box in micro-degrees ``(min_lat, max_lat, min_lng, max_lng)``.

    Rounded outwards, so the stored box still contains every point within the radius of the stored
    home: the candidate query may over-select, never lose a worker.
    """
    box = bounding_box(lat_e6 / E6, lng_e6 / E6, radius_km)
    return (math.floor(box.min_lat * E6), math.ceil(box.max_lat * E6),
            math.floor(box.min_lng * E6), math.ceil(box.max_lng * E6))
