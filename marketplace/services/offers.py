"""Offers: a job goes to the top K matching workers at a time, each with a deadline; the first to accept gets
the gig. Declining carries no penalty, and when every offer of a round is declined or expires the job goes to
the next K. A client may instead invite one worker from the ranked list.

Locks are always taken job row first, offers second, worker statistics in worker-id order, so concurrent
accepts, declines, expiries and rounds cannot deadlock on PostgreSQL.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import aliased, joinedload

from marketplace.domain.gig_states import BOOKED_STATES, Actor, GigAction, GigState
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, Offer, Role, User, UserRole
from marketplace.models.base import MAX_ID, utcnow
from marketplace.services import gigs, notifications, profiles, settings
from marketplace.services.gigs import StaleGig, committing, get_job, gig_url
from marketplace.services.matching import find_matches

log = logging.getLogger(__name__)
_OPEN = (GigState.REQUESTED, GigState.OFFERED)


def _pending(job_id: int):
    return select(exists().where(Offer.job_id == job_id, Offer.status == "pending"))


def _offered_before(job_id: int) -> set[int]:
    """Workers not to offer the job again: everyone who had an offer, except those whose offer was withdrawn
    (the job was taken away from them, not declined by them)."""
    return set(db.session.scalars(select(Offer.worker_id).where(Offer.job_id == job_id, Offer.status != "withdrawn")))


def _place_offer(job: Job, match, round_no: int, now: datetime, expires_at: datetime, invited: bool) -> bool:
    """Insert the offer, or reopen the worker's earlier one (unique per job and worker); True when new."""
    fields = {"round": round_no, "status": "pending", "rate_cents": match.rate_cents,
              "distance_m": round(match.distance_km * 1000), "score_ppm": round(match.score * 1_000_000),
              "reasons": "; ".join(match.reasons), "invited": invited, "offered_at": now, "expires_at": expires_at,
              "responded_at": None}
    offer = db.session.scalar(select(Offer).where(Offer.job_id == job.id, Offer.worker_id == match.worker_id))
    if offer is None:
        db.session.add(Offer(job_id=job.id, worker_id=match.worker_id, **fields))
        return True
    for key, value in fields.items():
        setattr(offer, key, value)
    return False


def _send(job: Job, matches, now: datetime, *, invited: bool) -> None:
    deadline = min(now + timedelta(minutes=settings.get("offer_deadline_minutes")), job.starts_at)
    new = [m.worker_id for m in matches if _place_offer(job, m, job.offer_round, now, deadline, invited)]
    for worker_id in sorted(new):  # a stable lock order for the period-statistics rows
        profiles.record_offered(worker_id, job.estimated_minutes, gigs.local_date(now))
    when = job.starts_at.astimezone(gigs.coop_zone())
    for m in matches:
        notifications.notify(
            m.worker_id, "offer", f"New offer: “{job.title}” on {when:%a %d %b %H:%M}. Answer by "
            f"{deadline.astimezone(gigs.coop_zone()):%a %H:%M}.", gig_url(job.id),
            email_subject=f"New offer: {job.title}", email_template="offer", job=job, when=when,
            deadline=deadline.astimezone(gigs.coop_zone()), invited=invited, rate_cents=m.rate_cents)


def _tell_client_nobody(job: Job) -> None:
    notifications.notify(
        job.client_id, "no_match", f"No worker is free for “{job.title}” right now. You can change the time, "
        "place or highest rate, or invite a worker you know.", gig_url(job.id),
        email_subject=f"No worker yet: {job.title}", email_template="gig_update", job=job)


