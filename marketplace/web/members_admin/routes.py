"""The member register (board and treasurer): search, CSV export, one member's record, admissions, share
payments and departures."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.domain import voting
from marketplace.errors import AppError, ValidationFailed
from marketplace.services import fees, member_register, member_shares, membership
from marketplace.web.forms import apply_errors
from marketplace.web.members_admin.forms import AdmitForm, DeclineForm, DepartureForm, SharePaymentForm

bp = Blueprint("members_admin", __name__, url_prefix="/board/members")


# Admissions and departures are the board's; the treasurer keeps the register and records share payments.
BOARD_ACTIONS = frozenset({"members_admin.admit", "members_admin.decline", "members_admin.departure"})


@bp.before_request
@login_required
def require_officer():
    if not current_user.has_role(*membership.REGISTER_ROLES):
        abort(403, "The member register is kept by the board and the treasurer.")
    if request.endpoint in BOARD_ACTIONS and not current_user.has_role(*membership.BOARD_ROLES):
        abort(403, "Only the board admits members, declines applications and records departures.")


@bp.route("/")
def register():
    status = request.args.get("status") or None
    search = (request.args.get("q") or "").strip()
    rows = member_register.register(search, status, actor_id=current_user.id)
    return render_template("membership/register.html", rows=rows, status=status, q=search,
                           statuses=voting.MEMBERSHIP_STATUSES)


@bp.route("/register.csv")
def register_csv():
    body = member_register.register_csv(current_user.id)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=member-register-{fees.local_date()}.csv"})


def _page(user_id: int, **forms):
    defaults = {"admit_form": AdmitForm(), "decline_form": DeclineForm(), "payment_form": SharePaymentForm(),
                "departure_form": DepartureForm()}
    defaults.update(forms)
    if request.method == "GET":
        defaults["payment_form"].paid_on.data = defaults["departure_form"].effective_on.data = fees.local_date()
    return render_template("membership/member.html", m=member_register.member_detail(user_id, current_user.id),
                           is_board=current_user.has_role(*membership.BOARD_ROLES), **defaults)


@bp.route("/<int:user_id>")
def member(user_id: int):
    return _page(user_id)


def _act(user_id: int, form, action, message: str, form_name: str, aliases=None):
    if form.validate_on_submit():
        try:
            action(form)
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases)
        except AppError as exc:
            flash(exc.message, "error")
        else:
            flash(message, "success")
            return redirect(url_for("members_admin.member", user_id=user_id))
    return _page(user_id, **{form_name: form}), 422


@bp.post("/<int:user_id>/admit")
def admit(user_id: int):
    return _act(user_id, AdmitForm(), lambda f: membership.admit(
        user_id, current_user.id, effective_on=f.effective_on.data, share_plan=f.share_plan.data),
        "Admitted. The member role is granted and the share is due.", "admit_form")


@bp.post("/<int:user_id>/decline")
def decline(user_id: int):
    return _act(user_id, DeclineForm(), lambda f: membership.decline(user_id, current_user.id, f.reason.data or ""),
                "The application is declined.", "decline_form")


@bp.post("/<int:user_id>/payments")
def payment(user_id: int):
    return _act(user_id, SharePaymentForm(), lambda f: member_shares.record_share_payment(
        user_id, f.cents(), f.paid_on.data, current_user.id, f.reference.data),
        "Share payment recorded and posted to the ledger.",
        "payment_form", {"amount_cents": "amount"})


@bp.post("/<int:user_id>/departure")
def departure(user_id: int):
    return _act(user_id, DepartureForm(), lambda f: membership.depart(
        user_id, current_user.id, expel=f.kind.data == "expel", effective_on=f.effective_on.data,
        reason=f.reason.data or ""), "Departure recorded; the capital account is now payable.", "departure_form")
