"""The gig lifecycle through the services: every allowed transition, every refused one, offers, rounds,
invitations, declines, withdrawals, timers, double-blind reviews, messages and object-level access."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import func, select

from marketplace.domain.gig_states import TRANSITIONS, Actor, GigAction, GigState
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, Notification, OutboxEmail, Review, User
from marketplace.models.base import utcnow
from marketplace.services import gigs, jobs, messages, offers, profiles, reviews, settings
from marketplace.services.matching import find_matches
from marketplace_helpers import (
    event_count,
    events_of,
    fresh,
    local_start,
    make_category,
    make_offers_overdue,
    make_worker,
    next_local,
    offers_of,
    post,
)

TABLE = {(t.source, t.action): t for t in TRANSITIONS}


@dataclass
class World:
    category: object
    client: object
    other_client: object
    admin: object
    workers: list
    stranger_worker: object


@pytest.fixture
def world(app, make_user):
    category = make_category(floor=2000)
    workers = [make_worker(make_user, category, rate=2500) for _ in range(3)]
    elsewhere = make_category()
    stranger = make_worker(make_user, elsewhere)
    return World(category, make_user("client"), make_user("client"), make_user("admin"), workers, stranger)


def reach(state: GigState, w: World) -> Job:
    """A job driven through the real services into ``state``."""
    if state is GigState.REQUESTED:
        return post(w.client, w.category, max_rate_cents=2000)  # nobody charges that little: no round goes out
    job = post(w.client, w.category)
    if state is GigState.OFFERED:
        return job
    if state is GigState.CANCELLED:
        return jobs.cancel_job(job.id, w.client.id)
    worker_id = offers_of(job.id, "pending")[0].worker_id
    job = offers.accept_offer(job.id, worker_id)
    if state is GigState.ACCEPTED:
        return job
    if state is GigState.NO_SHOW:
        return gigs.mark_no_show(job.id, w.client.id, now=job.starts_at + timedelta(hours=1))
    gigs.start_gig(job.id, worker_id)
    if state is GigState.IN_PROGRESS:
        return fresh(job.id)
    job = gigs.complete_gig(job.id, worker_id, 120)
    if state is GigState.COMPLETED:
        return job
    if state is GigState.DISPUTED:
        return gigs.dispute_gig(job.id, w.client.id, "Half the rooms were not done")
    job = gigs.confirm_gig(job.id, w.client.id)
    if state is GigState.CONFIRMED:
        return job
    reviews.write_review(job.id, w.client.id, 5, "Spotless")
    reviews.write_review(job.id, worker_id, 5, "Kind client")
    return fresh(job.id)


def snapshot(job_id: int):
    job = fresh(job_id)
    return (job.status, job.worker_id, job.offer_round, event_count(job_id),
            [(o.worker_id, o.status) for o in offers_of(job_id)])


def last_event(job_id: int):
    return events_of(job_id)[-1]


# ---------------------------------------------------------------- refused transitions


def _named_services(w: World):
    """The named service for each action, called by the party that would take it."""
    def worker_of(job):
        return job.worker_id or w.workers[0].id

    return {
        GigAction.OFFER: lambda job: offers.send_offer_round(job.id),
        GigAction.INVITE: lambda job: offers.invite_worker(job.id, w.client.id, w.workers[0].id),
        GigAction.ACCEPT: lambda job: offers.accept_offer(job.id, w.workers[0].id),
        GigAction.WITHDRAW: lambda job: gigs.withdraw_from_gig(job.id, worker_of(job), "sorry"),
        GigAction.START: lambda job: gigs.start_gig(job.id, worker_of(job)),
        GigAction.COMPLETE: lambda job: gigs.complete_gig(job.id, worker_of(job), 60),
        GigAction.CONFIRM: lambda job: gigs.confirm_gig(job.id, w.client.id),
        GigAction.DISPUTE: lambda job: gigs.dispute_gig(job.id, w.client.id, "not done"),
        GigAction.RESOLVE: lambda job: gigs.resolve_dispute(job.id, w.admin.id, "settled"),
        GigAction.REVIEW: lambda job: reviews.write_review(job.id, w.client.id, 4, "fine"),
        GigAction.CANCEL: lambda job: jobs.cancel_job(job.id, w.client.id, "plans changed"),
        GigAction.NO_SHOW: lambda job: gigs.mark_no_show(job.id, w.client.id, now=job.starts_at + timedelta(hours=1)),
        GigAction.EDIT: lambda job: jobs.edit_job(job.id, w.client.id, title="A new title"),
    }


@pytest.mark.parametrize("state", list(GigState))
def test_every_refused_transition_changes_nothing(world, state):
    """For each state: every action the table refuses, and every actor a row does not list, raises Conflict with
    the domain's message through ``transition``; the named services refuse the same actions; nothing changes."""
    job = reach(state, world)
    assert job.status == state.value
    for action in GigAction:
        row = TABLE.get((state, action))
        for actor in [Actor.SYSTEM] if row is None else [a for a in Actor if a not in row.actors]:
            before = snapshot(job.id)
            with pytest.raises(Conflict) as err:
                gigs.transition(job.id, action, actor, world.admin.id)
            assert ("cannot" if row is None else "Only") in err.value.message, (action, actor, err.value.message)
            assert snapshot(job.id) == before
    for action, call in _named_services(world).items():
        if (state, action) in TABLE or (action is GigAction.INVITE and state is GigState.OFFERED):
            continue  # allowed (inviting during a round closes the round first): tested below
        if action is GigAction.ACCEPT and job.worker_id == world.workers[0].id:
            continue  # the gig's own worker asking again gets the gig back: tested below
        before = snapshot(job.id)
        with pytest.raises((Conflict, Forbidden)) as err:
            call(fresh(job.id))
        assert err.value.message.strip(), (state, action)
        assert snapshot(job.id) == before, (state, action)


