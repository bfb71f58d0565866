"""Treasurer pages for patronage dividends (issue 5): periods, policies, preview, approve, run, exports.

Treasurers do the work; admins (the board) read everything here and approve policies and runs. The
services check the roles again, so a forged form post is refused there too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from fractions import Fraction

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.domain.money import format_cents
from marketplace.domain.patronage import is_qualified_cash_percent
from marketplace.domain.simulation import format_share
from marketplace.errors import AppError, ValidationFailed
from marketplace.extensions import login_manager
from marketplace.services import capital, dividends, periods
from marketplace.services.worker_stats import local_today
from marketplace.web.forms import apply_errors
from marketplace.web.treasury import exports, present
from marketplace.web.treasury.forms import (
    ConfirmForm,
    MemberSearchForm,
    PatrYearForm,
    PeriodForm,
    PolicyForm,
    RevolveForm,
)

bp = Blueprint("treasury", __name__, url_prefix="/treasury/dividends")

POLICY_ALIASES = {"small_allocation_threshold_cents": "small_allocation_threshold"}
FINAL_STATES = {"completed": "done", "failed": "failed"}  # app.js reloads the page on "done" or "failed"


# Who may press each button (every POST here); the services check the same roles again.
BOARD_ACTIONS = frozenset({"treasury.policy_approve", "treasury.run_approve"})


@bp.before_request
def require_treasury_reader():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role("treasurer", "admin"):
        abort(403, "The dividend pages are for the treasurer and the board.")
    if request.method == "POST":
        if request.endpoint in BOARD_ACTIONS and not current_user.has_role("admin"):
            abort(403, "Only the board (an admin) approves policies and dividend runs.")
        if request.endpoint not in BOARD_ACTIONS and not current_user.has_role("treasurer"):
            abort(403, "Only the treasurer opens and closes periods, sets policies, runs dividends and revolves "
                       "capital accounts; the board reads and approves.")
    return None


def _act(action: Callable[[], object], success: str, target: str):
    """Run one service action from a button; its refusal (Conflict, Forbidden…) is shown as a message."""
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(target)
    try:
        action()
    except AppError as exc:
        flash(exc.message, "error")
    else:
        flash(success, "success")
    return redirect(target)


@bp.route("/")
def periods_list():
    rows = [(period, periods.current_policy(period.id), dividends.run_for_period(period.id))
            for period in periods.list_periods()]
    return render_template("treasury/periods.html", rows=rows, patr_form=PatrYearForm(year=local_today().year))


@bp.route("/periods/new", methods=["GET", "POST"])
def period_new():
    form = PeriodForm()
    if form.validate_on_submit():
        try:
            period = periods.create_period(form.name.data, form.start.data, form.end.data, current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash(f"Period {period.name} is open.", "success")
            return redirect(url_for("treasury.period", period_id=period.id))
    return render_template("treasury/period_new.html", form=form)


@bp.route("/periods/<int:period_id>")
def period(period_id: int):
    return render_template(
        "treasury/period.html", period=periods.get_period(period_id), history=periods.policy_history(period_id),
        policy=periods.current_policy(period_id), run=dividends.run_for_period(period_id),
        today=local_today(), form=ConfirmForm())


@bp.route("/periods/<int:period_id>/close", methods=["POST"])
def period_close(period_id: int):
    return _act(lambda: periods.close_period(period_id, current_user.id), "The period is closed.",
                url_for("treasury.period", period_id=period_id))


@bp.route("/periods/<int:period_id>/policy", methods=["GET", "POST"])
def policy_new(period_id: int):
    period = periods.get_period(period_id)
    latest = next(iter(periods.policy_history(period_id)), None)
    form = PolicyForm(data=_policy_defaults(latest) if latest and request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            _policy, warning = periods.create_policy(period_id, current_user.id, **form.service_values())
        except ValidationFailed as exc:
            apply_errors(form, exc, POLICY_ALIASES)
        except AppError as exc:
            flash(exc.message, "error")
        else:
            if warning:
                flash(warning, "warning")
            flash("The new policy version is saved; it applies once an admin approves it.", "success")
            return redirect(url_for("treasury.period", period_id=period_id))
    return render_template("treasury/policy_form.html", period=period, form=form, latest=latest)


def _policy_defaults(policy) -> dict:
    return {
        "reserve_percent": policy.reserve_percent, "hours_weight": policy.hours_weight,
        "earnings_weight": policy.earnings_weight, "cash_percent": policy.cash_percent,
        "small_allocation_threshold": format_cents(policy.small_allocation_threshold_cents),
        "revolving_years": policy.revolving_years, "loss_reserve_percent": policy.loss_reserve_percent,
    }


@bp.route("/policies/<int:policy_id>/approve", methods=["POST"])
def policy_approve(policy_id: int):
    period_id = request.form.get("period_id", type=int)
    target = url_for("treasury.period", period_id=period_id) if period_id else url_for("treasury.periods_list")
    return _act(lambda: periods.approve_policy(policy_id, current_user.id), "The policy version is approved.", target)


@bp.route("/periods/<int:period_id>/preview")
def preview(period_id: int):
    data = dividends.preview(period_id)
    search = MemberSearchForm(request.args)
    q = search.q.data if search.validate() else None
    members = [m for m in data["members"] if present.matches(m["name"], q)]
    return render_template(
        "treasury/preview.html", data=data, search=search, q=q,
        members=present.page_of_list(members, request.args.get("page", 1, type=int)),
        donut=present.surplus_chart(data["figures"]),
        columns=present.distribution_chart([m["allocation_cents"] for m in data["members"]]),
        run=dividends.run_for_period(period_id), form=ConfirmForm())


@bp.route("/periods/<int:period_id>/approve", methods=["POST"])
def run_approve(period_id: int):
    return _act(lambda: dividends.approve_run(period_id, current_user.id),
                "The dividend run is approved; the treasurer can now run it.",
                url_for("treasury.preview", period_id=period_id))


@bp.route("/periods/<int:period_id>/run", methods=["POST"])
def run_start(period_id: int):
    if not ConfirmForm().validate_on_submit():
        flash("The form expired; please try again.", "error")
        return redirect(url_for("treasury.preview", period_id=period_id))
    try:
        run = dividends.start_run(period_id, current_user.id)
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("treasury.preview", period_id=period_id))
    flash("The dividend run has started.", "success")
    return redirect(url_for("treasury.run", run_id=run.id))


@bp.route("/runs/<int:run_id>")
def run(run_id: int):
    run = dividends.get_run(run_id)
    search = MemberSearchForm(request.args)
    q = search.q.data if search.validate() else None
    completed = run.status == "completed"
    return render_template(
        "treasury/run.html", run=run, progress=dividends.progress(run_id), search=search, q=q,
        allocations=present.page_of_select(dividends.run_allocations(run_id, q), request.args.get("page", 1, type=int))
        if completed else None,
        columns=present.distribution_chart(present.run_amounts(run_id)) if completed else None,
        donut=present.surplus_chart(present.run_figures(run)) if completed else None, form=ConfirmForm())


@bp.route("/runs/<int:run_id>/progress.json")
def run_progress(run_id: int):
    data = dividends.progress(run_id)
    data["status"] = data["state"]
    data["state"] = FINAL_STATES.get(data["state"], data["state"])
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/runs/<int:run_id>/allocations.csv")
def run_csv(run_id: int):
    run = dividends.get_run(run_id)
    if run.status != "completed":
        abort(409, "The allocations can be downloaded once the run has completed.")
    body = exports.allocations_csv(present.allocation_csv_rows(run_id))
    filename = f"allocations-{re.sub(r'[^A-Za-z0-9_-]+', '-', run.period.name).strip('-') or run.id}.csv"
    return Response(body, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/1099-patr")
def patr():
    form = PatrYearForm(request.args)
    records = exports.patr_records(present.patr_payments(form.year.data), form.year.data) if (
        "year" in request.args and form.validate()) else None
    if records is not None and request.args.get("format") == "csv":
        return Response(exports.patr_csv(records), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="1099-patr-{form.year.data}.csv"'})
    return render_template("treasury/patr.html", form=form, records=records, threshold=exports.PATR_THRESHOLD_CENTS)


@bp.route("/revolve", methods=["GET", "POST"])
def revolve():
    form = RevolveForm(before_year=capital.default_revolve_year(local_today()))
    if form.validate_on_submit():
        try:
            capital.request_revolve(form.before_year.data, current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except AppError as exc:
            flash(exc.message, "error")
        else:
            flash(f"Revolving allocations from periods ending before {form.before_year.data} has started; "
                  "the payments appear in the members' capital accounts when it finishes.", "success")
            return redirect(url_for("treasury.periods_list"))
    return render_template("treasury/revolve.html", form=form)


@bp.app_template_filter("share6")
def share6(value) -> str:
    """A patronage share (Fraction, "n/d" text or number) as six decimals, e.g. 0.437500."""
    return format_share(Fraction(value)) if value not in (None, "") else "—"


@bp.app_template_filter("hours_from_minutes")
def hours_from_minutes(minutes) -> str:
    """Minutes of work as decimal hours with two decimals (DOMAIN.md §2 measures hours)."""
    return exports.hours_text(minutes or 0)


@bp.app_template_test("qualified_cash")
def qualified_cash(cash_percent) -> bool:
    """Whether a policy's cash percentage gives qualified notices (at least 20%, DOMAIN.md §4)."""
    return is_qualified_cash_percent(Fraction(cash_percent))
