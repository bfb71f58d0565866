"""The gig page shared by the client, the worker and admins: details, timeline, actions, messages, reviews."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.domain.gig_states import Actor, GigAction, GigState, allowed_actions
from marketplace.errors import Conflict, ValidationFailed
from marketplace.services import gigs, jobs, messages, offers, reviews, settings
from marketplace.web.forms import apply_errors
from marketplace.web.gigs.display import register_filters
from marketplace.web.gigs.forms import (
    ActionForm,
    CompleteForm,
    DisputeForm,
    MessageForm,
    ReasonForm,
    ResolveForm,
    ReviewForm,
)
from marketplace.web.navigation import safe_next

bp = Blueprint("gigs", __name__, url_prefix="/gigs")
register_filters(bp)

REVIEWABLE_STATES = (GigState.CONFIRMED.value, GigState.REVIEWED.value)


@dataclass(frozen=True)
class ActionSpec:
    label: str
    form: type
    style: str = "btn-primary"
    confirm: str = ""
    hint: str = ""


ACTIONS: dict[GigAction, ActionSpec] = {
    GigAction.ACCEPT: ActionSpec("Accept this gig", ActionForm, hint="The first worker to accept gets the gig."),
    GigAction.START: ActionSpec("Start the gig", ActionForm, hint="Press when you begin work."),
    GigAction.COMPLETE: ActionSpec("Mark as completed", CompleteForm, hint="Record the hours you actually worked."),
    GigAction.CONFIRM: ActionSpec("Confirm the hours", ActionForm,
                                  hint="Confirm that the work is done and the hours are right."),
    GigAction.DISPUTE: ActionSpec("Dispute", DisputeForm, "btn-danger",
                                  hint="An admin of the co-op will look at the gig with both of you."),
    GigAction.RESOLVE: ActionSpec("Resolve the dispute", ResolveForm, hint="Confirms the gig with your note."),
    GigAction.WITHDRAW: ActionSpec("Withdraw from the gig", ReasonForm, "btn-danger", "Withdraw from this gig?",
                                   "The job goes back to other workers. Withdrawing carries no penalty."),
    GigAction.CANCEL: ActionSpec("Cancel the job", ReasonForm, "btn-danger", "Cancel this job?",
                                 "Cancelling close to the start may be charged under the cancellation policy."),
    GigAction.NO_SHOW: ActionSpec("Report a no-show", ActionForm, "btn-danger",
                                  "Report that the worker did not come?", "Use only if the worker did not turn up."),
}

PERFORM = {
    GigAction.ACCEPT: lambda job, uid, form: offers.accept_offer(job.id, uid),
    GigAction.START: lambda job, uid, form: gigs.start_gig(job.id, uid),
    GigAction.COMPLETE: lambda job, uid, form: gigs.complete_gig(job.id, uid, form.minutes),
    GigAction.CONFIRM: lambda job, uid, form: gigs.confirm_gig(job.id, uid),
    GigAction.DISPUTE: lambda job, uid, form: gigs.dispute_gig(job.id, uid, form.reason.data.strip()),
    GigAction.RESOLVE: lambda job, uid, form: gigs.resolve_dispute(job.id, uid, (form.reason.data or "").strip()),
    GigAction.WITHDRAW: lambda job, uid, form: gigs.withdraw_from_gig(job.id, uid, (form.reason.data or "").strip()),
    GigAction.CANCEL: lambda job, uid, form: jobs.cancel_job(job.id, uid, (form.reason.data or "").strip()),
    GigAction.NO_SHOW: lambda job, uid, form: gigs.mark_no_show(job.id, uid),
}

DONE_MESSAGES = {
    GigAction.ACCEPT: "The gig is yours. The client has been told.",
    GigAction.START: "Gig started. Mark it completed with your hours when you finish.",
    GigAction.COMPLETE: "Gig completed. The client has been asked to confirm the hours.",
    GigAction.CONFIRM: "Thank you: the gig is confirmed. You can now review each other.",
    GigAction.DISPUTE: "Dispute opened. An admin will be in touch.",
    GigAction.RESOLVE: "Dispute resolved; the gig is confirmed.",
    GigAction.WITHDRAW: "You have withdrawn. The job is offered to other workers.",
    GigAction.CANCEL: "The job is cancelled.",
    GigAction.NO_SHOW: "No-show recorded.",
}


def viewer_actor(job, user) -> Actor | None:
    """The viewer's part in the gig: its client, its assigned worker, or an admin; None for an offered worker."""
    if user.id == job.client_id:
        return Actor.CLIENT
    if job.worker_id is not None and user.id == job.worker_id:
        return Actor.WORKER
    if user.has_role("admin"):
        return Actor.ADMIN
    return None