# ---------------------------------------------------------------- allowed transitions, one audit row each


def assert_step(job_id, before_events, action, actor, source, target, actor_id=None):
    events = events_of(job_id)
    new = events[before_events:]
    assert (new[0].action, new[0].actor_kind, new[0].from_state, new[0].to_state) == (
        action.value, actor.value, source.value, target.value)
    if actor_id is not None:
        assert new[0].actor_id == actor_id
    assert new[0].occurred_at is not None


def test_offer_from_requested_when_a_worker_appears(world, make_user):
    job = reach(GigState.REQUESTED, world)
    assert event_count(job.id) == 0
    cheap = make_worker(make_user, world.category, rate=2000)
    assert offers.send_offer_round(job.id) == 1
    assert fresh(job.id).status == "offered"
    assert_step(job.id, 0, GigAction.OFFER, Actor.SYSTEM, GigState.REQUESTED, GigState.OFFERED)
    assert [o.worker_id for o in offers_of(job.id, "pending")] == [cheap.id]


def test_invite_from_requested(world):
    job = post(world.client, world.category, invite_worker_id=world.workers[1].id)
    assert job.status == "offered"
    pending = offers_of(job.id, "pending")
    assert [(o.worker_id, o.invited) for o in pending] == [(world.workers[1].id, True)]
    assert_step(job.id, 0, GigAction.INVITE, Actor.CLIENT, GigState.REQUESTED, GigState.OFFERED, world.client.id)


def test_invite_from_an_open_round_withdraws_the_round(world):
    job = post(world.client, world.category)
    chosen = world.workers[2].id
    assert chosen in {o.worker_id for o in offers_of(job.id, "pending")}
    before = snapshot(job.id)
    with pytest.raises(Conflict, match="already has an open offer"):
        offers.invite_worker(job.id, world.client.id, chosen)
    assert snapshot(job.id) == before
    offers.decline_offer(job.id, chosen)
    events = event_count(job.id)
    offers.invite_worker(job.id, world.client.id, chosen)  # the client may still ask them personally
    steps = [(e.action, e.actor_kind, e.to_state) for e in events_of(job.id)[events:]]
    assert steps == [("expire_offers", "system", "requested"), ("invite", "client", "offered")]
    assert [(o.worker_id, o.invited) for o in offers_of(job.id, "pending")] == [(chosen, True)]
    assert {o.status for o in offers_of(job.id) if o.worker_id != chosen} == {"withdrawn"}


def test_invite_refuses_an_ineligible_worker_and_posts_nothing(world):
    count = db.session.scalar(select(func.count()).select_from(Job))
    with pytest.raises(ValidationFailed) as err:
        post(world.client, world.category, invite_worker_id=world.stranger_worker.id)
    assert "invite_worker_id" in err.value.fields
    assert db.session.scalar(select(func.count()).select_from(Job)) == count


