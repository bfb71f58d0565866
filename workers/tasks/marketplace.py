"""Marketplace timers run by beat: offer deadlines, auto-confirmation and the review window.

Each task takes no arguments, calls one service that works from the database's state, and is safe to run
twice or concurrently (every change is a conditional update).
"""

from celery import shared_task

from marketplace import dispatch
from marketplace.services import gigs, offers, reviews


@shared_task(name=dispatch.EXPIRE_OFFERS)
def expire_offers() -> int:
    """Expire overdue offers and send the affected jobs to the next round; returns offers expired."""
    return offers.expire_due_offers()


@shared_task(name=dispatch.AUTO_CONFIRM)
def auto_confirm() -> int:
    """Confirm completed gigs the client left unanswered past the auto-confirm window; returns gigs confirmed."""
    return gigs.auto_confirm_due()


@shared_task(name=dispatch.PUBLISH_REVIEWS)
def publish_reviews() -> int:
    """Publish reviews whose blind period is over; returns reviews published."""
    return reviews.publish_due_reviews()
