"""The marketplace timers run in a real Celery worker process, sent by name as beat sends them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import Config
from marketplace import dispatch
from marketplace.extensions import db
from marketplace.models.base import utcnow
from marketplace.services import gigs, offers, reviews
from marketplace_helpers import fresh, make_category, make_offers_overdue, make_worker, offers_of, post
from support import wait_until

pytestmark = pytest.mark.worker


@pytest.fixture
def booked(app, make_user):
    category = make_category()
    workers = [make_worker(make_user, category) for _ in range(5)]
    return category, workers, make_user("client")


def send(app, name: str) -> None:
    app.extensions["celery"].send_task(name)


def test_beat_schedules_the_marketplace_timers():
    schedule = {entry["task"]: entry["schedule"] for entry in Config.CELERY["beat_schedule"].values()}
    assert schedule[dispatch.EXPIRE_OFFERS] == 60
    assert schedule[dispatch.AUTO_CONFIRM] == 300
    assert schedule[dispatch.PUBLISH_REVIEWS] == 3600


def test_overdue_offers_go_to_the_next_round_in_the_worker(app, booked, celery_worker):
    category, workers, client = booked
    job = post(client, category)
    first = {o.worker_id for o in offers_of(job.id, "pending")}
    make_offers_overdue(job.id)
    send(app, dispatch.EXPIRE_OFFERS)

    def next_round():
        pending = offers_of(job.id, "pending")
        return pending if pending and {o.round for o in pending} == {2} else None

    second = wait_until(next_round, timeout=60, message="the worker to send the next round")
    assert {o.worker_id for o in second} == {w.id for w in workers} - first
    assert {o.status for o in offers_of(job.id) if o.worker_id in first} == {"expired"}
    assert fresh(job.id).status == "offered"
    send(app, dispatch.EXPIRE_OFFERS)  # again: nothing is due, nothing changes
    wait_until(lambda: celery_worker.log_path.read_text().count("marketplace.expire_offers") >= 4, timeout=60,
               message="the second run")
    assert {o.worker_id for o in offers_of(job.id, "pending")} == {o.worker_id for o in second}


def test_silent_clients_are_confirmed_by_the_worker(app, booked, celery_worker):
    category, _, client = booked
    job = post(client, category)
    worker_id = offers_of(job.id, "pending")[0].worker_id
    offers.accept_offer(job.id, worker_id)
    gigs.start_gig(job.id, worker_id)
    gigs.complete_gig(job.id, worker_id, 90)
    fresh(job.id).completed_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    send(app, dispatch.AUTO_CONFIRM)
    confirmed = wait_until(lambda: fresh(job.id) if fresh(job.id).status == "confirmed" else None, timeout=60,
                           message="the worker to confirm the gig")
    assert confirmed.confirmed_at is not None


def test_blind_reviews_are_published_by_the_worker(app, booked, celery_worker):
    category, _, client = booked
    job = post(client, category)
    worker_id = offers_of(job.id, "pending")[0].worker_id
    offers.accept_offer(job.id, worker_id)
    gigs.start_gig(job.id, worker_id)
    gigs.complete_gig(job.id, worker_id, 60)
    gigs.confirm_gig(job.id, client.id)
    reviews.write_review(job.id, client.id, 5, "Great")
    fresh(job.id).confirmed_at = utcnow() - timedelta(days=8)
    db.session.commit()
    send(app, dispatch.PUBLISH_REVIEWS)
    wait_until(lambda: fresh(job.id).status == "reviewed", timeout=60, message="the worker to publish the review")
    assert [r.published_at is not None for r in reviews.reviews_for_viewer(job.id, worker_id)] == [True]