def test_accept_withdraws_the_other_offers(world):
    job = post(world.client, world.category)
    winner = world.workers[0].id
    events = event_count(job.id)
    job = offers.accept_offer(job.id, winner)
    assert (job.status, job.worker_id, job.agreed_rate_cents, job.worker_was_member) == ("accepted", winner, 2500,
                                                                                           False)
    assert_step(job.id, events, GigAction.ACCEPT, Actor.WORKER, GigState.OFFERED, GigState.ACCEPTED, winner)
    assert sorted(o.status for o in offers_of(job.id)) == ["accepted", "withdrawn", "withdrawn"]
    assert offers.accept_offer(job.id, winner).id == job.id  # the winner's repeat
    assert event_count(job.id) == events + 1
    with pytest.raises(Conflict, match="Another worker"):
        offers.accept_offer(job.id, world.workers[1].id)
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(
        OutboxEmail.to_address == world.client.email, OutboxEmail.subject.like("Booked%"))) == 1


def test_expired_offers_go_to_the_next_round_then_back_to_requested(world, make_user):
    extra = [make_worker(make_user, world.category) for _ in range(2)]
    job = post(world.client, world.category)
    first = {o.worker_id for o in offers_of(job.id, "pending")}
    assert len(first) == 3
    make_offers_overdue(job.id)
    with pytest.raises(Conflict, match="expired"):
        offers.accept_offer(job.id, next(iter(first)))
    events = event_count(job.id)
    assert offers.expire_due_offers() == 3
    second = offers_of(job.id, "pending")
    assert {o.worker_id for o in second} == {w.id for w in world.workers + extra} - first
    assert {o.round for o in second} == {2} and fresh(job.id).offer_round == 2
    steps = [(e.action, e.actor_kind, e.to_state) for e in events_of(job.id)[events:]]
    assert steps == [("expire_offers", "system", "requested"), ("offer", "system", "offered")]
    assert offers.expire_due_offers() == 0  # nothing more is due
    make_offers_overdue(job.id)
    assert offers.expire_due_offers() == 2
    assert fresh(job.id).status == "requested"  # nobody left: the client is told
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == world.client.id, Notification.kind == "no_match")) == 1


def test_withdraw_sends_the_job_back_to_offering(world):
    job = post(world.client, world.category)
    quitter = world.workers[0].id
    offers.accept_offer(job.id, quitter)
    events = event_count(job.id)
    job = gigs.withdraw_from_gig(job.id, quitter, "I am ill")
    assert (job.status, job.worker_id, job.agreed_rate_cents) == ("offered", None, None)
    assert_step(job.id, events, GigAction.WITHDRAW, Actor.WORKER, GigState.ACCEPTED, GigState.OFFERED, quitter)
    assert last_event(job.id).reason == "I am ill"
    statuses = {o.worker_id: o.status for o in offers_of(job.id)}
    assert statuses[quitter] == "declined"
    assert {wid for wid, st in statuses.items() if st == "pending"} == {w.id for w in world.workers[1:]}
    other = world.workers[1].id
    assert offers.accept_offer(job.id, other).worker_id == other


def test_start_complete_confirm(world):
    job = reach(GigState.ACCEPTED, world)
    worker = job.worker_id
    n = event_count(job.id)
    gigs.start_gig(job.id, worker)
    assert_step(job.id, n, GigAction.START, Actor.WORKER, GigState.ACCEPTED, GigState.IN_PROGRESS, worker)
    job = gigs.complete_gig(job.id, worker, 135)
    assert (job.actual_minutes, job.completed_at is not None) == (135, True)
    assert_step(job.id, n + 1, GigAction.COMPLETE, Actor.WORKER, GigState.IN_PROGRESS, GigState.COMPLETED, worker)
    worked_before = profiles.hours_this_period(worker)["minutes_worked"]
    job = gigs.confirm_gig(job.id, world.client.id)
    assert_step(job.id, n + 2, GigAction.CONFIRM, Actor.CLIENT, GigState.COMPLETED, GigState.CONFIRMED,
                world.client.id)
    assert job.confirmed_at is not None
    assert profiles.hours_this_period(worker)["minutes_worked"] == worked_before + 135


