"""Two-way, double-blind reviews of a confirmed gig.

Each side writes once (1–5 stars and a few words). Neither sees the other's review until both have written,
or until the review window (``review_blind_days`` after confirmation) closes, when whatever was written is
published. Publishing a client's review of the worker rolls its stars up onto the worker's profile; the gig
then moves to reviewed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from marketplace.domain.gig_states import Actor, GigAction, GigState
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, Review, WorkerProfile
from marketplace.models.base import utcnow
from marketplace.services import gigs, notifications, settings
from marketplace.services.gigs import committing, get_job, gig_url

MAX_BODY = 2000


def _check_input(stars, body) -> str:
    problems = {}
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        problems["stars"] = "Choose from 1 to 5 stars."
    body = (body or "").strip()
    if not body:
        problems["body"] = "Write a few words about how it went."
    elif len(body) > MAX_BODY:
        problems["body"] = f"Keep the review under {MAX_BODY} characters."
    if problems:
        raise ValidationFailed(problems)
    return body


def _window_closes(job: Job) -> datetime:
    return job.confirmed_at + timedelta(days=settings.get("review_blind_days"))


def write_review(job_id: int, author_id: int, stars: int, body: str) -> Review:
    """The client or the worker of a confirmed gig reviews the other side, once; commits.

    Rules: only while the gig is confirmed and its review window is open; one review per side. When both
    reviews exist they are published together and the gig moves to reviewed.
    """
    now = utcnow()
    with committing():
        job = get_job(job_id, lock=True)  # serialises the two sides, so the second always sees the first
        actor = gigs.require_actor(job, author_id, Actor.CLIENT, Actor.WORKER, verb="review this gig")
        body = _check_input(stars, body)
        if job.state is not GigState.CONFIRMED:
            raise Conflict("Reviews for this gig are closed." if job.state is GigState.REVIEWED
                           else "A gig can be reviewed once it is confirmed.")
        if _window_closes(job) <= now:
            raise Conflict("The review window for this gig has closed.")
        if has_reviewed(job_id, author_id):
            raise Conflict("You have already reviewed this gig.")
        subject = job.worker_id if actor is Actor.CLIENT else job.client_id
        review = Review(job_id=job_id, author_id=author_id, subject_id=subject, author_role=actor.value,
                        stars=stars, body=body, created_at=now)
        db.session.add(review)
        try:
            db.session.flush()
        except IntegrityError:
            raise Conflict("You have already reviewed this gig.") from None
        written = db.session.scalar(select(func.count()).select_from(Review).where(Review.job_id == job_id))
        if written == 2:
            _publish(job_id, now)
            gigs.apply(job_id, GigAction.REVIEW, Actor.SYSTEM, None, source=GigState.CONFIRMED,
                       reason="both sides reviewed")
            for user_id in (job.client_id, job.worker_id):
                notifications.notify(user_id, "reviews_published", f"The reviews of “{job.title}” are published.",
                                     gig_url(job_id))
        else:
            notifications.notify(subject, "review_waiting", f"You were reviewed for “{job.title}”. Write your "
                                 "review to see it; both are published together.", gig_url(job_id))
    return review


def _publish(job_id: int, now: datetime) -> int:
    """Publish the gig's hidden reviews; each client review adds its stars to the worker's rating once."""
    published = 0
    hidden = db.session.scalars(select(Review).where(Review.job_id == job_id, Review.published_at.is_(None)))
    for review in list(hidden):
        changed = db.session.execute(update(Review).where(Review.id == review.id, Review.published_at.is_(None))
                                     .values(published_at=now)).rowcount
        if changed and review.author_role == Actor.CLIENT.value:
            db.session.execute(update(WorkerProfile).where(WorkerProfile.user_id == review.subject_id).values(
                rating_sum=WorkerProfile.rating_sum + review.stars, rating_count=WorkerProfile.rating_count + 1))
        published += changed
    return published


def publish_due_reviews(now: datetime | None = None) -> int:
    """Close the review window of gigs confirmed ``review_blind_days`` ago that have a hidden review: publish
    what was written and move the gig to reviewed. One transaction per gig; returns reviews published."""
    now = now or utcnow()
    cutoff = now - timedelta(days=settings.get("review_blind_days"))
    due = db.session.scalars(select(Job.id).where(
        Job.status == GigState.CONFIRMED.value, Job.confirmed_at <= cutoff,
        exists().where(Review.job_id == Job.id, Review.published_at.is_(None))).order_by(Job.id))
    total = 0
    for job_id in list(due):
        try:
            with committing():
                get_job(job_id, lock=True)
                count = _publish(job_id, now)
                gigs.apply(job_id, GigAction.REVIEW, Actor.SYSTEM, None, source=GigState.CONFIRMED,
                           reason="the review window closed")
        except Conflict:
            continue
        total += count
    return total


def has_reviewed(job_id: int, user_id: int) -> bool:
    """Whether ``user_id`` has already written their review of this gig."""
    return bool(db.session.scalar(select(exists().where(Review.job_id == job_id, Review.author_id == user_id))))


def reviews_for_viewer(job_id: int, viewer_id: int | None) -> list[Review]:
    """The gig's reviews as ``viewer_id`` may see them: every published one, plus their own hidden one."""
    visible = Review.published_at.is_not(None)
    if viewer_id is not None:
        visible = or_(visible, Review.author_id == viewer_id)
    return list(db.session.scalars(select(Review).options(joinedload(Review.author))
                                   .where(Review.job_id == job_id, visible).order_by(Review.created_at, Review.id)))
