"""Fifty workers accept the same job at the same moment, over HTTP against gunicorn (2 processes x 4 threads):
exactly one gets the gig (200) and the other 49 get 409, ten times over, on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import ApiToken, Job, JobEvent, Offer, ServiceCategory, User, UserRole
from marketplace.models.base import utcnow
from marketplace.services.accounts import digest
from marketplace_helpers import local_start

pytestmark = pytest.mark.slow

WORKERS = 50
ROUNDS = 10


def _setup_people(password_hash: str) -> tuple[int, int, list[tuple[int, str]]]:
    """A category, a client and 50 workers, each with a bearer token, written straight to the live database."""
    category = ServiceCategory(slug="race-test", name="Race test", rate_floor_cents=1000)
    client = User(email="race-client@test.coop", name="Race Client", password_hash=password_hash)
    client.role_rows = [UserRole(role="client")]
    db.session.add_all([category, client])
    workers = []
    for i in range(WORKERS):
        user = User(email=f"race-worker-{i}@test.coop", name=f"Racer {i}", password_hash=password_hash)
        user.role_rows = [UserRole(role="worker")] + ([UserRole(role="member")] if i % 2 else [])
        db.session.add(user)
        workers.append(user)
    db.session.flush()
    tokens = []
    for user in workers:
        token = secrets.token_urlsafe(32)
        db.session.add(ApiToken(user_id=user.id, token_digest=digest(token), expires_at=utcnow() + timedelta(days=1)))
        tokens.append((user.id, token))
    db.session.commit()
    return category.id, client.id, tokens


def _offered_job(category_id: int, client_id: int, worker_ids: list[int], days: int) -> int:
    """A job already offered to all 50 workers (a round no fan-out setting allows, hence set up directly)."""
    starts = local_start(days=days, hour=9)
    job = Job(client_id=client_id, category_id=category_id, title=f"Race {days}", neighbourhood="Downtown",
              lat_e6=37804400, lng_e6=-122271200, starts_at=starts, ends_at=starts + timedelta(hours=2),
              estimated_minutes=120, status="offered", offer_round=1)
    db.session.add(job)
    db.session.flush()
    db.session.add(JobEvent(job_id=job.id, actor_kind="system", action="offer", from_state="requested",
                            to_state="offered", reason="race test"))
    expires = utcnow() + timedelta(hours=1)
    db.session.add_all(Offer(job_id=job.id, worker_id=w, round=1, rate_cents=2500, distance_m=0, score_ppm=500_000,
                             expires_at=expires) for w in worker_ids)
    db.session.commit()
    return job.id


def _accept_all_at_once(base_url: str, job_id: int, tokens: list[tuple[int, str]]) -> list[tuple[int, int, dict]]:
    barrier = threading.Barrier(len(tokens))
    results: list[tuple[int, int, dict]] = []
    lock = threading.Lock()

    def accept(worker_id: int, token: str) -> None:
        request = urllib.request.Request(f"{base_url}/api/v1/jobs/{job_id}/accept", data=b"", method="POST",
                                         headers={"Authorization": f"Bearer {token}"})
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=120) as resp:
                outcome = (worker_id, resp.status, json.loads(resp.read()))
        except urllib.error.HTTPError as exc:
            outcome = (worker_id, exc.code, json.loads(exc.read() or b"{}"))
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=accept, args=pair) for pair in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    return results


def test_fifty_simultaneous_accepts_give_the_gig_to_exactly_one(live_server, password_hash):
    with live_server.app.app_context():
        category_id, client_id, tokens = _setup_people(password_hash)
    worker_ids = [w for w, _ in tokens]
    for round_no in range(ROUNDS):
        with live_server.app.app_context():
            job_id = _offered_job(category_id, client_id, worker_ids, days=2 + round_no)
        results = _accept_all_at_once(live_server.url, job_id, tokens)
        statuses = sorted(status for _, status, _ in results)
        assert len(results) == WORKERS
        assert statuses == [200] + [409] * (WORKERS - 1), (round_no, statuses, live_server.log.read_text()[-3000:])
        winner = next(w for w, status, _ in results if status == 200)
        assert all(body["error"]["code"] == "conflict" for _, status, body in results if status == 409)
        with live_server.app.app_context():
            job = db.session.get(Job, job_id)
            assert (job.status, job.worker_id) == ("accepted", winner)
            assert job.worker_was_member == (worker_ids.index(winner) % 2 == 1)
            counts = dict(db.session.execute(select(Offer.status, func.count()).where(Offer.job_id == job_id)
                                             .group_by(Offer.status)).all())
            assert counts == {"accepted": 1, "withdrawn": WORKERS - 1}
            accepted = db.session.scalar(select(Offer.worker_id).where(Offer.job_id == job_id,
                                                                       Offer.status == "accepted"))
            assert accepted == winner
            events = db.session.scalars(select(JobEvent.action).where(JobEvent.job_id == job_id)).all()
            assert events == ["offer", "accept"]
            db.session.remove()
