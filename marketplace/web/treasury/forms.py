"""Treasurer forms: fiscal periods, allocation policy versions, the run buttons, exports and revolving.

Forms only parse and check shapes; the services apply the rules (DOMAIN.md) and raise per-field errors.
Percentages and weights stay exact decimal text; money amounts are parsed to cents by the view.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SearchField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from marketplace.domain.money import MoneyFormatError, parse_cents

DECIMAL = Regexp(r"^\s*\d+(\.\d+)?\s*$", message="Enter a number such as 15 or 12.5.")


def _money(form, field) -> None:
    try:
        parse_cents(field.data or "")
    except MoneyFormatError as exc:
        raise ValidationError("Enter an amount such as 25 or 25.00.") from exc


class PeriodForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=60)], description="For example FY 2026.")
    start = DateField("First day", validators=[InputRequired(message="Enter the first day of the period.")])
    end = DateField("Last day", validators=[InputRequired(message="Enter the last day of the period.")])
    submit = SubmitField("Create period")


class PolicyForm(FlaskForm):
    reserve_percent = StringField(
        "Reserve (%)", default="20", validators=[InputRequired(), DECIMAL],
        description="Share of the member surplus kept in the collective reserve.")
    hours_weight = StringField("Weight of hours worked", default="1", validators=[InputRequired(), DECIMAL])
    earnings_weight = StringField("Weight of earnings", default="1", validators=[InputRequired(), DECIMAL])
    cash_percent = StringField(
        "Paid in cash (%)", default="20", validators=[InputRequired(), DECIMAL],
        description="At least 20% for qualified notices of allocation; the rest is retained in capital accounts.")
    small_allocation_threshold = StringField(
        "Pay allocations below this wholly in cash ($)", default="0", validators=[InputRequired(), _money])
    revolving_years = IntegerField(
        "Revolve retained allocations after (years)", default=5,
        validators=[InputRequired(), NumberRange(min=0, max=30)])
    loss_reserve_percent = StringField(
        "Share of a loss borne by the collective reserve (%)", default="100", validators=[InputRequired(), DECIMAL],
        description="The rest is debited to members' capital accounts by patronage share.")
    accept_nonqualified = BooleanField(
        "I understand that with less than 20% in cash the notices will be nonqualified")
    submit = SubmitField("Save new policy version")

    def service_values(self) -> dict:
        """The checked input as ``periods.create_policy`` takes it: exact decimal text, cents, whole years."""
        return {
            "reserve_percent": self.reserve_percent.data.strip(), "hours_weight": self.hours_weight.data.strip(),
            "earnings_weight": self.earnings_weight.data.strip(), "cash_percent": self.cash_percent.data.strip(),
            "small_allocation_threshold_cents": parse_cents(self.small_allocation_threshold.data),
            "revolving_years": self.revolving_years.data,
            "loss_reserve_percent": self.loss_reserve_percent.data.strip(),
            "accept_nonqualified": bool(self.accept_nonqualified.data),
        }


class ConfirmForm(FlaskForm):
    """A single button (close, approve, run, approve policy): the CSRF token is the only field."""

    submit = SubmitField("Confirm")


class RevolveForm(FlaskForm):
    before_year = IntegerField(
        "Pay out retained allocations from periods ending before", validators=[InputRequired(),
                                                                                NumberRange(min=1990, max=2200)])
    submit = SubmitField("Revolve capital accounts")


class PatrYearForm(FlaskForm):
    class Meta:
        csrf = False

    year = IntegerField("Calendar year paid", validators=[InputRequired(), NumberRange(min=1990, max=2200)])


class MemberSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField("Search members", validators=[Optional(), Length(max=80)])
