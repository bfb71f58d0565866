"""A passed proposal changes the co-op exactly once; a failed one changes nothing (issue 6 §4)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from governance_support import add_applicant, add_member, after, during, members
from sqlalchemy import func, select

from marketplace.models import AuditEvent, FeeRate, Membership, OfficerTerm, Proposal
from marketplace.models.base import utcnow
from marketplace.services import (
    billing,
    dividends,
    fees,
    governance,
    governance_ballots,
    governance_effects,
    membership,
    periods,
    settings,
)
from money_support import make_job


def pass_proposal(proposer, voters, kind, params, title="A decision for the members", choice="for"):
    """Table two weeks ago (so the window has ended), everyone votes ``choice``, close: returns the row."""
    opened = utcnow() - timedelta(days=20)
    proposal = governance.table_proposal(proposer.id, kind, title, "", params, now=opened)
    for voter in voters:
        governance_ballots.cast_vote(proposal.id, voter.id, choice, now=during(proposal))
    governance.close_proposal(proposal.id, after(proposal))
    return governance.get_proposal(proposal.id)


def effect_audits(proposal_id: int) -> int:
    return governance.db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "proposal.effect_applied", AuditEvent.subject_id == proposal_id))


def local_noon(day: date) -> datetime:
    return datetime.combine(day, time(12), ZoneInfo("America/Los_Angeles")).astimezone(UTC)


def test_passed_fee_change_prices_later_bookings_and_leaves_earlier_ones(db, make_user):
    voters = members(make_user, 3)
    today = fees.local_date()
    earlier = make_job(make_user("client"), voters[1], accepted_at=local_noon(today - timedelta(days=1)))
    proposal = pass_proposal(voters[0], voters, "fee_change",
                             {"percent": "3", "effective_from": (today - timedelta(days=20)).isoformat()})
    assert (proposal.status, proposal.effect_status) == ("passed", "applied")
    rate = db.session.scalar(select(FeeRate))
    assert rate.effective_from == today and rate.percent_bp == 300  # a vote never reaches back before today
    later = make_job(make_user("client"), voters[2], accepted_at=local_noon(today))
    assert billing.price_for_job(later).fee_cents == 180     # 3 % of 2 h at $30
    assert billing.price_for_job(earlier).fee_cents == 300   # the 5 % default it was booked with
    assert effect_audits(proposal.id) == 1


def test_the_effect_applies_once_even_if_closing_runs_again(db, make_user):
    voters = members(make_user, 2)
    proposal = pass_proposal(voters[0], voters, "fee_change",
                             {"percent": "4", "effective_from": (fees.local_date() + timedelta(days=3)).isoformat()})
    for _ in range(3):
        governance.close_due_proposals()
        assert governance_effects.apply_effect(proposal.id) == "skipped"
    governance.db.session.execute(
        governance.update(Proposal).where(Proposal.id == proposal.id).values(effect_status="pending"))
    governance.db.session.commit()
    # Even a re-opened claim cannot post a second rate for the same day: the fee service refuses it.
    assert governance_effects.apply_effect(proposal.id) == "failed"
    assert db.session.scalar(select(func.count()).select_from(FeeRate)) == 1


def test_a_failed_proposal_changes_nothing(db, make_user):
    voters = members(make_user, 3)
    proposal = pass_proposal(voters[0], voters, "fee_change",
                             {"percent": "9", "effective_from": fees.local_date().isoformat()}, choice="against")
    assert (proposal.status, proposal.effect_status) == ("failed", "none")
    assert db.session.scalar(select(func.count()).select_from(FeeRate)) == 0
    assert fees.current_fee_rate().percent == 5


def test_an_effect_the_service_refuses_is_recorded_as_failed(db, make_user):
    voters = members(make_user, 2)
    day = fees.local_date() + timedelta(days=5)
    fees.set_fee_rate("6", day, None, None, "deducted", None)
    proposal = pass_proposal(voters[0], voters, "fee_change", {"percent": "4", "effective_from": day.isoformat()})
    assert (proposal.status, proposal.effect_status) == ("passed", "failed")
    assert "already starts" in proposal.effect_detail
    assert [r.percent_bp for r in db.session.scalars(select(FeeRate))] == [600]


def _period_with_draft(make_user):
    treasurer = make_user("treasurer")
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), treasurer.id)
    draft, _ = periods.create_policy(period.id, treasurer.id, reserve_percent="20", hours_weight="1",
                                     earnings_weight="1", cash_percent="30")
    return treasurer, period, draft


def test_passed_policy_is_the_policy_the_run_uses(db, make_user):
    make_user("admin")  # the board member who signs the members' decision
    voters = members(make_user, 3)
    treasurer, period, draft = _period_with_draft(make_user)
    proposal = pass_proposal(voters[0], voters, "policy", {"policy_id": draft.id})
    assert proposal.effect_status == "applied", proposal.effect_detail
    assert periods.current_policy(period.id).id == draft.id
    periods.close_period(period.id, treasurer.id)
    run_vote = pass_proposal(voters[0], voters, "dividend_run", {"period_id": period.id})
    assert run_vote.effect_status == "applied", run_vote.effect_detail
    run = dividends.run_for_period(period.id)
    assert run.status == "approved" and run.policy_id == draft.id


def test_policy_effect_without_a_board_member_fails_cleanly(db, make_user):
    voters = members(make_user, 2)
    _, period, draft = _period_with_draft(make_user)
    proposal = pass_proposal(voters[0], voters, "policy", {"policy_id": draft.id})
    assert proposal.effect_status == "failed" and "board" in proposal.effect_detail
    assert periods.current_policy(period.id) is None
    admin = make_user("admin")
    assert governance_effects.retry_effect(proposal.id, admin.id) == "applied"
    assert periods.current_policy(period.id).id == draft.id


def test_admission_by_vote(db, make_user):
    settings.set_value("admission_by_vote", "1", date(2020, 1, 1))
    settings.set_value("membership_min_hours", "0", date(2020, 1, 1))
    settings.set_value("membership_min_months", "0", date(2020, 1, 1))
    db.session.commit()
    voters = members(make_user, 3)
    worker = make_user("worker", name="Wen Applicant")
    membership.apply(worker.id)
    proposal = db.session.scalar(select(Proposal).where(Proposal.kind == "admission"))
    assert proposal.secret and proposal.proposer_id is None and json.loads(proposal.payload)["member_id"] == worker.id
    for voter in voters:
        governance_ballots.cast_vote(proposal.id, voter.id, "for", now=during(proposal))
    assert governance.close_proposal(proposal.id, after(proposal)) == "passed"
    row = db.session.get(Membership, worker.id)
    assert row.status == "member" and row.member_number == 4 and row.joined_on == fees.local_date()
    assert worker.has_role("member")


def test_election_gives_and_takes_officer_roles(db, make_user):
    voters = members(make_user, 5)
    first = pass_proposal(voters[0], voters[:3], "election",
                          {"office": "treasurer", "seats": 1, "candidate_ids": [voters[1].id, voters[2].id]},
                          choice=str(voters[1].id))
    assert first.effect_status == "applied", first.effect_detail
    assert voters[1].has_role("treasurer")
    second = governance.table_proposal(voters[0].id, "election", "New treasurer", "",
                                       {"office": "treasurer", "seats": 1, "candidate_ids": [voters[2].id]},
                                       now=utcnow() - timedelta(days=20))
    for voter in voters[:4]:
        governance_ballots.cast_vote(second.id, voter.id, str(voters[2].id), now=during(second))
    governance.close_proposal(second.id, after(second))
    db.session.expire_all()
    assert voters[2].has_role("treasurer") and not voters[1].has_role("treasurer")
    terms = db.session.execute(select(OfficerTerm.member_id, OfficerTerm.ended_on).order_by(OfficerTerm.id)).all()
    assert terms == [(voters[1].id, fees.local_date()), (voters[2].id, None)]


@pytest.mark.parametrize("kind", ["policy", "dividend_run"])
def test_treasury_kinds_refuse_what_is_already_decided(db, make_user, kind):
    voter = add_member(make_user)
    admin = make_user("admin")
    _, period, draft = _period_with_draft(make_user)
    periods.approve_policy(draft.id, admin.id)
    params = {"policy_id": draft.id} if kind == "policy" else {"period_id": 999}
    with pytest.raises(governance.ValidationFailed):
        governance.table_proposal(voter.id, kind, "Decide it again", "", params)


def test_admission_vote_needs_an_applicant(db, make_user):
    voter = add_member(make_user)
    applicant = add_applicant(make_user)
    proposal = governance.table_proposal(voter.id, "admission", "Admit our colleague", "", {"member_id": applicant.id})
    assert proposal.secret
    with pytest.raises(governance.ValidationFailed):
        governance.table_proposal(voter.id, "admission", "Admit our colleague", "", {"member_id": applicant.id})