def test_complete_needs_sensible_hours(world):
    job = reach(GigState.IN_PROGRESS, world)
    for bad in (0, -5, 1441, "2", True):
        with pytest.raises(ValidationFailed) as err:
            gigs.complete_gig(job.id, job.worker_id, bad)
        assert "hours" in err.value.fields
    assert fresh(job.id).status == "in_progress"


def test_dispute_and_resolve(world):
    job = reach(GigState.COMPLETED, world)
    with pytest.raises(ValidationFailed):
        gigs.dispute_gig(job.id, world.client.id, "  ")
    n = event_count(job.id)
    gigs.dispute_gig(job.id, world.client.id, "Two hours claimed, one worked")
    assert_step(job.id, n, GigAction.DISPUTE, Actor.CLIENT, GigState.COMPLETED, GigState.DISPUTED)
    with pytest.raises(Forbidden):
        gigs.resolve_dispute(job.id, world.client.id, "I decide")
    job = gigs.resolve_dispute(job.id, world.admin.id, "Agreed on the recorded hours")
    assert_step(job.id, n + 1, GigAction.RESOLVE, Actor.ADMIN, GigState.DISPUTED, GigState.CONFIRMED,
                world.admin.id)
    assert last_event(job.id).reason == "Agreed on the recorded hours"


def test_cancel_before_the_gig_starts(world):
    for state in (GigState.REQUESTED, GigState.OFFERED, GigState.ACCEPTED):
        for actor, actor_id in ((Actor.CLIENT, world.client.id), (Actor.ADMIN, world.admin.id)):
            job = reach(state, world)
            n = event_count(job.id)
            job = jobs.cancel_job(job.id, actor_id, "plans changed")
            assert job.status == "cancelled" and job.cancelled_at is not None
            assert_step(job.id, n, GigAction.CANCEL, actor, state, GigState.CANCELLED, actor_id)
            assert offers_of(job.id, "pending") == []
            assert jobs.cancellation_was_late(job) is False  # two days ahead: outside the 24 h window


def test_cancel_inside_the_window_is_late(world):
    job = post(world.client, world.category, starts_at=next_local(10))  # within 24 h
    offers.accept_offer(job.id, offers_of(job.id, "pending")[0].worker_id)
    job = jobs.cancel_job(job.id, world.client.id)
    assert jobs.cancellation_was_late(job) is True
    assert "late" in last_event(job.id).reason
    assert job.worker_id is not None  # kept on record for the cancellation policy


def test_cancel_and_edit_are_refused_once_the_work_starts(world):
    job = reach(GigState.IN_PROGRESS, world)
    before = snapshot(job.id)
    with pytest.raises(Conflict, match="cannot be cancelled"):
        jobs.cancel_job(job.id, world.client.id)
    with pytest.raises(Conflict, match="cannot be edited"):
        jobs.edit_job(job.id, world.client.id, title="Changed")
    assert snapshot(job.id) == before


def test_edit_is_refused_after_acceptance(world):
    job = reach(GigState.ACCEPTED, world)
    before = snapshot(job.id)
    with pytest.raises(Conflict, match="accepted cannot be edited"):
        jobs.edit_job(job.id, world.client.id, hours="3")
    assert snapshot(job.id) == before


def test_no_show_only_after_the_start(world):
    job = reach(GigState.ACCEPTED, world)
    before = snapshot(job.id)
    with pytest.raises(Conflict, match="start time"):
        gigs.mark_no_show(job.id, world.client.id)
    assert snapshot(job.id) == before
    n = event_count(job.id)
    job = gigs.mark_no_show(job.id, world.admin.id, now=job.starts_at + timedelta(minutes=30))
    assert_step(job.id, n, GigAction.NO_SHOW, Actor.ADMIN, GigState.ACCEPTED, GigState.NO_SHOW, world.admin.id)


