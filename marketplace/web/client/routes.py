"""The client area: post a job, my jobs by state, a job with its ranked matches, edit, invite."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marketplace import limits
from marketplace.domain.gig_states import GigState
from marketplace.domain.paging import page_of_list
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db, login_manager
from marketplace.models import ServiceCategory, User
from marketplace.models.base import MAX_ID
from marketplace.services import jobs, matching, offers
from marketplace.web.client.forms import JOB_FIELD_ALIASES, JobForm
from marketplace.web.forms import apply_errors
from marketplace.web.gigs.forms import ActionForm
from marketplace.web.gigs.routes import ACTIONS, available_actions, build_forms

bp = Blueprint("client", __name__, url_prefix="/jobs")

OPEN_STATES = (GigState.REQUESTED.value, GigState.OFFERED.value)
# How a client's jobs are grouped on "My jobs", in page order; the last group is paginated.
GROUPS = (
    ("open", "Looking for a worker", OPEN_STATES),
    ("booked", "Booked", (GigState.ACCEPTED.value, GigState.IN_PROGRESS.value)),
    ("to_confirm", "Waiting for you", (GigState.COMPLETED.value, GigState.DISPUTED.value)),
    ("past", "Done and cancelled", (GigState.CONFIRMED.value, GigState.REVIEWED.value, GigState.CANCELLED.value,
                                    GigState.NO_SHOW.value)),
)
MATCHES_SHOWN = 10
PAST_PER_PAGE = 20


@bp.before_request
def require_client():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role("client", "admin"):
        abort(403, "This part of the site is for clients. Register as a client to post jobs.")
    return None


def category_choices() -> list[tuple[str, str]]:
    rows = db.session.execute(
        select(ServiceCategory.slug, ServiceCategory.name).where(ServiceCategory.is_active.is_(True))
        .order_by(ServiceCategory.name)
    ).all()
    return [("", "Choose a service…"), *((slug, name) for slug, name in rows)]


def group_jobs(all_jobs, page: int) -> list[tuple[str, str, object]]:
    """The client's jobs split into the page's groups; the past group as one ``Page``."""
    groups = []
    for key, title, states in GROUPS:
        members = [job for job in all_jobs if job.status in states]
        groups.append((key, title, page_of_list(members, page, PAST_PER_PAGE) if key == "past" else members))
    return groups


@bp.route("/")
def index():
    page = max(1, request.args.get("page", 1, type=int))
    return render_template("client/index.html", groups=group_jobs(jobs.jobs_for_client(current_user.id), page))


@bp.route("/new", methods=["GET", "POST"])
@limits.job_posting
def new():
    if not current_user.has_role("client"):
        abort(403, "Only clients post jobs; admins look at them.")
    form = JobForm()
    form.category.choices = category_choices()
    if request.method == "GET":
        form.invite.data = request.args.get("invite", "")
        form.category.data = request.args.get("category", "")
    if form.validate_on_submit():
        invite = _invite_id(form.invite.data)
        try:
            job = jobs.post_job(current_user.id, **form.values(), invite_worker_id=invite)
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases=JOB_FIELD_ALIASES)
        else:
            flash("Your job is posted. We have offered it to the best-matched workers." if invite is None
                  else "Your job is posted and the worker you chose has been invited.", "success")
            return redirect(url_for("client.show", job_id=job.id))
    return render_template("client/form.html", form=form, job=None, invitee=_invitee(form.invite.data))


def _invite_id(raw: str | None) -> int | None:
    """The worker id in the form's hidden ``invite`` field, when it is a whole number (``isdigit`` would also
    pass "²", which ``int`` refuses)."""
    text = (raw or "").strip()
    return int(text) if text.isdecimal() else None


def _invitee(raw: str | None) -> User | None:
    worker_id = _invite_id(raw)
    return db.session.get(User, worker_id) if worker_id is not None and 0 < worker_id <= MAX_ID else None


def _own_job(job_id: int):
    """The job if the signed-in client posted it (admins may look too); anyone else gets the 404 page."""
    job = jobs.job_for_viewer(job_id, current_user)
    if job.client_id != current_user.id and not current_user.has_role("admin"):
        abort(404)
    return job


@bp.route("/<int:job_id>")
def show(job_id: int):
    job = _own_job(job_id)
    matches, names = [], {}
    if job.status in OPEN_STATES:
        matches = matching.find_matches(job, limit=MATCHES_SHOWN)
        ids = [m.worker_id for m in matches]
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) if ids else {}
    offered = offers.offers_for_job(job.id)
    return render_template(
        "client/show.html", job=job, matches=matches, names=names, offered=offered,
        offered_by={offer.worker_id: offer for offer in offered},
        can_edit=job.status in OPEN_STATES and job.client_id == current_user.id,
        show_address=True, action_forms=build_forms(available_actions(job, current_user)), actions=ACTIONS,
    )


@bp.route("/<int:job_id>/edit", methods=["GET", "POST"])
def edit(job_id: int):
    job = _own_job(job_id)
    if job.client_id != current_user.id:
        abort(403, "Only the job's client can change it.")
    if job.status not in OPEN_STATES:
        flash("A job can only be changed until a worker accepts it.", "error")
        return redirect(url_for("client.show", job_id=job.id))
    form = JobForm()
    form.category.choices = category_choices()
    if request.method == "GET":
        form.fill(job)
    if form.validate_on_submit():
        try:
            jobs.edit_job(job.id, current_user.id, **form.values())
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases=JOB_FIELD_ALIASES)
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("client.show", job_id=job.id))
        else:
            flash("Your changes are saved.", "success")
            return redirect(url_for("client.show", job_id=job.id))
    return render_template("client/form.html", form=form, job=job, invitee=None)


@bp.post("/<int:job_id>/invite/<int:worker_id>")
def invite(job_id: int, worker_id: int):
    job = _own_job(job_id)
    if not ActionForm().validate_on_submit():
        abort(400, "Your form expired. Reload the page and try again.")
    try:
        offers.invite_worker(job.id, current_user.id, worker_id)
    except (Conflict, ValidationFailed) as exc:
        flash(exc.message, "error")
    else:
        flash("Invitation sent. The worker has been told and can accept it from their offers.", "success")
    return redirect(url_for("client.show", job_id=job.id))


@bp.app_template_global()
def client_summary(user_id: int) -> dict:
    """Counts per group and the next booked jobs, for the client's dashboard panel."""
    mine = jobs.jobs_for_client(user_id)
    grouped = {key: [job for job in mine if job.status in states] for key, _, states in GROUPS}
    return {"counts": {key: len(items) for key, items in grouped.items()},
            "attention": (grouped["to_confirm"] + grouped["booked"] + grouped["open"])[:4]}
