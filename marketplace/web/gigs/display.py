"""Presenting marketplace values in pages: local times, durations, hours and ratings.

Registered app-wide (``register_filters``) so every marketplace template can use them. Times are stored
in UTC and shown on the co-op's clock (config ``COOP_TIMEZONE``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def coop_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["COOP_TIMEZONE"])


def to_local(moment: datetime) -> datetime:
    """A stored (UTC) datetime on the co-op's clock."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(coop_zone())


def from_local(day: date, clock: time) -> datetime:
    """A date and time read on the co-op's clock, as an aware UTC datetime."""
    return datetime.combine(day, clock, tzinfo=coop_zone()).astimezone(UTC)


def local_datetime(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = to_local(moment)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def local_date(moment: datetime | date | None) -> str:
    if moment is None:
        return "—"
    day = to_local(moment).date() if isinstance(moment, datetime) else moment
    return f"{day:%a} {day.day} {day:%b %Y}"


def local_time(moment: datetime | None) -> str:
    return "—" if moment is None else f"{to_local(moment):%H:%M}"


def iso_utc(moment: datetime) -> str:
    """An ISO 8601 UTC timestamp for ``data-countdown`` (read by static/js/app.js)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration(minutes: int | None) -> str:
    """Minutes as "2 h 30 min", "45 min" or "3 h"."""
    if minutes is None:
        return "—"
    hours, rest = divmod(int(minutes), 60)
    if not minutes:
        return "0 h"
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def decimal_hours(minutes: int | None) -> str:
    """Minutes as decimal hours for a form field: 150 → "2.5", 135 → "2.25"."""
    if minutes is None:
        return ""
    value = Fraction(int(minutes), 60)
    text = f"{float(value):.2f}".rstrip("0").rstrip(".")
    return text


def rating_text(rating: float | None) -> str:
    return "not yet rated" if rating is None else f"{rating:.1f}"


def stars(rating: float | int | None) -> str:
    """Five star glyphs filled to the nearest whole star (the number is always shown beside them)."""
    if rating is None:
        return "☆☆☆☆☆"
    filled = max(0, min(5, round(float(rating))))
    return "★" * filled + "☆" * (5 - filled)


def register_filters(bp: Blueprint) -> None:
    for name, func in (("local_datetime", local_datetime), ("local_date", local_date), ("local_time", local_time),
                       ("iso_utc", iso_utc), ("duration", duration), ("decimal_hours", decimal_hours),
                       ("rating_text", rating_text), ("stars", stars)):
        bp.add_app_template_filter(func, name)
