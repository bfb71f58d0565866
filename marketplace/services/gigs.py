"""The gig lifecycle: every state change goes through ``apply``, which asks ``domain.gig_states`` whether the
move is allowed, makes it with one conditional ``UPDATE jobs ... WHERE status = :expected`` checked by row count,
and writes the audit row (a ``JobEvent``: who, when, from, to, why) in the same transaction.

Two people acting on the same gig at once cannot both win: the second UPDATE finds the status changed and
matches no row, and the second person gets a ``Conflict`` instead of silently overwriting the first.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import exists, select, update

from marketplace.domain.gig_states import Actor, GigAction, GigState, IllegalTransition, next_state
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, JobEvent, Offer, Role, User, UserRole, WorkerService
from marketplace.models.base import utcnow
from marketplace.services import notifications, profiles, settings

log = logging.getLogger(__name__)

WORKER_HELD = frozenset({GigState.ACCEPTED, GigState.IN_PROGRESS, GigState.COMPLETED, GigState.CONFIRMED,
                         GigState.REVIEWED, GigState.DISPUTED})
"""States in which the gig has its worker: they see the address, may message the client, and are paid."""

_WHO = {Actor.CLIENT: "the job's client", Actor.WORKER: "the gig's worker", Actor.ADMIN: "an admin"}


class StaleGig(Conflict):
    """The conditional UPDATE matched no row: someone changed the gig between reading and writing it."""


@contextmanager
def committing() -> Iterator[None]:
    """One unit of work: commit when the block succeeds, roll everything back when it raises."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def coop_zone() -> ZoneInfo:
    """The co-op's time zone (config ``COOP_TIMEZONE``): job times are shown and counted in it."""
    return ZoneInfo(current_app.config["COOP_TIMEZONE"])


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the co-op's time zone (periods and weekdays are local)."""
    return moment.astimezone(coop_zone()).date()


def gig_url(job_id: int) -> str:
    """The shared gig page, where every notice about a gig points."""
    return f"/gigs/{job_id}"


def get_job(job_id: int, *, lock: bool = False) -> Job:
    """The job, freshly read (row-locked on PostgreSQL when ``lock``); NotFound when there is none."""
    stmt = select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    job = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if job is None:
        raise NotFound("There is no such job.")
    return job


def can_view(job: Job, user: User | None) -> bool:
    """Object-level access: the client, the gig's worker, workers offered it, admins, and, while the request is
    open, workers who offer its category (they browse open requests). Everyone else must not learn it exists."""
    if user is None:
        return False
    if user.id in (job.client_id, job.worker_id) or user.has_role(Role.ADMIN.value):
        return True
    if db.session.scalar(select(exists().where(Offer.job_id == job.id, Offer.worker_id == user.id))):
        return True
    return job.state in (GigState.REQUESTED, GigState.OFFERED) and bool(db.session.scalar(select(exists().where(
        WorkerService.worker_id == user.id, WorkerService.category_id == job.category_id))))


def require_actor(job: Job, user_id: int | None, *allowed: Actor, verb: str) -> Actor:
    """The role ``user_id`` acts in, the first of ``allowed`` they hold on this gig.

    Someone who may see the gig but not do this gets Forbidden; anyone else gets NotFound, so a stranger
    cannot even learn that the job exists.
    """
    user = db.session.get(User, user_id) if user_id is not None else None
    for actor in allowed:
        if actor is Actor.CLIENT and user_id == job.client_id:
            return actor
        if actor is Actor.WORKER and job.worker_id is not None and user_id == job.worker_id:
            return actor
        if actor is Actor.ADMIN and user is not None and user.has_role(Role.ADMIN.value):
            return actor
    if can_view(job, user):
        who = " or ".join(_WHO[a] for a in allowed)
        raise Forbidden(f"Only {who} can {verb}.")
    raise NotFound("There is no such job.")


def check(state: GigState, action: GigAction, actor: Actor) -> GigState:
    """``next_state`` with the domain's refusal turned into a Conflict (409) carrying its message."""
    try:
        return next_state(state, action, actor)
    except IllegalTransition as exc:
        raise Conflict(exc.message) from exc


def apply(job_id: int, action: GigAction, actor: Actor, actor_id: int | None, *, reason: str = "",
          values: Mapping | None = None, where: Iterable = (), source: GigState | None = None) -> Job:
    """Apply one transition in the caller's transaction (no commit) and return the refreshed job.

    ``source`` is the state the caller saw (read from the database when omitted); the UPDATE only matches
    while the gig is still in it and every extra ``where`` condition holds, else StaleGig (409). An illegal
    move raises Conflict with the domain's message. One JobEvent row is added per change.
    """
    if source is None:
        status = db.session.scalar(select(Job.status).where(Job.id == job_id))
        if status is None:
            raise NotFound("There is no such job.")
        source = GigState(status)
    target = check(source, action, actor)
    stmt = (update(Job).where(Job.id == job_id, Job.status == source.value, *where)
            .values(status=target.value, **dict(values or {})).execution_options(synchronize_session=False))
    if db.session.execute(stmt).rowcount != 1:
        raise StaleGig("This gig changed while you were acting on it. Reload the page and try again.")
    db.session.add(JobEvent(job_id=job_id, actor_id=actor_id, actor_kind=Actor(actor).value,
                            action=GigAction(action).value, from_state=source.value, to_state=target.value,
                            reason=(reason or "").strip()[:2000]))
    db.session.flush()
    return get_job(job_id)


