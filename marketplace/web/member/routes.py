"""The member area (/member), notices of allocation (/notices/<id>) and the open books (/books/open).

Every record is checked against the viewer (``figures.may_see_member``): a member reads their own
notices and capital account; other members' only where the co-op's open-books setting allows.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_login import current_user, login_required

from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.models import User
from marketplace.services import capital, dividends, periods, reports
from marketplace.services.worker_stats import local_today
from marketplace.web.member import figures
from marketplace.web.treasury import present
from marketplace.web.treasury.forms import MemberSearchForm
from marketplace.web.treasury.notice_pdf import render_notice_pdf

bp = Blueprint("member", __name__)


def _member_or_404(member_id: int) -> User:
    member = db.session.get(User, member_id)
    if member is None:
        raise NotFound(f"Member {member_id} does not exist.")
    return member


def _require_sight_of(member_id: int) -> None:
    if not figures.may_see_member(current_user, member_id):
        abort(403, "This member's treasury records are private. The co-op's open-books setting keeps "
                   "individual amounts between each member and the treasurer.")


@bp.route("/member")
@login_required
def home():
    if not current_user.has_role("member"):
        abort(403, "The member area is for worker-owners. Probationary workers can apply for membership.")
    return render_template(
        "member/home.html", figures=figures.member_figures(current_user.id, local_today()),
        allocations=dividends.member_allocations(current_user.id), balance=capital.ica_balance(current_user.id))


@bp.route("/member/capital")
@login_required
def my_capital():
    return member_capital(current_user.id)


@bp.route("/members/<int:member_id>/capital")
@login_required
def member_capital(member_id: int):
    _require_sight_of(member_id)
    member = _member_or_404(member_id)
    return render_template("member/capital.html", member=member, statement=capital.capital_statement(member_id),
                           allocations=dividends.member_allocations(member_id))


def _visible_notice(notice_id: int) -> dict:
    notice, allocation, member, period = present.notice_record(notice_id)
    _require_sight_of(member.id)
    return present.notice_dict(notice, allocation, member, period, current_app.config["SITE_NAME"])


@bp.route("/notices/<int:notice_id>")
@login_required
def notice(notice_id: int):
    return render_template("member/notice.html", notice=_visible_notice(notice_id))


@bp.route("/notices/<int:notice_id>.pdf")
@login_required
def notice_pdf(notice_id: int):
    data = _visible_notice(notice_id)
    return Response(render_notice_pdf(data), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="notice-{data["notice_number"]}.pdf"',
        "Cache-Control": "private, no-store"})


def _books_period(period_id: int | None):
    """The chosen period, else the latest one whose dividend run has completed, else the latest period."""
    if period_id:
        return periods.get_period(period_id)
    every = periods.list_periods()
    for period in every:
        run = dividends.run_for_period(period.id)
        if run is not None and run.status == "completed":
            return period
    return every[0] if every else None


@bp.route("/books/open")
@login_required
def open_books():
    if not figures.may_read_books(current_user):
        abort(403, "The open books are for members of the co-op.")
    period = _books_period(request.args.get("period", type=int))
    run = dividends.run_for_period(period.id) if period else None
    completed = run is not None and run.status == "completed"
    individual = figures.open_books_individual() or current_user.has_role(*figures.STAFF_ROLES)
    search = MemberSearchForm(request.args)
    q = search.q.data if search.validate() else None
    return render_template(
        "member/open_books.html", period=period, periods=periods.list_periods(), run=run if completed else None,
        statement=reports.income_statement(period.start_date, period.end_date) if period else None,
        donut=present.surplus_chart(present.run_figures(run)) if completed else None,
        columns=present.distribution_chart(present.run_amounts(run.id)) if completed else None,
        individual=individual, search=search, q=q,
        allocations=present.page_of_select(dividends.run_allocations(run.id, q), request.args.get("page", 1, type=int))
        if completed and individual else None)
