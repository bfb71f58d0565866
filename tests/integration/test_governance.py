"""Proposals and votes through the services: who may vote, when, how often, and how results are counted."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from governance_support import OPENED, add_applicant, add_member, after, during, members
from sqlalchemy import func, select

from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.models import AuditEvent, Notification, OutboxEmail, Participation, Proposal
from marketplace.services import governance, governance_ballots, governance_views, membership, settings


def table(proposer, kind="general", title="Paint the office green", params=None, now=OPENED):
    return governance.table_proposal(proposer.id, kind, title, "Because green is calming.", params, now=now)


def vote(proposal, voter, choice, **kw):
    kw.setdefault("now", during(proposal))
    return governance_ballots.cast_vote(proposal.id, voter.id, choice, **kw)


def test_tabling_freezes_rules_and_electorate(db, make_user):
    alice, bob = members(make_user, 2)
    add_member(make_user, paid=False)                      # share due, paid at once: not in good standing
    paying = add_member(make_user, paid=False, plan="instalments")  # paying by instalments: in good standing
    add_applicant(make_user)
    make_user("worker")
    proposal = table(alice)
    assert proposal.status == "open" and not proposal.secret
    assert proposal.eligible_count == 3
    assert proposal.closes_at - proposal.opened_at == timedelta(days=7)
    assert (proposal.quorum_percent, proposal.threshold_percent) == ("25", "50")
    assert [o.value for o in proposal.options] == ["for", "against", "abstain"]
    seats = set(db.session.scalars(select(Participation.member_id).where(Participation.proposal_id == proposal.id)))
    assert seats == {alice.id, bob.id, paying.id}


def test_only_members_in_good_standing_table_proposals(db, make_user):
    with pytest.raises(Forbidden):
        table(make_user("worker", "member"))   # the role alone, with no membership record
    with pytest.raises(Forbidden):
        table(add_member(make_user, paid=False))
    with pytest.raises(ValidationFailed) as err:
        table(add_member(make_user), title="Hi")
    assert "title" in err.value.fields


def test_votes_outside_the_window_are_refused(db, make_user):
    alice, bob = members(make_user, 2)
    proposal = table(alice)
    with pytest.raises(Conflict, match="not opened"):
        vote(proposal, bob, "for", now=proposal.opened_at - timedelta(seconds=1))
    with pytest.raises(Conflict, match="closed"):
        vote(proposal, bob, "for", now=proposal.closes_at)
    vote(proposal, bob, "for", now=proposal.closes_at - timedelta(seconds=1))
    governance.close_proposal(proposal.id, after(proposal))
    with pytest.raises(Conflict, match="closed"):
        vote(proposal, alice, "for", now=proposal.opened_at + timedelta(minutes=1))


def test_non_members_and_probationary_workers_cannot_vote(db, make_user):
    alice = add_member(make_user)
    proposal = table(alice)
    probationary = make_user("worker")
    client = make_user("client")
    applicant = add_applicant(make_user)
    role_only = make_user("worker", "member")
    late_joiner = add_member(make_user)  # admitted after the vote opened: not in its electorate
    for outsider in (probationary, client, applicant, role_only, late_joiner):
        with pytest.raises(Forbidden):
            vote(proposal, outsider, "for")
    assert governance.tally(db.session.get(Proposal, proposal.id)) == ({"for": 0, "against": 0, "abstain": 0}, 0)


def test_a_member_who_leaves_during_the_vote_can_no_longer_vote(db, make_user):
    alice, bob = members(make_user, 2)
    proposal = table(alice)
    membership.depart(bob.id, bob.id)
    with pytest.raises(Forbidden, match="no longer a member"):
        vote(proposal, bob, "for")


def test_unknown_choice_is_a_field_error(db, make_user):
    alice = add_member(make_user)
    proposal = table(alice)
    with pytest.raises(ValidationFailed) as err:
        vote(proposal, alice, "maybe")
    assert "choice" in err.value.fields


def test_an_open_vote_can_be_changed_and_counts_once(db, make_user):
    alice, bob = members(make_user, 2)
    proposal = table(alice)
    assert vote(proposal, bob, "against")["changed"] is False
    assert vote(proposal, bob, "for", now=during(proposal, 60))["changed"] is True
    counts, voted = governance.tally(db.session.get(Proposal, proposal.id))
    assert counts == {"for": 1, "against": 0, "abstain": 0} and voted == 1
    detail = governance_views.proposal_detail(proposal.id, alice.id, now=during(proposal))
    assert [r for r in detail["roll"] if r["voted"]] == [{"name": bob.name, "voted": True, "choice": "For"}]
    assert detail["options"][0]["votes"] == 1


@pytest.mark.parametrize(("votes", "passed"), [
    # 8 eligible, quorum 25 % = 2 ballots; simple majority of for/against
    (["for"], False),                          # 1 ballot: no quorum
    (["for", "abstain"], True),                # quorum exactly, 1-0
    (["for", "against"], False),               # tie
    (["for", "for", "against"], True),
    (["abstain", "abstain"], False),           # quorum but nobody decided
])
def test_quorum_and_majority_through_the_service(db, make_user, votes, passed):
    voters = members(make_user, 8)
    proposal = table(voters[0])
    for voter, choice in zip(voters, votes, strict=False):
        vote(proposal, voter, choice)
    assert governance.close_proposal(proposal.id, after(proposal)) == ("passed" if passed else "failed")
    row = db.session.get(Proposal, proposal.id)
    assert row.voted_count == len(votes) and row.effect_status == "none"


def test_two_thirds_threshold_from_the_bylaws(db, make_user):
    settings.set_value("vote_threshold_percent_general", "200/3", date(2026, 1, 1))
    settings.set_value("vote_quorum_percent_general", "50", date(2026, 1, 1))
    db.session.commit()
    voters = members(make_user, 6)
    carried = table(voters[0], title="Two thirds carried")
    rejected = table(voters[0], title="Two thirds rejected")
    for voter, choice in zip(voters, ["for", "for", "against"], strict=False):
        vote(carried, voter, choice)
    for voter, choice in zip(voters, ["for", "for", "against", "against", "for"], strict=False):
        vote(rejected, voter, choice)  # 3 of 5 is 60 %
    assert governance.close_proposal(carried.id, after(carried)) == "passed"
    assert governance.close_proposal(rejected.id, after(rejected)) == "failed"
    assert "66.67%" in db.session.get(Proposal, rejected.id).result_note


def test_closing_is_once_and_not_before_the_window_ends(db, make_user):
    alice, bob = members(make_user, 2)
    proposal = table(alice)
    vote(proposal, bob, "for")
    assert governance.close_proposal(proposal.id, proposal.closes_at - timedelta(seconds=1)) == "skipped"
    assert governance.close_due_proposals(proposal.closes_at - timedelta(seconds=1))["closed"] == []
    assert governance.close_due_proposals(after(proposal))["closed"] == [proposal.id]
    assert governance.close_due_proposals(after(proposal))["closed"] == []
    closes = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "proposal.closed", AuditEvent.subject_id == proposal.id))
    assert closes == 1


def test_announcement_reminder_and_results_reach_the_electorate(db, make_user):
    voters = members(make_user, 3)
    outsider = make_user("worker")
    proposal = table(voters[0])
    assert governance.announce(proposal.id) == 3
    assert governance.announce(proposal.id) == 0
    vote(proposal, voters[1], "for")
    assert governance.send_reminders(proposal.closes_at - timedelta(hours=30)) == 0  # too early
    assert governance.send_reminders(proposal.closes_at - timedelta(hours=2)) == 2  # only those who did not vote
    assert governance.send_reminders(proposal.closes_at - timedelta(hours=1)) == 0
    governance.close_proposal(proposal.id, after(proposal))
    kinds = dict(db.session.execute(select(Notification.kind, func.count()).group_by(Notification.kind)).all())
    assert kinds == {"vote.opened": 3, "vote.reminder": 2, "vote.result": 3}
    assert not db.session.scalar(select(Notification.id).where(Notification.user_id == outsider.id))
    result = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "vote.result").limit(1))
    assert "Turnout: 1 of 3 members" in result.body_text


def test_discussion_is_for_members_while_the_vote_is_open(db, make_user):
    alice, bob = members(make_user, 2)
    proposal = table(alice)
    governance.add_comment(proposal.id, bob.id, "I prefer blue.")
    with pytest.raises(Forbidden):
        governance.add_comment(proposal.id, make_user("client").id, "Me too")
    with pytest.raises(ValidationFailed):
        governance.add_comment(proposal.id, bob.id, "   ")
    governance.close_proposal(proposal.id, after(proposal))
    with pytest.raises(ValidationFailed):
        governance.add_comment(proposal.id, bob.id, "Too late")
    detail = governance_views.proposal_detail(proposal.id, alice.id)
    assert [c["body"] for c in detail["comments"]] == ["I prefer blue."]


def test_dashboard_lists_open_votes_and_past_decisions(db, make_user):
    alice, bob = members(make_user, 2)
    done = table(alice, title="An older decision")
    vote(done, bob, "for")
    governance.close_proposal(done.id, after(done))
    table(alice, title="A question still open")
    board = governance_views.dashboard(bob.id)
    assert [p["title"] for p in board["open"]] == ["A question still open"]
    assert board["open"][0]["can_vote"] and not board["open"][0]["has_voted"]
    assert [(p["title"], p["status"], p["turnout_percent"]) for p in board["past"]] == [
        ("An older decision", "passed", "50")]
    assert board["membership"]["status"] == "member"
    outsider = governance_views.dashboard(make_user("worker").id)
    assert not outsider["can_read"] and outsider["open"] == []


def test_payload_is_checked_per_kind(db, make_user):
    alice = add_member(make_user)
    with pytest.raises(ValidationFailed) as err:
        table(alice, "fee_change", params={"percent": "4.125", "effective_from": "2020-01-01"})
    assert set(err.value.fields) == {"percent", "effective_from"}
    with pytest.raises(ValidationFailed) as err:
        table(alice, "election", params={"office": "king", "seats": 1, "candidate_ids": [alice.id]})
    assert "office" in err.value.fields
    with pytest.raises(ValidationFailed):
        table(alice, "admission", params={"member_id": alice.id})
    with pytest.raises(ValidationFailed):
        table(alice, "nonsense")
    ok = table(alice, "fee_change", params={"percent": "4", "effective_from": "2026-03-02"})
    assert json.loads(ok.payload)["mode"] == "deducted"
