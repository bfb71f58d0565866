"""Forms the board and the treasurer use on the member register."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from marketplace.domain.money import MoneyFormatError, parse_cents


class AdmitForm(FlaskForm):
    effective_on = DateField("Member from", validators=[Optional()], description="Today unless you enter a date.")
    share_plan = RadioField("The member share is paid", default="lump",
                            choices=[("lump", "At once"), ("instalments", "In instalments taken from weekly payouts")])
    submit = SubmitField("Admit as member")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Reason given to the applicant", validators=[Length(max=2000)])
    submit = SubmitField("Decline the application")


class SharePaymentForm(FlaskForm):
    amount = StringField("Amount received ($)", validators=[DataRequired("Enter the amount."), Length(max=12)],
                         render_kw={"inputmode": "decimal"})
    paid_on = DateField("Received on", validators=[InputRequired("Enter the date the money arrived.")])
    reference = StringField("Bank reference", validators=[DataRequired("Enter the bank's reference."), Length(max=60)],
                            description="From the bank statement; the same reference is never recorded twice.")
    submit = SubmitField("Record payment")

    def validate_amount(self, field):
        try:
            parse_cents(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc)) from exc

    def cents(self) -> int:
        return parse_cents(self.amount.data)


class DepartureForm(FlaskForm):
    kind = RadioField("What happened", default="leave",
                      choices=[("leave", "The member left"), ("expel", "The member was expelled")])
    effective_on = DateField("Effective on", validators=[InputRequired("Enter the date it takes effect.")])
    reason = TextAreaField("Reason", validators=[Length(max=2000)])
    submit = SubmitField("Record departure")
