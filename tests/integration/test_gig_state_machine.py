"""Random sequences of marketplace actions against the real database never break the gig invariants.

A small population (two clients, four workers, an admin, one service of its own per example) posts, offers,
accepts, declines, expires, withdraws, works, confirms, disputes, cancels, reviews and edits jobs in random
order. After every step: at most one worker holds each gig (``worker_id`` agrees with the status and with
exactly one accepted offer), no worker holds two overlapping booked gigs, the JobEvent trail replays from
'requested' to the current status through legal transitions only, and pending offers exist exactly while the
job is offered. A refused action raises an app error and changes nothing.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from marketplace.domain.gig_states import BOOKED_STATES, GigState, next_state
from marketplace.errors import AppError
from marketplace.extensions import db
from marketplace.models import Job, JobEvent, Offer
from marketplace.models.base import utcnow
from marketplace.services import gigs, jobs, offers, reviews
from marketplace_helpers import local_start, make_category, make_offers_overdue, make_worker

HELD = {s.value for s in gigs.WORKER_HELD}
UNASSIGNED = {GigState.REQUESTED.value, GigState.OFFERED.value}
SLOTS = [(2, 10), (2, 11), (3, 9)]  # the first two overlap: accepting both must be refused
_examples = itertools.count(1)
# Steps forward are drawn more often than the rest, so random histories get deep into the lifecycle.
# "advance" takes the natural next step with the right person, so random histories get deep into the lifecycle;
# every other action is drawn as often, with the right or a wrong person, in whatever state the gig is.
ACTIONS = ["advance"] * 8 + ["accept", "decline", "invite", "withdraw", "start", "complete", "confirm", "dispute",
                             "resolve", "cancel", "no_show", "review", "edit", "expire", "auto_confirm",
                             "publish_reviews"]
NEXT_STEP = {"offered": "accept", "accepted": "start", "in_progress": "complete", "completed": "confirm",
             "disputed": "resolve", "confirmed": "review", "requested": "invite"}


def _expire(job_id: int) -> None:
    make_offers_overdue(job_id)
    offers.expire_due_offers()


TIMERS = {
    "expire": _expire,
    "auto_confirm": lambda job_id: gigs.auto_confirm_due(now=utcnow() + timedelta(hours=49)),
    "publish_reviews": lambda job_id: reviews.publish_due_reviews(now=utcnow() + timedelta(days=8)),
}


def check_job(job: Job) -> None:
    events = db.session.scalars(select(JobEvent).where(JobEvent.job_id == job.id).order_by(JobEvent.id)).all()
    state = GigState.REQUESTED
    for event in events:
        assert event.from_state == state.value, f"job {job.id}: trail jumps from {state} to {event.from_state}"
        assert next_state(state, event.action, event.actor_kind).value == event.to_state
        state = GigState(event.to_state)
    assert state.value == job.status, f"job {job.id}: trail ends at {state}, status is {job.status}"
    statuses = db.session.execute(select(Offer.worker_id, Offer.status).where(Offer.job_id == job.id)).all()
    pending = [w for w, s in statuses if s == "pending"]
    accepted = [w for w, s in statuses if s == "accepted"]
    assert bool(pending) == (job.status == GigState.OFFERED.value), (job.status, statuses)
    assert len(accepted) <= 1
    if job.status in UNASSIGNED:
        assert job.worker_id is None and accepted == []
    elif job.status in HELD:
        assert accepted == [job.worker_id], (job.status, job.worker_id, statuses)
    else:  # cancelled or no-show: the worker who held it, if any, stays on record
        assert job.worker_id in ([None] if not accepted else accepted)


def test_random_gig_histories_keep_the_invariants(app, make_user):
    clients, admin = [make_user("client") for _ in range(2)], make_user("admin")

    class GigMachine(RuleBasedStateMachine):
        gig_ids = Bundle("gig_ids")

        def __init__(self):
            super().__init__()
            # A service of its own and fresh workers per example: earlier examples' gigs cannot interfere.
            self.category = make_category(f"sm-{next(_examples)}")
            self.workers = [make_worker(make_user, self.category) for _ in range(4)]
            self.clients, self.admin = clients, admin
            self.job_ids: list[int] = []

        def attempt(self, job_id: int, call) -> None:
            """Run a service call; a refusal must be an app error that leaves the gig untouched."""
            before = self.snapshot(job_id)
            try:
                call()
            except AppError as exc:
                assert exc.message
                assert self.snapshot(job_id) == before, f"refused {call} still changed the gig"

        @staticmethod
        def snapshot(job_id: int):
            db.session.expire_all()
            job = db.session.get(Job, job_id)
            events = db.session.scalar(select(JobEvent.id).where(JobEvent.job_id == job_id)
                                       .order_by(JobEvent.id.desc()).limit(1))
            offers_now = db.session.execute(select(Offer.worker_id, Offer.status).where(Offer.job_id == job_id)
                                            .order_by(Offer.id)).all()
            return job.status, job.worker_id, events, offers_now

        def job(self, job_id: int) -> Job:
            db.session.expire_all()
            return db.session.get(Job, job_id)

        def worker_id(self, index: int, job_id: int) -> int:
            """Mostly the gig's own worker (when it has one), sometimes another worker of the population."""
            job = self.job(job_id)
            return job.worker_id if index < 3 and job.worker_id else self.workers[index % 4].id

        def offeree(self, index: int, job_id: int) -> int:
            """Mostly a worker holding a pending offer for the job, sometimes anyone."""
            holders = db.session.scalars(select(Offer.worker_id).where(
                Offer.job_id == job_id, Offer.status == "pending").order_by(Offer.id)).all()
            return holders[index % len(holders)] if holders and index < 3 else self.workers[index % 4].id

        def _post(self, client: int, slot: int, invite: int | None):
            days, hour = SLOTS[slot]
            try:
                job = jobs.post_job(self.clients[client].id, category=self.category.slug, title="Tidy up",
                                    neighbourhood="Downtown", address="1 Home St", starts_at=local_start(days, hour),
                                    hours="2", invite_worker_id=None if invite is None else self.workers[invite].id)
            except AppError:
                return multiple()
            self.job_ids.append(job.id)
            return job.id

        @initialize(target=gig_ids)
        def first_job(self):
            return self._post(0, 0, None)

        @precondition(lambda self: len(self.job_ids) < 2)
        @rule(target=gig_ids, client=st.integers(0, 1), slot=st.integers(0, 2),
              invite=st.none() | st.integers(0, 3))
        def post(self, client, slot, invite):
            return self._post(client, slot, invite)

        def call_for(self, action: str, job: int, who: int, flag: bool):
            """The service call for ``action``; ``who`` and ``flag`` pick the actor (sometimes the wrong one)."""
            client = self.job(job).client_id
            worker, offeree = self.worker_id(who, job), self.offeree(who, job)
            boss = self.admin.id if flag else client
            days, hour = SLOTS[who % len(SLOTS)]
            return {
                "accept": lambda: offers.accept_offer(job, offeree),
                "decline": lambda: offers.decline_offer(job, offeree),
                "invite": lambda: offers.invite_worker(job, client, self.workers[who].id),
                "withdraw": lambda: gigs.withdraw_from_gig(job, worker, "cannot make it"),
                "start": lambda: gigs.start_gig(job, worker),
                "complete": lambda: gigs.complete_gig(job, worker, [120, 45, 0, 1500][who]),
                "confirm": lambda: gigs.confirm_gig(job, worker if who == 3 else client),
                "dispute": lambda: gigs.dispute_gig(job, client, "Only half done" if flag else ""),
                "resolve": lambda: gigs.resolve_dispute(job, boss, "Settled on the phone"),
                "cancel": lambda: jobs.cancel_job(job, boss, "no longer needed"),
                "no_show": lambda: gigs.mark_no_show(job, client, now=self.job(job).starts_at + timedelta(hours=1)),
                "review": lambda: reviews.write_review(job, client if flag else worker, who + 2, "Thanks"),
                "edit": lambda: jobs.edit_job(job, client, starts_at=local_start(days, hour)),
            }[action]

        @rule(job=gig_ids, action=st.sampled_from(ACTIONS), who=st.integers(0, 3), flag=st.booleans())
        def act(self, job, action, who, flag):
            if action == "advance":
                status = self.job(job).status
                action = "dispute" if status == "completed" and not flag else NEXT_STEP.get(status, "edit")
                who, flag = 0, flag if action == "review" else True
            if action in TIMERS:
                TIMERS[action](job)  # the beat's timers: they never refuse, they do what is due
            else:
                self.attempt(job, self.call_for(action, job, who, flag))

        @invariant()
        def gigs_are_consistent(self):
            db.session.expire_all()
            booked: dict[int, list[Job]] = {}
            for job_id in self.job_ids:
                job = db.session.get(Job, job_id)
                check_job(job)
                if job.status in {s.value for s in BOOKED_STATES}:
                    booked.setdefault(job.worker_id, []).append(job)
            for held in booked.values():
                for a, b in itertools.combinations(held, 2):
                    assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), "a worker is double-booked"

    run_state_machine_as_test(GigMachine, settings=settings(max_examples=30, stateful_step_count=25,
                                                            deadline=None, database=None))