def test_edit_before_acceptance(world):
    job = post(world.client, world.category)
    first = {o.worker_id: o.offered_at for o in offers_of(job.id, "pending")}
    n = event_count(job.id)
    job = jobs.edit_job(job.id, world.client.id, title="Deep clean", description="Three rooms")
    assert (job.title, job.status) == ("Deep clean", "offered")
    assert_step(job.id, n, GigAction.EDIT, Actor.CLIENT, GigState.OFFERED, GigState.OFFERED, world.client.id)
    assert {o.worker_id: o.offered_at for o in offers_of(job.id, "pending")} == first  # details only: offers stay
    later = local_start(days=3, hour=14)
    job = jobs.edit_job(job.id, world.client.id, starts_at=later, hours="3:30")
    assert (job.starts_at, job.estimated_minutes) == (later, 210)
    steps = [(e.action, e.to_state) for e in events_of(job.id)[n + 1:]]
    assert steps == [("edit", "offered"), ("expire_offers", "requested"), ("offer", "offered")]
    assert {o.round for o in offers_of(job.id, "pending")} == {2}
    with pytest.raises(ValidationFailed) as err:
        jobs.edit_job(job.id, world.client.id, hours="0.2", starts_at=utcnow() - timedelta(hours=1))
    assert set(err.value.fields) == {"hours", "starts_at"}
    with pytest.raises(NotFound):
        jobs.edit_job(job.id, world.other_client.id, title="Mine now")


def test_post_job_validation(world):
    with pytest.raises(ValidationFailed) as err:
        jobs.post_job(world.client.id, category="nope", title="", neighbourhood="Atlantis",
                      starts_at=utcnow() - timedelta(days=1), hours="13", max_rate_cents=5)
    assert set(err.value.fields) >= {"category", "title", "neighbourhood", "starts_at", "hours"}
    with pytest.raises(ValidationFailed) as err:
        post(world.client, world.category, max_rate_cents=1999, hours="1.1")
    assert "floor" in err.value.fields["max_rate_cents"] and "hours" in err.value.fields
    with pytest.raises(Forbidden):
        post(world.workers[0], world.category)
    job = post(world.client, world.category, neighbourhood="", lat=37.8044, lng=-122.2712, hours="1:45")
    assert (job.lat_e6, job.estimated_minutes, job.neighbourhood) == (37804400, 105, "Downtown")
    job = jobs.edit_job(job.id, world.client.id, title="Kept the odd length")  # 7/4 h survives an edit
    assert (job.estimated_minutes, job.lat_e6) == (105, 37804400)
    for text, minutes in (("2.25", 135), ("0:30", 30), (Fraction(23, 2), 690), (3, 180)):
        assert jobs.parse_hours(text) == minutes
    for bad in ("2.1", "1:10", "nan", "12.25", "", None, True, "1e400"):
        with pytest.raises(ValidationFailed):
            jobs.parse_hours(bad)


# ---------------------------------------------------------------- offers and fairness


def test_offers_go_to_the_top_k_with_a_deadline(world, make_user):
    for _ in range(3):
        make_worker(make_user, world.category)
    yesterday = utcnow().date() - timedelta(days=1)
    settings.set_value("offer_fanout", "2", yesterday)
    settings.set_value("offer_deadline_minutes", "30", yesterday)
    db.session.commit()
    start = local_start()
    probe = Job(client_id=world.client.id, category_id=world.category.id, lat_e6=37804400, lng_e6=-122271200,
                starts_at=start, ends_at=start + timedelta(hours=2), estimated_minutes=120, max_rate_cents=None)
    expected = {m.worker_id for m in find_matches(probe, limit=2)}
    before = utcnow()
    job = post(world.client, world.category, starts_at=start)
    pending = offers_of(job.id, "pending")
    assert {o.worker_id for o in pending} == expected and len(expected) == 2
    for offer in pending:
        assert before + timedelta(minutes=30) <= offer.expires_at <= utcnow() + timedelta(minutes=30)
        assert offer.rate_cents == 2500 and offer.reasons and offer.round == 1
        assert profiles.hours_this_period(offer.worker_id)["minutes_offered"] == 120
    emails = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.like("New offer%"))).all()
    assert sorted(emails) == sorted(db.session.get(User, o.worker_id).email for o in pending)


def test_the_deadline_never_runs_past_the_start(world):
    settings.set_value("offer_deadline_minutes", "2880", utcnow().date() - timedelta(days=1))
    db.session.commit()
    job = post(world.client, world.category, starts_at=local_start(days=1))
    pending = offers_of(job.id, "pending")
    assert pending and all(o.expires_at == job.starts_at for o in pending)