def transition(job_id: int, action: GigAction, actor: Actor, actor_id: int | None, *, reason: str = "",
               values: Mapping | None = None) -> Job:
    """Apply one transition of the gig state machine and commit it (see ``apply``).

    The caller is responsible for having checked that ``actor_id`` really acts as ``actor`` on this gig;
    the named lifecycle functions below do that.
    """
    with committing():
        job = apply(job_id, action, actor, actor_id, reason=reason, values=values)
    return job


def timeline(job_id: int) -> list[JobEvent]:
    """The gig's audit trail, oldest first: one row per state change (who, when, from, to, why)."""
    return list(db.session.scalars(select(JobEvent).where(JobEvent.job_id == job_id)
                                   .order_by(JobEvent.occurred_at, JobEvent.id)))


def start_gig(job_id: int, worker_id: int) -> Job:
    """The gig's worker starts the work: accepted → in progress."""
    with committing():
        job = get_job(job_id)
        require_actor(job, worker_id, Actor.WORKER, verb="start this gig")
        job = apply(job_id, GigAction.START, Actor.WORKER, worker_id, source=job.state)
        notifications.notify(job.client_id, "gig_started", f"{job.worker.name} started “{job.title}”.",
                             gig_url(job.id))
    return job


def complete_gig(job_id: int, worker_id: int, minutes: int) -> Job:
    """The worker records the actual time (1 minute to 24 hours) and completes the gig: in progress → completed.

    The client then has ``auto_confirm_hours`` (48 h by default) to confirm or dispute.
    """
    with committing():
        job = get_job(job_id)
        require_actor(job, worker_id, Actor.WORKER, verb="complete this gig")
        if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= 1440:
            raise ValidationFailed({"hours": "Enter the hours you worked: more than 0 and at most 24."})
        job = apply(job_id, GigAction.COMPLETE, Actor.WORKER, worker_id, source=job.state,
                    values={"actual_minutes": minutes, "completed_at": utcnow()},
                    reason=f"{minutes / 60:.2f} h worked")
        hours = settings.get("auto_confirm_hours")
        notifications.notify(
            job.client_id, "gig_completed",
            f"{job.worker.name} completed “{job.title}” ({minutes / 60:.2f} h). Confirm or dispute within {hours} "
            "hours; after that it is confirmed automatically.",
            gig_url(job.id), email_subject=f"Please confirm: {job.title}", email_template="gig_update", job=job)
    return job


def _confirm(job: Job, action: GigAction, actor: Actor, actor_id: int | None, reason: str) -> Job:
    job = apply(job.id, action, actor, actor_id, source=job.state, reason=reason, values={"confirmed_at": utcnow()})
    # The confirmed hours count as worked in the period of the gig's (local) date: the fairness term.
    profiles.record_worked(job.worker_id, job.actual_minutes or job.estimated_minutes, local_date(job.starts_at))
    notifications.notify(job.worker_id, "gig_confirmed", f"“{job.title}” is confirmed.", gig_url(job.id),
                         email_subject=f"Confirmed: {job.title}", email_template="gig_update", job=job)
    return job


def _after_confirm(job: Job) -> None:
    """Runs once a confirmation has committed: the one place follow-ups of a confirmed gig hook in.

    Invites both sides to review the gig (reviews are double-blind), commits, then charges the gig.
    """
    days = settings.get("review_blind_days")
    for user_id in (job.client_id, job.worker_id):
        notifications.notify(user_id, "review_invite",
                             f"How did “{job.title}” go? Reviews are hidden until both of you have written one, "
                             f"or for {days} days.", gig_url(job.id))
    db.session.commit()
    bill("on_gig_confirmed", job.id)


def bill(action: str, job_id: int, *args) -> None:
    """Run a money follow-up of a gig change that has already committed (billing.<action>(job_id, *args)).

    The gig's own change must stand even if the money step fails (a provider outage, say): the failure is
    logged and rolled back, and the hourly ``money.bill_confirmed`` task charges any confirmed gig left
    unbilled. Billing is idempotent, so a retry never charges twice.
    """
    from marketplace.services import billing

    try:
        getattr(billing, action)(job_id, *args)
    except Exception:  # noqa: BLE001 - see the docstring: the committed gig change must not turn into a 500
        db.session.rollback()
        log.exception("billing.%s failed for gig %s; the hourly billing task will retry", action, job_id)


def confirm_gig(job_id: int, client_id: int) -> Job:
    """The client confirms the recorded hours: completed → confirmed; the hours count as worked."""
    with committing():
        job = get_job(job_id)
        require_actor(job, client_id, Actor.CLIENT, verb="confirm this gig")
        job = _confirm(job, GigAction.CONFIRM, Actor.CLIENT, client_id, "confirmed by the client")
    _after_confirm(job)
    return job


