"""Forms of the money pages; amounts are typed as dollars and read exactly into cents."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from marketplace.domain.money import MoneyFormatError, parse_cents
from marketplace.services.fees import MODE_LABELS


def cents_or_none(text: str | None) -> int | None:
    """An optional dollar amount as cents (None when blank)."""
    text = (text or "").strip()
    return parse_cents(text) if text else None


def _amount(form, field) -> None:
    try:
        cents_or_none(field.data)
    except MoneyFormatError as exc:
        raise ValidationError(str(exc)) from exc


class PayoutAccountForm(FlaskForm):
    holder_name = StringField("Account holder", validators=[DataRequired(), Length(max=120)])
    account_number = StringField("Account number or IBAN", validators=[DataRequired(), Length(max=40)],
                                 description="Only the last four characters are shown on the site.")
    submit = SubmitField("Save bank details")


class CardForm(FlaskForm):
    card_number = StringField("Card number", validators=[DataRequired(), Length(max=23)],
                              description="Test cards only: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is "
                                          "declined, 4000 0000 0000 9995 has insufficient funds.")
    submit = SubmitField("Save card")


class ConfirmForm(FlaskForm):
    """A button that only carries the CSRF token (remove card, create batch, mark paid)."""


class FeeRateForm(FlaskForm):
    percent = StringField("Fee percent", validators=[DataRequired(), Length(max=10)],
                          description="Percent of the labour price, e.g. 5 or 4.5.")
    effective_from = DateField("In force from", validators=[DataRequired()],
                               description="Today or later; gigs already booked keep their rate.")
    min_fee = StringField("Minimum fee ($)", validators=[Optional(), _amount])
    max_fee = StringField("Maximum fee ($)", validators=[Optional(), _amount])
    mode = SelectField("Who pays the fee", choices=list(MODE_LABELS.items()), default="deducted")
    note = TextAreaField("Note (e.g. the vote that decided it)", validators=[Optional(), Length(max=500)])
    submit = SubmitField("Add fee rate")
