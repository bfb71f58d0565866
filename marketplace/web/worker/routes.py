"""The worker area: my work (offers, upcoming gigs, week view, hours and earnings), my profile, open requests."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marketplace import page_cache
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db, login_manager
from marketplace.models import ServiceCategory
from marketplace.services import jobs, offers, profiles, worker_stats
from marketplace.web.forms import apply_errors
from marketplace.web.worker.forms import OfferActionForm, WorkerProfileForm

bp = Blueprint("worker", __name__, url_prefix="/work")

PROFILE_ALIASES = {"lat": "neighbourhood", "lng": "neighbourhood", "windows": "availability",
                   "category": "services", "categories": "services"}


@bp.before_request
def require_worker():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role("worker"):
        abort(403, "This part of the site is for workers.")
    return None


def active_categories() -> list[ServiceCategory]:
    return list(db.session.scalars(
        select(ServiceCategory).where(ServiceCategory.is_active.is_(True)).order_by(ServiceCategory.name)
    ))


@bp.route("/")
def home():
    week_offset = request.args.get("week", 0, type=int)
    week_offset = max(-52, min(52, week_offset))
    today = worker_stats.local_today()
    week_start = worker_stats.week_start_for(today, week_offset)
    return render_template(
        "worker/home.html",
        profile=profiles.get_profile(current_user.id),
        offers=offers.offers_for_worker(current_user.id),
        upcoming=worker_stats.upcoming_gigs(current_user.id),
        week=worker_stats.week_schedule(current_user.id, week_start, today),
        week_offset=week_offset,
        hours=profiles.hours_this_period(current_user.id),
        earnings=worker_stats.earnings_this_period(current_user.id),
    )


@bp.route("/profile", methods=["GET", "POST"])
def profile():
    categories = active_categories()
    saved = profiles.get_profile(current_user.id)
    form = WorkerProfileForm()
    if request.method == "GET":
        form.fill(saved, categories)
    elif form.validate_on_submit():
        try:
            profiles.save_profile(
                current_user.id, bio=form.bio.data or "", neighbourhood=form.neighbourhood.data, lat=None, lng=None,
                radius_km=form.radius_km.data, services=form.service_rates(), windows=form.windows(),
                blocked_dates=form.parsed_blocked_dates,
            )
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases=PROFILE_ALIASES)
        else:
            flash("Your profile is saved. New job requests are matched against it.", "success")
            return redirect(url_for("worker.profile"))
    return render_template("worker/profile.html", form=form, is_new=saved is None,
                           categories={c.slug: c for c in categories})


@bp.post("/offers/<int:job_id>/accept")
def accept(job_id: int):
    form = OfferActionForm()
    if not form.validate_on_submit():
        abort(400, "Your form expired. Reload the page and try again.")
    try:
        offers.accept_offer(job_id, current_user.id)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("worker.home"))
    flash("The gig is yours. The client has been told.", "success")
    return redirect(url_for("gigs.show", job_id=job_id))


@bp.post("/offers/<int:job_id>/decline")
def decline(job_id: int):
    form = OfferActionForm()
    if not form.validate_on_submit():
        abort(400, "Your form expired. Reload the page and try again.")
    try:
        offers.decline_offer(job_id, current_user.id)
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash("Offer declined. Declining never counts against you.", "info")
    return redirect(url_for("worker.home"))


@bp.route("/requests")
@page_cache.cacheable
def open_requests():
    page = max(1, request.args.get("page", 1, type=int))
    found = jobs.open_requests_for_worker(current_user.id, page)
    # Only a worker with a profile (services and an area) can have open requests; ask the database otherwise.
    has_profile = found.total > 0 or profiles.get_profile(current_user.id) is not None
    return render_template("worker/requests.html", requests=found, has_profile=has_profile)


@bp.app_template_global()
def worker_summary(user_id: int) -> dict:
    """Numbers for the worker's dashboard panel."""
    pending = offers.offers_for_worker(user_id)
    return {
        "profile": profiles.get_profile(user_id),
        "offers": pending,
        "upcoming": worker_stats.upcoming_gigs(user_id, limit=3),
        "hours": profiles.hours_this_period(user_id),
        "earnings": worker_stats.earnings_this_period(user_id),
    }
