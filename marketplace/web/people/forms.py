"""The filters of the worker directory (a GET form: no CSRF token, the query string is the state)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField
from wtforms.validators import Optional

from marketplace.domain.city import neighbourhood_choices

RATING_CHOICES = [("", "Any rating"), ("3", "3 stars and up"), ("4", "4 stars and up"), ("4.5", "4.5 stars and up")]


class WorkerSearchForm(FlaskForm):
    class Meta:
        csrf = False

    category = SelectField("Service", validators=[Optional()])
    neighbourhood = SelectField("Serves", choices=[("", "Anywhere"), *neighbourhood_choices()],
                                validators=[Optional()])
    min_rating = SelectField("Rating", choices=RATING_CHOICES, validators=[Optional()])
    date = DateField("Free on", validators=[Optional()])

    def filters(self) -> dict:
        """The filters as ``profiles.browse_workers`` takes them; empty means no filter."""
        return {
            "category": self.category.data or None,
            "neighbourhood": self.neighbourhood.data or None,
            "min_rating": float(self.min_rating.data) if self.min_rating.data else None,
            "available_on": self.date.data,
        }

    def query_args(self) -> dict:
        """The filters as query-string arguments, kept in every pagination link."""
        args = {"category": self.category.data, "neighbourhood": self.neighbourhood.data,
                "min_rating": self.min_rating.data, "date": self.date.data.isoformat() if self.date.data else ""}
        return {key: value for key, value in args.items() if value}