def test_declining_carries_no_penalty(world):
    job = post(world.client, world.category)
    decliner = world.workers[0].id
    probe = post(world.other_client, world.category, starts_at=local_start(days=5))
    score_before = {m.worker_id: m.score for m in find_matches(probe)}[decliner]
    hours_before = profiles.hours_this_period(decliner)
    offer = offers.decline_offer(job.id, decliner)
    assert offer.status == "declined"
    assert offers.decline_offer(job.id, decliner).status == "declined"  # twice is harmless
    assert profiles.hours_this_period(decliner) == hours_before
    assert {m.worker_id: m.score for m in find_matches(probe)}[decliner] == score_before
    later = post(world.client, world.category, starts_at=local_start(days=6))
    assert decliner in {o.worker_id for o in offers_of(later.id, "pending")}
    assert offers.accept_offer(later.id, decliner).worker_id == decliner


def test_when_everyone_declines_the_next_round_goes_out_at_once(world, make_user):
    late = make_worker(make_user, world.category)
    job = post(world.client, world.category)
    for offer in offers_of(job.id, "pending"):
        offers.decline_offer(job.id, offer.worker_id)
    assert [o.worker_id for o in offers_of(job.id, "pending")] == [late.id]
    assert fresh(job.id).status == "offered"
    offers.decline_offer(job.id, late.id)
    assert fresh(job.id).status == "requested"


def test_decline_and_accept_by_strangers(world, make_user):
    job = post(world.client, world.category)
    with pytest.raises(NotFound):
        offers.decline_offer(job.id, world.stranger_worker.id)
    with pytest.raises(NotFound):
        offers.accept_offer(job.id, world.stranger_worker.id)
    colleague = make_worker(make_user, world.category, windows=[])  # same service, never available
    with pytest.raises(Forbidden, match="no offer"):
        offers.accept_offer(job.id, colleague.id)


# ---------------------------------------------------------------- timers


def test_auto_confirm_after_the_window(world):
    job = reach(GigState.COMPLETED, world)
    done = fresh(job.id).completed_at
    assert gigs.auto_confirm_due(now=done + timedelta(hours=47, minutes=59)) == 0
    assert gigs.auto_confirm_due(now=done + timedelta(hours=48)) == 1
    job = fresh(job.id)
    assert job.status == "confirmed"
    assert (last_event(job.id).actor_kind, last_event(job.id).actor_id) == ("system", None)
    assert gigs.auto_confirm_due(now=done + timedelta(hours=49)) == 0


def test_dispute_is_refused_after_the_window(world):
    job = reach(GigState.COMPLETED, world)
    fresh(job.id).completed_at = utcnow() - timedelta(hours=49)
    db.session.commit()
    with pytest.raises(Conflict, match="48 hours"):
        gigs.dispute_gig(job.id, world.client.id, "too late")
    assert fresh(job.id).status == "completed"


# ---------------------------------------------------------------- reviews


def test_reviews_are_double_blind_and_roll_up(world):
    job = reach(GigState.CONFIRMED, world)
    worker = job.worker_id
    with pytest.raises(ValidationFailed) as err:
        reviews.write_review(job.id, world.client.id, 6, "")
    assert set(err.value.fields) == {"stars", "body"}
    reviews.write_review(job.id, world.client.id, 4, "Good work")
    assert reviews.reviews_for_viewer(job.id, worker) == []  # hidden from the other side
    assert [r.stars for r in reviews.reviews_for_viewer(job.id, world.client.id)] == [4]
    assert profiles.get_profile(worker).rating_count == 0
    with pytest.raises(Conflict, match="already"):
        reviews.write_review(job.id, world.client.id, 5, "Again")
    n = event_count(job.id)
    reviews.write_review(job.id, worker, 5, "Clear instructions")
    assert_step(job.id, n, GigAction.REVIEW, Actor.SYSTEM, GigState.CONFIRMED, GigState.REVIEWED)
    published = reviews.reviews_for_viewer(job.id, None)
    assert sorted(r.stars for r in published) == [4, 5] and all(r.published_at for r in published)
    profile = profiles.get_profile(worker)
    db.session.refresh(profile)
    assert (profile.rating_sum, profile.rating_count, profile.rating) == (4, 1, 4.0)


