"""Forms of the gig page: lifecycle actions, messages and reviews."""

from __future__ import annotations

import re
from fractions import Fraction

from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

_HOURS_MINUTES = re.compile(r"^(\d{1,2}):([0-5]\d)$")
MAX_GIG_MINUTES = 24 * 60


class ActionForm(FlaskForm):
    """An action that needs no input (start, confirm, accept, decline, no-show): only the CSRF token."""


class ReasonForm(FlaskForm):
    """An action with an explanation (dispute, withdraw, cancel, resolve)."""

    reason = TextAreaField("Reason (optional)", validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class DisputeForm(FlaskForm):
    reason = TextAreaField("What is wrong?", validators=[DataRequired("Say what is wrong with the gig."),
                                                          Length(max=1000)],
                           description="The worker and the co-op's admins read this.", render_kw={"rows": 3})


class ResolveForm(FlaskForm):
    reason = TextAreaField("How was it settled?", validators=[DataRequired("Write down how the dispute was settled."),
                                                              Length(max=1000)], render_kw={"rows": 2})


class CompleteForm(FlaskForm):
    hours = StringField("Hours worked", validators=[DataRequired("Enter the hours you worked."), Length(max=8)],
                        description="Decimal hours (2.5) or hours and minutes (2:30).",
                        render_kw={"inputmode": "decimal", "autocomplete": "off"})

    def validate_hours(self, field):
        self.minutes = parse_minutes(field.data)


def parse_minutes(text: str) -> int:
    """Hours as "2.5", "2,5" or "2:30" → whole minutes, more than 0 and at most 24 hours."""
    text = (text or "").strip().replace(",", ".")
    match = _HOURS_MINUTES.match(text)
    try:
        value = Fraction(int(match[1]) * 60 + int(match[2])) if match else Fraction(text) * 60
    except (ValueError, ZeroDivisionError) as exc:
        raise ValidationError("Enter hours as a number such as 2.5, or as 2:30.") from exc
    if value.denominator != 1:
        raise ValidationError("Round the hours to whole minutes (for example 2.25 or 2:15).")
    minutes = int(value)
    if not 0 < minutes <= MAX_GIG_MINUTES:
        raise ValidationError("Enter between 1 minute and 24 hours.")
    return minutes


class MessageForm(FlaskForm):
    body = TextAreaField("Message", validators=[DataRequired("Write a message first."), Length(max=4000)],
                         render_kw={"rows": 3})


class ReviewForm(FlaskForm):
    stars = RadioField("Rating", choices=[("5", "★★★★★ Excellent"), ("4", "★★★★ Good"), ("3", "★★★ Fair"),
                                          ("2", "★★ Poor"), ("1", "★ Bad")],
                       validators=[DataRequired("Choose from 1 to 5 stars.")])
    body = TextAreaField("Your review", validators=[Length(max=4000)], render_kw={"rows": 4},
                         description="What went well, what could be better.")
