"""Forms of the governance area: tabling each kind of proposal, voting, discussing, applying, leaving."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from marketplace.domain.money import MoneyFormatError, parse_cents
from marketplace.domain.pricing import FEE_MODES

FEE_MODE_LABELS = {"deducted": "Deducted from the worker's price", "on_top": "Added on top of the client's bill"}


class ProposalForm(FlaskForm):
    """Title and text, common to every kind; ``params()`` gives the kind's parameters for the service."""

    title = StringField("Title", validators=[DataRequired("Give the proposal a title."), Length(max=160)])
    body = TextAreaField("Why", validators=[Length(max=20000)],
                         description="Explain the proposal; members discuss it on its page while the vote is open.")

    def params(self) -> dict:
        return {}


def _cents_or_none(text: str | None):
    text = (text or "").strip()
    return parse_cents(text) if text else None


class FeeChangeForm(ProposalForm):
    percent = StringField("New fee (%)", validators=[DataRequired("Enter the fee in percent."), Length(max=8)],
                          render_kw={"inputmode": "decimal"}, description="From 0 to 100, at most two decimals.")
    effective_from = DateField("Starts on", validators=[InputRequired("Choose the day the fee starts.")],
                               description="Today or later. If the vote closes after this day, the fee starts on "
                                           "the day it passes. Gigs booked earlier keep their fee.")
    mode = SelectField("How the fee is charged", choices=[(m, FEE_MODE_LABELS[m]) for m in FEE_MODES])
    min_fee = StringField("Minimum fee per gig ($)", validators=[Optional(), Length(max=12)],
                          render_kw={"inputmode": "decimal"}, description="Optional.")
    max_fee = StringField("Maximum fee per gig ($)", validators=[Optional(), Length(max=12)],
                          render_kw={"inputmode": "decimal"}, description="Optional.")

    def _money(self, field):
        try:
            _cents_or_none(field.data)
        except MoneyFormatError as exc:
            raise ValidationError(str(exc)) from exc

    validate_min_fee = validate_max_fee = _money

    def params(self) -> dict:
        return {"percent": self.percent.data, "effective_from": self.effective_from.data, "mode": self.mode.data,
                "min_cents": _cents_or_none(self.min_fee.data), "max_cents": _cents_or_none(self.max_fee.data)}


class PolicyForm(ProposalForm):
    policy_id = SelectField("Policy version to approve", validators=[DataRequired("Choose a draft version.")],
                            description="The treasurer drafts policy versions; the members approve one.")

    def params(self) -> dict:
        return {"policy_id": self.policy_id.data}


class DividendRunForm(ProposalForm):
    period_id = SelectField("Fiscal period", validators=[DataRequired("Choose the period.")],
                            description="The period must be closed, with an approved policy, when the vote passes.")

    def params(self) -> dict:
        return {"period_id": self.period_id.data}


class AdmissionForm(ProposalForm):
    member_id = SelectField("Applicant", validators=[DataRequired("Choose the applicant.")])

    def params(self) -> dict:
        return {"member_id": self.member_id.data}


class ElectionForm(ProposalForm):
    office = SelectField("Office")
    seats = IntegerField("Seats", default=1, validators=[InputRequired("Enter how many are elected."),
                                                          NumberRange(1, 9, "From 1 to 9 seats.")])
    candidate_ids = SelectMultipleField("Candidates", validators=[DataRequired("Choose the candidates.")],
                                        description="Members in good standing. Hold Ctrl (or ⌘) to choose several.")

    def params(self) -> dict:
        return {"office": self.office.data, "seats": self.seats.data, "candidate_ids": self.candidate_ids.data}


FORMS = {"general": ProposalForm, "fee_change": FeeChangeForm, "policy": PolicyForm,
         "dividend_run": DividendRunForm, "admission": AdmissionForm, "election": ElectionForm}
FIELD_ALIASES = {"min_cents": "min_fee", "max_cents": "max_fee"}


class VoteForm(FlaskForm):
    choice = RadioField("Your vote", validators=[InputRequired("Choose an option.")])
    ballot_token = StringField("Receipt code", validators=[Optional(), Length(max=64)],
                               description="Only needed to change a secret vote from another browser.")
    submit = SubmitField("Cast my vote")


class CommentForm(FlaskForm):
    body = TextAreaField("Add to the discussion", validators=[DataRequired("Write something first."),
                                                              Length(max=5000)])
    submit = SubmitField("Post comment")


class ApplyForm(FlaskForm):
    note = TextAreaField("A note for the members (optional)", validators=[Length(max=2000)])
    submit = SubmitField("Apply for membership")


class LeaveForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", validators=[Length(max=2000)])
    submit = SubmitField("Leave the co-op")


class ActionForm(FlaskForm):
    """A bare POST button (withdraw an application, retry an effect)."""