def offer_round(job: Job, *, now: datetime | None = None) -> int:
    """Offer a requested job (or an offered one with no pending offer) to the next K best matches, in the
    caller's transaction. K and the deadline are co-op settings; the deadline never runs past the start.

    Nobody left (or the start has passed): the job is, or goes back to, requested, and the client is told.
    Returns the number of offers sent.
    """
    now = now or utcnow()
    if job.state not in _OPEN or db.session.scalar(_pending(job.id)):
        raise Conflict("This job is not waiting for a new round of offers.")
    matches = []
    if job.starts_at > now:
        matches = find_matches(job, limit=settings.get("offer_fanout"), exclude_worker_ids=_offered_before(job.id))
    if not matches:
        if job.state is GigState.OFFERED:
            gigs.apply(job.id, GigAction.EXPIRE_OFFERS, Actor.SYSTEM, None, source=GigState.OFFERED,
                       reason="nobody left to offer it to")
        _tell_client_nobody(job)
        return 0
    round_no = job.offer_round + 1
    reason = f"round {round_no}: offered to {len(matches)} worker(s)"
    if job.state is GigState.REQUESTED:
        job = gigs.apply(job.id, GigAction.OFFER, Actor.SYSTEM, None, source=GigState.REQUESTED, reason=reason,
                         values={"offer_round": round_no})
    else:
        db.session.execute(update(Job).where(Job.id == job.id).values(offer_round=round_no))
        job = get_job(job.id)
    _send(job, matches, now, invited=False)
    return len(matches)


def send_offer_round(job_id: int) -> int:
    """Send the next round of offers for a job that is waiting for one (see ``offer_round``); commits."""
    with committing():
        count = offer_round(get_job(job_id, lock=True))
    return count


def invite(job: Job, worker_id: int, client_id: int, *, field: str = "worker_id", now: datetime | None = None):
    """Offer an open job to one worker the client chose from the ranked list (caller's transaction).

    The worker must be an eligible match (category, area, availability, rate). If a round of offers is
    out, it is withdrawn first (audited as the round closing), so only the invited worker holds an offer.
    The invitation has the usual deadline, after which the regular rounds take over.
    """
    now = now or utcnow()
    if job.state is not GigState.OFFERED:
        gigs.check(job.state, GigAction.INVITE, Actor.CLIENT)
    if not 0 < worker_id <= MAX_ID:  # no such worker; a larger number would fail the query below
        raise ValidationFailed({field: "This worker cannot take this job (service, area, time or rate)."})
    if pending_offer(job.id, worker_id) is not None:
        raise Conflict("This worker already has an open offer for this job.")
    match = next((m for m in find_matches(job) if m.worker_id == worker_id), None)
    if match is None:
        raise ValidationFailed({field: "This worker cannot take this job (service, area, time or rate)."})
    if job.state is GigState.OFFERED:
        for other in withdraw_pending(job.id, now):
            notifications.notify(other, "offer_withdrawn", f"The client invited another worker for “{job.title}”; "
                                 "your offer was withdrawn.", gig_url(job.id))
        job = gigs.apply(job.id, GigAction.EXPIRE_OFFERS, Actor.SYSTEM, None, source=GigState.OFFERED,
                         reason="the client invited a worker instead")
    worker = db.session.get(User, worker_id)
    job = gigs.apply(job.id, GigAction.INVITE, Actor.CLIENT, client_id, source=GigState.REQUESTED,
                     reason=f"invited {worker.name}", values={"offer_round": job.offer_round + 1})
    _send(job, [match], now, invited=True)
    return job


def invite_worker(job_id: int, client_id: int, worker_id: int) -> Job:
    """The client invites one worker to their open job instead of (or in place of) the automatic round; commits."""
    with committing():
        job = get_job(job_id, lock=True)
        gigs.require_actor(job, client_id, Actor.CLIENT, verb="invite a worker to this job")
        job = invite(job, worker_id, client_id)
    return job


def _claim(job_id: int, worker_id: int, now: datetime) -> Job:
    """The atomic part of accepting: ONE conditional UPDATE of the job row, checked by its row count."""
    holds_offer = exists().where(Offer.job_id == job_id, Offer.worker_id == worker_id, Offer.status == "pending",
                                 Offer.expires_at > now)
    other = aliased(Job)
    busy = exists().where(other.worker_id == worker_id, other.id != job_id,
                          other.status.in_([s.value for s in BOOKED_STATES]),
                          other.starts_at < Job.ends_at, other.ends_at > Job.starts_at)
    rate = (select(Offer.rate_cents).where(Offer.job_id == job_id, Offer.worker_id == worker_id)
            .scalar_subquery())
    member = exists().where(UserRole.user_id == worker_id, UserRole.role == Role.MEMBER.value)
    return gigs.apply(job_id, GigAction.ACCEPT, Actor.WORKER, worker_id, source=GigState.OFFERED,
                      where=(holds_offer, ~busy),
                      values={"worker_id": worker_id, "agreed_rate_cents": rate, "accepted_at": now,
                              "worker_was_member": member})