def test_reviews_publish_after_the_blind_period(world):
    job = reach(GigState.CONFIRMED, world)
    with pytest.raises(Conflict, match="confirmed"):
        reviews.write_review(reach(GigState.COMPLETED, world).id, world.client.id, 3, "early")
    reviews.write_review(job.id, world.client.id, 2, "Late and rushed")
    confirmed = fresh(job.id).confirmed_at
    assert reviews.publish_due_reviews(now=confirmed + timedelta(days=6)) == 0
    assert reviews.publish_due_reviews(now=confirmed + timedelta(days=7)) == 1
    job = fresh(job.id)
    assert job.status == "reviewed"
    assert profiles.get_profile(job.worker_id).rating_count == 1
    assert reviews.publish_due_reviews(now=confirmed + timedelta(days=8)) == 0
    with pytest.raises(Conflict, match="closed"):
        reviews.write_review(job.id, job.worker_id, 5, "too late")
    assert db.session.scalar(select(func.count()).select_from(Review).where(Review.job_id == job.id)) == 1


# ---------------------------------------------------------------- messages and access


def test_messages_only_between_client_and_assigned_worker(world):
    job = post(world.client, world.category)
    with pytest.raises(Conflict, match="accepted"):
        messages.send_message(job.id, world.client.id, "Hello?")
    worker, loser = world.workers[0].id, world.workers[1].id
    offers.accept_offer(job.id, worker)
    messages.send_message(job.id, world.client.id, "The key is under the mat")
    messages.send_message(job.id, worker, "Thanks, see you at ten")
    with pytest.raises(Forbidden):
        messages.send_message(job.id, loser, "Pick me instead")
    with pytest.raises(NotFound):
        messages.send_message(job.id, world.other_client.id, "Hi")
    with pytest.raises(ValidationFailed):
        messages.send_message(job.id, worker, "   ")
    assert [m.body for m in messages.thread(job.id, worker)] == ["The key is under the mat",
                                                                 "Thanks, see you at ten"]
    assert len(messages.thread(job.id, world.admin.id)) == 2
    with pytest.raises(Forbidden):
        messages.thread(job.id, loser)
    with pytest.raises(NotFound):
        messages.thread(job.id, world.stranger_worker.id)
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == worker, Notification.kind == "message")) == 1


def test_object_level_access(world):
    job = post(world.client, world.category)
    offered = world.workers[0]
    with pytest.raises(NotFound):
        jobs.job_for_viewer(job.id, world.other_client)
    with pytest.raises(NotFound):
        jobs.job_for_viewer(job.id, world.stranger_worker)
    with pytest.raises(NotFound):
        jobs.job_for_viewer(999_999, world.admin)
    assert jobs.job_for_viewer(job.id, offered).id == job.id
    assert not jobs.can_see_address(job, offered)
    assert not jobs.can_see_address(job, world.other_client)
    assert jobs.can_see_address(job, world.client) and jobs.can_see_address(job, world.admin)
    job = offers.accept_offer(job.id, offered.id)
    assert jobs.can_see_address(job, offered)
    assert not jobs.can_see_address(job, world.workers[1])
    before = snapshot(job.id)
    with pytest.raises(Forbidden):
        gigs.start_gig(job.id, world.workers[1].id)  # offered once, never assigned
    with pytest.raises(NotFound):
        gigs.start_gig(job.id, world.stranger_worker.id)
    with pytest.raises(NotFound):
        jobs.cancel_job(job.id, world.other_client.id)
    with pytest.raises(Forbidden):
        gigs.confirm_gig(job.id, offered.id)
    assert snapshot(job.id) == before
    assert jobs.jobs_for_client(world.other_client.id) == []
    assert [j.id for j in jobs.jobs_for_client(world.client.id, "accepted")] == [job.id]


def test_open_requests_for_a_worker(world, make_user):
    open_job = post(world.client, world.category, max_rate_cents=2000)  # requested, nobody offered
    far = post(world.client, world.category, neighbourhood="Elmhurst", max_rate_cents=2000)
    near_worker = make_worker(make_user, world.category, rate=2600, radius_km=3)
    page = jobs.open_requests_for_worker(near_worker.id, 1)
    ids = [j.id for j in page.items]
    assert open_job.id in ids and far.id not in ids  # Elmhurst is about 14 km from Downtown
    assert jobs.open_requests_for_worker(world.stranger_worker.id, 1).items == []
