"""Forms of the worker area: the profile (services, area, weekly availability, blocked dates) and offers.

The forms check syntax (a time is HH:MM, a rate is an amount, a date is YYYY-MM-DD); the profiles service
checks the rules (rate floors, overlapping windows, known neighbourhood) and its messages land on the fields.
"""

from __future__ import annotations

import re
from datetime import date

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from marketplace.domain.city import neighbourhood_choices
from marketplace.domain.money import MoneyFormatError, format_cents, parse_cents
from marketplace.web.gigs.display import WEEKDAYS

_CLOCK = re.compile(r"^(?:[01]?\d|2[0-3]):[0-5]\d$|^24:00$")
_DATE_SPLIT = re.compile(r"[\s,;]+")
RANGES_PER_DAY = 2


def _clock_text(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


class ServiceRowForm(Form):
    """One category: offered or not, and the hourly rate in dollars."""

    slug = HiddenField()
    offered = BooleanField("I offer this")
    rate = StringField("Hourly rate ($)", validators=[Length(max=12)],
                       render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def validate_rate(self, field):
        if not self.offered.data:
            return
        if not (field.data or "").strip():
            raise ValidationError("Enter your hourly rate for this service.")
        try:
            parse_cents(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc)) from exc

    @property
    def rate_cents(self) -> int:
        return parse_cents(self.rate.data)


class DayForm(Form):
    """Up to two time ranges on one weekday, each "HH:MM" to "HH:MM" (24:00 ends at midnight)."""

    start1 = StringField("From", validators=[Optional(), Length(max=5)])
    end1 = StringField("To", validators=[Optional(), Length(max=5)])
    start2 = StringField("From", validators=[Optional(), Length(max=5)])
    end2 = StringField("To", validators=[Optional(), Length(max=5)])

    def pairs(self):
        return ((self.start1, self.end1), (self.start2, self.end2))

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        for start, end in self.pairs():
            for field in (start, end):
                if field.data and not _CLOCK.match(field.data.strip()):
                    field.errors = [*field.errors, "Use HH:MM, for example 09:30 (24:00 for midnight)."]
                    ok = False
            if bool((start.data or "").strip()) != bool((end.data or "").strip()):
                blank = end if (start.data or "").strip() else start
                blank.errors = [*blank.errors, "Give both the start and the end of the range."]
                ok = False
        return ok

    def ranges(self) -> list[tuple[str, str]]:
        return [(s.data.strip(), e.data.strip()) for s, e in self.pairs() if (s.data or "").strip()]


class WorkerProfileForm(FlaskForm):
    bio = TextAreaField("About you", validators=[Length(max=2000)],
                        description="What you do, your experience, anything a client should know.")
    neighbourhood = SelectField("Home neighbourhood", choices=neighbourhood_choices(),
                                description="Distances to jobs are measured from its centre.")
    radius_km = IntegerField("Service radius (km)", validators=[InputRequired("Enter a radius in kilometres."),
                                                                NumberRange(1, 100, "Choose 1 to 100 km.")],
                             description="How far you are willing to travel to a job (1–100 km).")
    services = FieldList(FormField(ServiceRowForm), label="Services and hourly rates")
    availability = FieldList(FormField(DayForm), label="Weekly availability", min_entries=7, max_entries=7)
    blocked_dates = TextAreaField("Blocked dates", validators=[Length(max=4000)],
                                  description="Days you cannot work, as YYYY-MM-DD, separated by commas or lines.",
                                  render_kw={"rows": 3, "placeholder": "2026-07-04, 2026-12-25"})

    def validate_blocked_dates(self, field):
        self.parsed_blocked_dates = parse_dates(field.data or "")

    # ---- between the form and the profiles service ----

    def fill(self, profile, categories) -> None:
        """Pre-fill from a saved profile (or none) with one services row per active category."""
        rates = {s.category.slug: s.rate_cents for s in profile.services} if profile else {}
        self.services.entries = []
        for category in categories:
            rate = rates.get(category.slug)
            self.services.append_entry({"slug": category.slug, "offered": rate is not None,
                                        "rate": format_cents(rate) if rate is not None else ""})
        by_day: dict[int, list[tuple[str, str]]] = {d: [] for d in range(7)}
        for window in profile.windows if profile else ():
            by_day[window.weekday].append((_clock_text(window.start_minute), _clock_text(window.end_minute)))
        for weekday, day_form in enumerate(self.availability):
            ranges = by_day[weekday][:RANGES_PER_DAY]
            for (start, end), (start_text, end_text) in zip(day_form.form.pairs(), ranges, strict=False):
                start.data, end.data = start_text, end_text
        if profile:
            self.bio.data = profile.bio
            self.neighbourhood.data = profile.neighbourhood
            self.radius_km.data = profile.radius_km
            self.blocked_dates.data = ", ".join(d.day.isoformat() for d in profile.blocked_dates)

    def service_rates(self) -> list[tuple[str, int]]:
        return [(row.form.slug.data, row.form.rate_cents) for row in self.services if row.form.offered.data]

    def windows(self) -> list[tuple[int, str, str]]:
        return [(weekday, start, end) for weekday, day in enumerate(self.availability)
                for start, end in day.form.ranges()]

    def day_names(self):
        return zip(WEEKDAYS, self.availability, strict=True)


def parse_dates(text: str) -> list[date]:
    """Dates written as YYYY-MM-DD, separated by commas, semicolons, spaces or lines; duplicates dropped."""
    days, bad = [], []
    for token in filter(None, _DATE_SPLIT.split(text.strip())):
        try:
            days.append(date.fromisoformat(token))
        except ValueError:
            bad.append(token)
    if bad:
        raise ValidationError(f"Not a date in the form YYYY-MM-DD: {', '.join(bad[:5])}.")
    return sorted(set(days))


class OfferActionForm(FlaskForm):
    """Accept or decline an offer: only the CSRF token."""