def pending_offer(job, user):
    """The viewer's own open offer for this job, if they hold one."""
    return offers.pending_offer(job.id, user.id)


def available_actions(job, user) -> list[GigAction]:
    """The buttons this viewer gets: the state machine's actions for their role that the page can perform."""
    actor = viewer_actor(job, user)
    if actor is None:
        return [GigAction.ACCEPT] if job.status == GigState.OFFERED.value and pending_offer(job, user) else []
    return [action for action in allowed_actions(job.state, actor) if action in PERFORM]


def build_forms(actions, failed: tuple[GigAction, object] | None = None) -> list[tuple[GigAction, object]]:
    """One form per action, the main ones before the drastic ones; ``failed`` keeps its input and errors."""
    forms = []
    for action in sorted(actions, key=lambda a: ACTIONS[a].style == "btn-danger"):
        if failed and failed[0] == action:
            forms.append(failed)
        else:
            forms.append((action, ACTIONS[action].form(prefix=action.value)))
    return forms


def render_gig(job, *, failed=None, message_form=None, review_form=None, status: int = 200):
    actor = viewer_actor(job, current_user)
    in_thread = actor in (Actor.CLIENT, Actor.WORKER, Actor.ADMIN)
    can_review = (actor in (Actor.CLIENT, Actor.WORKER) and job.status in REVIEWABLE_STATES
                  and not reviews.has_reviewed(job.id, current_user.id))
    return render_template(
        "gigs/show.html", job=job, actor=actor,
        show_address=jobs.can_see_address(job, current_user),
        action_forms=build_forms(available_actions(job, current_user), failed), actions=ACTIONS,
        offer=pending_offer(job, current_user) if actor is None else None,
        timeline=gigs.timeline(job.id),
        thread=messages.thread(job.id, current_user.id) if in_thread else None,
        message_form=message_form or MessageForm(prefix="message"),
        reviews=reviews.reviews_for_viewer(job.id, current_user.id), can_review=can_review,
        review_form=review_form or ReviewForm(prefix="review"), blind_days=settings.get("review_blind_days"),
    ), status


def _require_party(job, verb: str) -> None:
    """Only the gig's client and its worker write on it (admins read): 403 before any input is looked at."""
    if viewer_actor(job, current_user) not in (Actor.CLIENT, Actor.WORKER):
        abort(403, f"Only the gig's client and its worker can {verb} this gig.")


@bp.route("/<int:job_id>")
@login_required
def show(job_id: int):
    return render_gig(jobs.job_for_viewer(job_id, current_user))


@bp.post("/<int:job_id>/actions/<name>")
@login_required
def act(job_id: int, name: str):
    job = jobs.job_for_viewer(job_id, current_user)
    try:
        action = GigAction(name)
    except ValueError:
        abort(404)
    if action not in PERFORM:
        abort(404)
    form = ACTIONS[action].form(prefix=action.value)
    if not form.validate_on_submit():
        return render_gig(job, failed=(action, form))
    try:
        PERFORM[action](job, current_user.id, form)
    except ValidationFailed as exc:
        apply_errors(form, exc, aliases={"minutes": "hours", "actual_minutes": "hours"})
        return render_gig(jobs.job_for_viewer(job_id, current_user), failed=(action, form))
    except Conflict as exc:
        flash(exc.message, "error")
    else:
        flash(DONE_MESSAGES[action], "success")
    return redirect(safe_next(request.args.get("next")) or url_for("gigs.show", job_id=job_id))


@bp.post("/<int:job_id>/messages")
@login_required
def send_message(job_id: int):
    job = jobs.job_for_viewer(job_id, current_user)
    _require_party(job, "write messages on")
    form = MessageForm(prefix="message")
    if form.validate_on_submit():
        try:
            messages.send_message(job.id, current_user.id, form.body.data.strip())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            return redirect(url_for("gigs.show", job_id=job.id, _anchor="messages"))
    return render_gig(job, message_form=form)


@bp.post("/<int:job_id>/review")
@login_required
def review(job_id: int):
    job = jobs.job_for_viewer(job_id, current_user)
    _require_party(job, "review")
    form = ReviewForm(prefix="review")
    if form.validate_on_submit():
        try:
            reviews.write_review(job.id, current_user.id, int(form.stars.data), (form.body.data or "").strip())
        except ValidationFailed as exc:
            apply_errors(form, exc)
        except Conflict as exc:
            flash(exc.message, "error")
            return redirect(url_for("gigs.show", job_id=job.id, _anchor="reviews"))
        else:
            flash("Thank you for your review. It is published when the other side has written theirs, "
                  "or after the blind period.", "success")
            return redirect(url_for("gigs.show", job_id=job.id, _anchor="reviews"))
    return render_gig(job, review_form=form)