def dispute_gig(job_id: int, client_id: int, reason: str) -> Job:
    """The client disputes the completed gig, with a reason, before the auto-confirm deadline: → disputed."""
    with committing():
        job = get_job(job_id)
        require_actor(job, client_id, Actor.CLIENT, verb="dispute this gig")
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed({"reason": "Say what went wrong, so an admin can sort it out."})
        hours = settings.get("auto_confirm_hours")
        if job.state is GigState.COMPLETED and job.completed_at + timedelta(hours=hours) <= utcnow():
            raise Conflict(f"The {hours} hours to dispute this gig have passed; it is confirmed automatically.")
        job = apply(job_id, GigAction.DISPUTE, Actor.CLIENT, client_id, source=job.state, reason=reason)
        notifications.notify(job.worker_id, "gig_disputed", f"The client disputed “{job.title}”: {reason}",
                             gig_url(job.id), email_subject=f"Disputed: {job.title}", email_template="gig_update",
                             job=job)
        admins = db.session.scalars(select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value))
        for admin_id in admins:
            notifications.notify(admin_id, "dispute_opened", f"Dispute on “{job.title}”: {reason}", gig_url(job.id))
    return job


def resolve_dispute(job_id: int, admin_id: int, reason: str) -> Job:
    """An admin settles a dispute, with a note: disputed → confirmed (refunds are the money side's)."""
    with committing():
        job = get_job(job_id)
        require_actor(job, admin_id, Actor.ADMIN, verb="resolve this dispute")
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed({"reason": "Write down how the dispute was settled."})
        job = _confirm(job, GigAction.RESOLVE, Actor.ADMIN, admin_id, reason)
        notifications.notify(job.client_id, "dispute_resolved", f"The dispute on “{job.title}” is settled: {reason}",
                             gig_url(job.id), email_subject=f"Dispute settled: {job.title}",
                             email_template="gig_update", job=job)
    _after_confirm(job)
    return job


def withdraw_from_gig(job_id: int, worker_id: int, reason: str = "") -> Job:
    """The worker gives an accepted gig back, without penalty: accepted → offered, and the next round goes out.

    The worker's own offer counts as declined (they are not offered the job again); workers whose offers
    were withdrawn when this one accepted may be offered it again.
    """
    from marketplace.services import offers  # offers builds on this module

    with committing():
        job = get_job(job_id)
        require_actor(job, worker_id, Actor.WORKER, verb="withdraw from this gig")
        now = utcnow()
        job = apply(job_id, GigAction.WITHDRAW, Actor.WORKER, worker_id, source=job.state, reason=reason,
                    values={"worker_id": None, "agreed_rate_cents": None, "accepted_at": None,
                            "worker_was_member": None})
        db.session.execute(update(Offer).where(Offer.job_id == job_id, Offer.worker_id == worker_id)
                           .values(status="declined", responded_at=now))
        notifications.notify(job.client_id, "gig_withdrawn",
                             f"The worker withdrew from “{job.title}”. We are offering it to other workers.",
                             gig_url(job.id), email_subject=f"Finding another worker: {job.title}",
                             email_template="gig_update", job=job)
        offers.offer_round(job, now=now)
    return get_job(job_id)


def mark_no_show(job_id: int, actor_id: int, *, now: datetime | None = None) -> Job:
    """The client (or an admin) reports that the worker did not turn up: accepted → no-show, after the start."""
    now = now or utcnow()
    with committing():
        job = get_job(job_id)
        actor = require_actor(job, actor_id, Actor.CLIENT, Actor.ADMIN, verb="report a no-show")
        if job.state is GigState.ACCEPTED and now < job.starts_at:
            raise Conflict("A no-show can only be reported once the start time has passed.")
        job = apply(job_id, GigAction.NO_SHOW, actor, actor_id, source=job.state, reason="worker did not turn up")
        notifications.notify(job.worker_id, "gig_no_show", f"“{job.title}” was marked as a no-show.",
                             gig_url(job.id), email_subject=f"No-show: {job.title}", email_template="gig_update",
                             job=job)
    bill("on_gig_cancelled", job.id, False)  # the client pays nothing: release the hold
    return job


def auto_confirm_due(now: datetime | None = None) -> int:
    """Confirm, as the system, every completed gig the client left unanswered for ``auto_confirm_hours``.

    Each gig is its own transaction; one the client confirmed or disputed in the meantime is skipped.
    Returns how many were confirmed. Safe to run twice.
    """
    now = now or utcnow()
    hours = settings.get("auto_confirm_hours")
    due = db.session.scalars(select(Job.id).where(
        Job.status == GigState.COMPLETED.value, Job.completed_at <= now - timedelta(hours=hours)).order_by(Job.id))
    confirmed = 0
    for job_id in list(due):
        try:
            with committing():
                job = get_job(job_id)
                job = _confirm(job, GigAction.CONFIRM, Actor.SYSTEM, None,
                               f"no answer from the client within {hours} h")
        except Conflict:
            continue
        _after_confirm(job)
        confirmed += 1
    return confirmed
