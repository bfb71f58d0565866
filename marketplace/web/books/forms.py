"""Forms of the treasurer's books: an expense, other income, a bank file, report date ranges."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.domain.books import EXPENSE_CATEGORIES, INCOME_KINDS, MEMO_MAX
from marketplace.domain.money import MoneyFormatError, parse_cents


def _amount(form, field) -> None:
    try:
        field.cents = parse_cents(field.data or "")
    except MoneyFormatError as exc:
        raise ValidationError(str(exc)) from exc


class _Recorded(FlaskForm):
    """A one-time request key travels with the form, so submitting it twice records one row."""

    request_key = HiddenField()
    occurred_on = DateField("Date", validators=[InputRequired(message="Give the date (YYYY-MM-DD).")],
                            description="The day the money left or reached the bank.")
    amount = StringField("Amount ($)", validators=[DataRequired(), Length(max=20), _amount],
                         description="A positive amount, e.g. 49.00.", render_kw={"inputmode": "decimal"})
    memo = StringField("Description", validators=[DataRequired(), Length(max=MEMO_MAX)])

    def ensure_request_key(self) -> None:
        if not self.request_key.data:
            self.request_key.data = secrets.token_urlsafe(18)


class ExpenseForm(_Recorded):
    category = SelectField("Category", choices=list(EXPENSE_CATEGORIES.items()))
    receipt = FileField("Receipt (optional)", description="A PDF, PNG or JPEG file of at most 5 MB.",
                        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"})
    submit = SubmitField("Record expense")


class IncomeForm(_Recorded):
    kind = SelectField("Kind of income", choices=list(INCOME_KINDS.items()),
                       description="Non-patronage income only: it goes to the collective, not to dividends.")
    submit = SubmitField("Record income")


class ReceiptForm(FlaskForm):
    receipt = FileField("Receipt file", validators=[FileRequired(message="Choose a file.")],
                        description="A PDF, PNG or JPEG file of at most 5 MB.",
                        render_kw={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"})
    submit = SubmitField("Upload receipt")


class ImportForm(FlaskForm):
    file = FileField("Bank CSV file", validators=[FileRequired(message="Choose a CSV file.")],
                     description="UTF-8 CSV, at most 1 MB and 5,000 rows.", render_kw={"accept": ".csv,text/csv"})
    submit = SubmitField("Check the file")


class ImportConfirmForm(FlaskForm):
    content = HiddenField(validators=[DataRequired()])
    filename = HiddenField(validators=[Length(max=255)])
    submit = SubmitField("Import these rows")


class RangeForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form: reading a report changes nothing

    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    as_of = DateField("As of", validators=[Optional()])


class EarningsForm(RangeForm):
    worker = SelectField("Worker", coerce=int, default=0, validators=[Optional()])
