"""Messages on a gig, between its client and its assigned worker only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from marketplace.domain.gig_states import Actor
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Message
from marketplace.services import gigs, notifications
from marketplace.services.gigs import committing, get_job, gig_url

MAX_BODY = 4000


def send_message(job_id: int, sender_id: int, body: str) -> Message:
    """The client or the assigned worker writes to the other; the other is notified (in the app and by email).

    Rules: the gig must have a worker (messages open when one accepts); nobody else may write, not even a
    worker who was only offered the job; the text is 1–4,000 characters. Commits.
    """
    with committing():
        job = get_job(job_id)
        actor = gigs.require_actor(job, sender_id, Actor.CLIENT, Actor.WORKER, verb="send messages on this gig")
        if job.worker_id is None:
            raise Conflict("Messages open once a worker has accepted the gig.")
        body = (body or "").strip()
        if not body:
            raise ValidationFailed({"body": "Write a message."})
        if len(body) > MAX_BODY:
            raise ValidationFailed({"body": f"Keep a message under {MAX_BODY} characters."})
        message = Message(job_id=job_id, sender_id=sender_id, body=body)
        db.session.add(message)
        db.session.flush()
        sender = job.client if actor is Actor.CLIENT else job.worker
        recipient = job.worker_id if actor is Actor.CLIENT else job.client_id
        notifications.notify(recipient, "message", f"{sender.name} wrote about “{job.title}”: {body}",
                             gig_url(job_id) + "#messages", email_subject=f"New message: {job.title}",
                             email_template="message", job=job, sender=sender, body=body)
    return message


def thread(job_id: int, viewer_id: int) -> list[Message]:
    """The gig's messages, oldest first, for its client, its worker or an admin (who may read, e.g. in a
    dispute); Forbidden for others who may see the gig, NotFound for strangers."""
    job = get_job(job_id)
    gigs.require_actor(job, viewer_id, Actor.CLIENT, Actor.WORKER, Actor.ADMIN, verb="read the messages of this gig")
    return list(db.session.scalars(select(Message).options(joinedload(Message.sender)).where(Message.job_id == job_id)
                                   .order_by(Message.created_at, Message.id)))
