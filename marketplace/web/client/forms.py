"""The job request form (post and edit) of the client area."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.domain.city import neighbourhood_choices
from marketplace.domain.money import MoneyFormatError, format_cents, parse_cents
from marketplace.web.gigs.display import decimal_hours, from_local, to_local

# Service field names that differ from the form's own.
# An invitation refused (``invite_worker_id``) has no visible field: its message is flashed above the form.
JOB_FIELD_ALIASES = {"starts_at": "date", "max_rate_cents": "max_rate", "lat": "neighbourhood",
                     "lng": "neighbourhood", "estimated_minutes": "hours"}


class JobForm(FlaskForm):
    invite = HiddenField()
    category = SelectField("What do you need?", validators=[DataRequired("Choose a service.")])
    title = StringField("Title", validators=[DataRequired("Give the job a short title."), Length(max=120)],
                        description="For example: Deep clean of a two-bedroom apartment.")
    description = TextAreaField("Details", validators=[Length(max=4000)],
                                description="What needs doing, anything the worker should bring or know.")
    neighbourhood = SelectField("Neighbourhood", choices=neighbourhood_choices(),
                                description="Workers see the neighbourhood when they are offered the job.")
    address = StringField("Street address", validators=[Optional(), Length(max=200)],
                          description="Optional. Only the worker who takes the job sees it.")
    date = DateField("Date", validators=[InputRequired("Choose a date.")])
    start_time = TimeField("Start time", validators=[InputRequired("Choose a start time.")])
    hours = StringField("Estimated hours", validators=[DataRequired("Enter how many hours you expect."),
                                                       Length(max=8)],
                        description="From 0.5 to 12 hours, in quarter hours (for example 2.5).",
                        render_kw={"inputmode": "decimal"})
    max_rate = StringField("Highest hourly rate ($)", validators=[Optional(), Length(max=12)],
                           description="Optional. Only workers charging this or less are matched.",
                           render_kw={"inputmode": "decimal"})

    def validate_max_rate(self, field):
        if (field.data or "").strip():
            try:
                parse_cents(field.data)
            except MoneyFormatError as exc:
                raise ValidationError(str(exc)) from exc

    def fill(self, job) -> None:
        """Pre-fill from a saved job, on the co-op's clock."""
        local = to_local(job.starts_at)
        self.category.data = job.category.slug
        self.title.data, self.description.data = job.title, job.description
        self.neighbourhood.data, self.address.data = job.neighbourhood, job.address
        self.date.data, self.start_time.data = local.date(), local.time().replace(second=0, microsecond=0)
        self.hours.data = decimal_hours(job.estimated_minutes)
        self.max_rate.data = format_cents(job.max_rate_cents) if job.max_rate_cents else ""

    def values(self) -> dict:
        """The fields as the jobs service takes them (``post_job`` and ``edit_job``)."""
        rate = (self.max_rate.data or "").strip()
        return {
            "category": self.category.data,
            "title": self.title.data.strip(),
            "description": (self.description.data or "").strip(),
            "neighbourhood": self.neighbourhood.data,
            "address": (self.address.data or "").strip(),
            "lat": None,
            "lng": None,
            "starts_at": from_local(self.date.data, self.start_time.data),
            "hours": self.hours.data.strip(),
            "max_rate_cents": parse_cents(rate) if rate else None,
        }
