"""The governance area: my membership, open votes and past decisions, tabling, voting, discussion."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from marketplace.domain import voting
from marketplace.errors import AppError, ValidationFailed
from marketplace.services import (
    governance,
    governance_ballots,
    governance_effects,
    governance_params,
    governance_views,
    membership,
)
from marketplace.web.charts import bar_chart
from marketplace.web.forms import apply_errors
from marketplace.web.governance.forms import (
    FIELD_ALIASES,
    FORMS,
    ActionForm,
    ApplyForm,
    CommentForm,
    LeaveForm,
    VoteForm,
)

bp = Blueprint("governance", __name__, url_prefix="/governance")
RECEIPTS = "ballot_receipts"  # secret-ballot receipt codes live only in the browser's signed session cookie


@bp.before_request
@login_required
def require_coop_person():
    if not current_user.has_role("worker", "member", "admin", "treasurer"):
        abort(403, "Governance is for the co-op's workers and members.")


@bp.route("/")
def index():
    return render_template("governance/index.html", board=governance_views.dashboard(current_user.id),
                           apply_form=ApplyForm(), leave_form=LeaveForm(), action_form=ActionForm(),
                           can_table=membership.in_good_standing(current_user.id))


@bp.post("/membership/apply")
def apply():
    if not current_user.has_role("worker"):
        abort(403, "Only workers can apply for membership.")
    form = ApplyForm()
    if form.validate_on_submit():
        try:
            membership.apply(current_user.id, form.note.data or "")
            flash("Your application is in. You will hear when it is decided.", "success")
        except AppError as exc:
            flash(exc.message, "error")
    return redirect(url_for("governance.index"))


@bp.post("/membership/withdraw")
def withdraw():
    if ActionForm().validate_on_submit():
        _flash_outcome(lambda: membership.withdraw_application(current_user.id), "Your application is withdrawn.")
    return redirect(url_for("governance.index"))


@bp.post("/membership/leave")
def leave():
    form = LeaveForm()
    if form.validate_on_submit():
        _flash_outcome(lambda: membership.depart(current_user.id, current_user.id, reason=form.reason.data or ""),
                       "You have left the co-op. Your capital account will be paid out under the bylaws.")
    return redirect(url_for("governance.index"))


def _flash_outcome(action, message: str) -> None:
    try:
        action()
        flash(message, "success")
    except AppError as exc:
        flash(exc.message, "error")


def _require_reader():
    if not governance.can_view(current_user):
        abort(403, "Only members of the co-op can read its proposals.")


@bp.route("/proposals")
def proposals():
    _require_reader()
    return render_template("governance/list.html", open=governance_views.open_proposals(current_user.id),
                           past=governance_views.past_decisions(current_user.id, 100))


@bp.route("/proposals/new")
def choose_kind():
    _require_reader()
    return render_template("governance/kinds.html", kinds=voting.KIND_LABELS,
                           can_table=membership.in_good_standing(current_user.id))


@bp.route("/proposals/new/<kind>", methods=["GET", "POST"])
def new(kind: str):
    if kind not in FORMS:
        abort(404)
    _require_reader()
    if request.method == "POST" and not membership.in_good_standing(current_user.id):
        abort(403, "Only members in good standing can table proposals.")
    form = FORMS[kind]()
    for name, pairs in governance_params.choices(kind).items():
        getattr(form, name).choices = pairs if name != "policy_id" or pairs else [("", "No draft version to vote on")]
    if not form.is_submitted():
        for name, value in governance_params.defaults(kind).items():
            getattr(form, name).data = value
    if form.validate_on_submit():
        try:
            proposal = governance.table_proposal(current_user.id, kind, form.title.data, form.body.data or "",
                                                 form.params())
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases=FIELD_ALIASES)
        except AppError as exc:
            flash(exc.message, "error")
        else:
            flash("Your proposal is open for voting. Members have been told.", "success")
            return redirect(url_for("governance.show", proposal_id=proposal.id))
    return render_template("governance/form.html", form=form, kind=kind, kind_label=voting.KIND_LABELS[kind])


@bp.route("/proposals/<int:proposal_id>")
def show(proposal_id: int):
    detail = governance_views.proposal_detail(proposal_id, current_user.id)
    vote_form = VoteForm()
    vote_form.choice.choices = [(o["value"], o["label"]) for o in detail["options"]]
    vote_form.choice.data = detail["me"]["choice"]
    chart = bar_chart([(o["label"], o["votes"]) for o in detail["options"]], "Votes per option") \
        if detail["counts_visible"] else None
    return render_template("governance/show.html", p=detail, vote_form=vote_form, comment_form=CommentForm(),
                           action_form=ActionForm(), chart=chart,
                           has_receipt=str(proposal_id) in session.get(RECEIPTS, {}))


@bp.post("/proposals/<int:proposal_id>/vote")
def vote(proposal_id: int):
    detail = governance_views.proposal_detail(proposal_id, current_user.id)
    if not detail["me"]["eligible"]:
        abort(403, "Only members in good standing when this vote opened may vote on it.")
    form = VoteForm()
    form.choice.choices = [(o["value"], o["label"]) for o in detail["options"]]
    if not form.validate_on_submit():
        flash("Choose an option, then cast your vote.", "error")
        return redirect(url_for("governance.show", proposal_id=proposal_id))
    receipts = dict(session.get(RECEIPTS, {}))
    token = (form.ballot_token.data or "").strip() or receipts.get(str(proposal_id))
    try:
        result = governance_ballots.cast_vote(proposal_id, current_user.id, form.choice.data, ballot_token=token)
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("governance.show", proposal_id=proposal_id))
    if result["ballot_token"] and not result["changed"]:
        receipts[str(proposal_id)] = result["ballot_token"]
        session[RECEIPTS] = receipts
        flash(f"Your secret vote is cast. Your receipt code is {result['ballot_token']} — keep it if you may "
              "want to change your vote from another browser. Nobody else can see how you voted.", "success")
    else:
        flash("Your vote is changed." if result["changed"] else "Your vote is cast.", "success")
    return redirect(url_for("governance.show", proposal_id=proposal_id))


@bp.post("/proposals/<int:proposal_id>/comments")
def comment(proposal_id: int):
    _require_reader()
    form = CommentForm()
    if form.validate_on_submit():
        _flash_outcome(lambda: governance.add_comment(proposal_id, current_user.id, form.body.data),
                       "Your comment is posted.")
    else:
        flash("Write something first.", "error")
    return redirect(url_for("governance.show", proposal_id=proposal_id) + "#discussion")


@bp.post("/proposals/<int:proposal_id>/retry")
def retry_effect(proposal_id: int):
    if not current_user.has_role(*membership.BOARD_ROLES):
        abort(403, "Only the board retries a decision's effect.")
    if ActionForm().validate_on_submit():
        _flash_outcome(lambda: governance_effects.retry_effect(proposal_id, current_user.id),
                       "The decision's effect was tried again.")
    return redirect(url_for("governance.show", proposal_id=proposal_id))