def _close_round(job: Job, worker_id: int, now: datetime) -> None:
    db.session.execute(update(Offer).where(Offer.job_id == job.id, Offer.worker_id == worker_id)
                       .values(status="accepted", responded_at=now))
    others = list(db.session.scalars(select(Offer.worker_id).where(Offer.job_id == job.id,
                                                                   Offer.status == "pending")))
    db.session.execute(update(Offer).where(Offer.job_id == job.id, Offer.status == "pending")
                       .values(status="withdrawn", responded_at=now))
    notifications.notify(job.client_id, "gig_accepted", f"{job.worker.name} accepted “{job.title}”.",
                         gig_url(job.id), email_subject=f"Booked: {job.title}", email_template="gig_update", job=job)
    for other in others:
        notifications.notify(other, "offer_taken", f"“{job.title}” was taken by another worker.", gig_url(job.id))


def accept_offer(job_id: int, worker_id: int) -> Job:
    """A worker accepts their pending, unexpired offer; however many accept at once, one gets the gig.

    The job row is claimed by a single conditional UPDATE (status still offered, the worker holds a live
    offer, no overlapping booked gig) and its row count decides: the winner's other-offer clean-up and
    notices commit with it. The winner asking again gets the gig back; everyone else gets Conflict (409).
    """
    now = utcnow()
    try:
        with committing():
            job = _claim(job_id, worker_id, now)
            _close_round(job, worker_id, now)
        gigs.bill("on_gig_accepted", job.id)
        return job
    except StaleGig:
        pass
    return _explain_refusal(job_id, worker_id, now)


def _explain_refusal(job_id: int, worker_id: int, now: datetime) -> Job:
    job = get_job(job_id)
    if job.worker_id == worker_id and job.state in gigs.WORKER_HELD:
        return job  # the winner's repeat (a retry, a double tap): the same answer again
    offer = db.session.scalar(select(Offer).where(Offer.job_id == job_id, Offer.worker_id == worker_id))
    if offer is None:
        if gigs.can_view(job, db.session.get(User, worker_id)):
            raise Forbidden("You have no offer for this job.")
        raise NotFound("There is no such job.")
    if job.worker_id is not None or job.state is not GigState.OFFERED:
        if job.worker_id is not None and job.state in gigs.WORKER_HELD:
            raise Conflict("Another worker has already accepted this gig.")
        raise Conflict(f"This job can no longer be accepted (it is {job.state.value.replace('_', ' ')}).")
    if offer.status == "expired" or (offer.status == "pending" and offer.expires_at <= now):
        raise Conflict("Your offer has expired.")
    if offer.status != "pending":
        raise Conflict(f"Your offer was {offer.status}; it can no longer be accepted.")
    raise Conflict("You already have a gig at that time.")


def decline_offer(job_id: int, worker_id: int) -> Offer:
    """A worker turns down their pending offer. No penalty: it only frees the slot for the next worker.

    When that was the last open offer of the round, the next round goes out at once. Declining twice is
    harmless (the same answer again).
    """
    now = utcnow()
    with committing():
        job = get_job(job_id, lock=True)  # job row first, as in every other path
        changed = db.session.execute(
            update(Offer).where(Offer.job_id == job_id, Offer.worker_id == worker_id, Offer.status == "pending",
                                Offer.expires_at > now).values(status="declined", responded_at=now)).rowcount
        offer = db.session.scalar(select(Offer).where(Offer.job_id == job_id, Offer.worker_id == worker_id))
        if not changed:
            _refuse_decline(job, offer, worker_id)
        elif job.state is GigState.OFFERED and not db.session.scalar(_pending(job_id)):
            next_round(job, now, reason="every offer of the round was declined")
    return offer


def _refuse_decline(job: Job, offer: Offer | None, worker_id: int) -> None:
    if offer is None:
        if gigs.can_view(job, db.session.get(User, worker_id)):
            raise Forbidden("You have no offer for this job.")
        raise NotFound("There is no such job.")
    if offer.status == "declined":
        return
    if offer.status == "accepted":
        raise Conflict("You accepted this gig; to give it back, withdraw from the gig instead.")
    if offer.status == "withdrawn":
        raise Conflict("This offer was withdrawn; there is nothing to decline.")
    raise Conflict("Your offer has already expired; there is nothing to decline.")


def next_round(job: Job, now: datetime, *, reason: str) -> int:
    """An offered job whose round has closed with no taker: back to requested (audited), then the next K."""
    job = gigs.apply(job.id, GigAction.EXPIRE_OFFERS, Actor.SYSTEM, None, source=GigState.OFFERED, reason=reason)
    return offer_round(job, now=now)


def expire_due_offers(now: datetime | None = None) -> int:
    """Expire every pending offer past its deadline; jobs left without a pending offer get the next round.

    One transaction per job (job row locked first). Also picks up offered jobs that somehow have no pending
    offer. Returns the number of offers expired; running it twice changes nothing more.
    """
    now = now or utcnow()
    due = set(db.session.scalars(select(Offer.job_id).where(Offer.status == "pending", Offer.expires_at <= now)))
    stuck = set(db.session.scalars(select(Job.id).where(
        Job.status == GigState.OFFERED.value, ~exists().where(Offer.job_id == Job.id, Offer.status == "pending"))))
    expired = 0
    for job_id in sorted(due | stuck):
        try:
            with committing():
                job = get_job(job_id, lock=True)
                count = db.session.execute(update(Offer).where(
                    Offer.job_id == job_id, Offer.status == "pending", Offer.expires_at <= now)
                    .values(status="expired", responded_at=now)).rowcount
                if job.state is GigState.OFFERED and not db.session.scalar(_pending(job_id)):
                    next_round(job, now, reason=f"{count} offer(s) expired without an answer")
        except Conflict:
            log.info("job %s changed while its offers expired; skipped", job_id)
            continue
        expired += count
    return expired


def withdraw_pending(job_id: int, now: datetime) -> list[int]:
    """Withdraw every pending offer of a job (caller's transaction); returns the workers affected."""
    workers = list(db.session.scalars(select(Offer.worker_id).where(Offer.job_id == job_id,
                                                                    Offer.status == "pending")))
    db.session.execute(update(Offer).where(Offer.job_id == job_id, Offer.status == "pending")
                       .values(status="withdrawn", responded_at=now))
    return workers


def offers_for_worker(worker_id: int) -> list[Offer]:
    """The worker's open offers (pending, not yet expired) with their jobs, the soonest deadline first."""
    return list(db.session.scalars(
        select(Offer).options(joinedload(Offer.job)).where(
            Offer.worker_id == worker_id, Offer.status == "pending", Offer.expires_at > utcnow())
        .order_by(Offer.expires_at, Offer.id)))


def offers_for_job(job_id: int, status: str | None = None) -> list[Offer]:
    """Every offer of a job (optionally in one status) with its worker, by round and time offered."""
    stmt = select(Offer).options(joinedload(Offer.worker)).where(Offer.job_id == job_id)
    if status is not None:
        stmt = stmt.where(Offer.status == status)
    return list(db.session.scalars(stmt.order_by(Offer.round, Offer.offered_at, Offer.id)))


def pending_offer(job_id: int, worker_id: int) -> Offer | None:
    """The worker's open offer for this job, if they have one (for showing accept / decline)."""
    return db.session.scalar(select(Offer).where(Offer.job_id == job_id, Offer.worker_id == worker_id,
                                                 Offer.status == "pending", Offer.expires_at > utcnow()))
