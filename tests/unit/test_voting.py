"""Bylaw counting rules at their boundaries: quorum, thresholds, elections, windows, eligibility."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.domain import voting
from marketplace.domain.voting import ABSTAIN, AGAINST, FOR, Rules

MAJORITY = Rules(Fraction(25), Fraction(50))
TWO_THIRDS = Rules(Fraction(40), Fraction(200, 3))


@pytest.mark.parametrize(("voted", "eligible", "percent", "met"), [
    (25, 100, 25, True),     # exactly the quorum
    (24, 100, 25, False),    # one short
    (1, 3, Fraction(100, 3), True),   # a third of three members, exactly
    (0, 3, 0, True),         # a zero quorum is always met once anyone is eligible
    (5, 0, 25, False),       # an empty electorate never makes quorum
    (34, 100, Fraction(100, 3), True),
    (33, 100, Fraction(100, 3), False),
])
def test_quorum_boundaries(voted, eligible, percent, met):
    assert voting.quorum_met(voted, eligible, Fraction(percent)) is met


@pytest.mark.parametrize(("yes", "no", "passed"), [
    (51, 49, True), (50, 50, False), (1, 0, True), (0, 0, False), (0, 1, False),
])
def test_simple_majority_needs_more_for_than_against(yes, no, passed):
    assert voting.threshold_met(yes, no, Fraction(50)) is passed


@pytest.mark.parametrize(("yes", "no", "passed"), [
    (2, 1, True),      # exactly two-thirds
    (20, 10, True),
    (19, 10, False),   # 65.5 %
    (66, 34, False),   # 66 % is below two-thirds
    (67, 33, True),
])
def test_two_thirds_threshold_is_exact(yes, no, passed):
    assert voting.threshold_met(yes, no, Fraction(200, 3)) is passed


def test_abstentions_count_for_quorum_but_not_for_the_threshold():
    # 10 eligible, quorum 25 %: 1 for + 2 abstain = 3 voted (quorum met); 1 for, 0 against passes.
    result = voting.motion_outcome({FOR: 1, AGAINST: 0, ABSTAIN: 2}, 10, MAJORITY)
    assert result.passed and result.quorum_met
    assert result.turnout == Fraction(3, 10)
    short = voting.motion_outcome({FOR: 2, AGAINST: 0, ABSTAIN: 0}, 10, MAJORITY)
    assert not short.passed and not short.quorum_met and "No quorum" in short.reason


def test_motion_rejected_reports_the_counts():
    result = voting.motion_outcome({FOR: 3, AGAINST: 3}, 10, MAJORITY)
    assert not result.passed and result.quorum_met
    assert "3 for, 3 against" in result.reason


def test_two_thirds_motion_at_the_boundary():
    assert voting.motion_outcome({FOR: 6, AGAINST: 3}, 20, TWO_THIRDS).passed
    assert not voting.motion_outcome({FOR: 6, AGAINST: 4}, 20, TWO_THIRDS).passed
    # quorum 40 % of 20 = 8 ballots: 7 is one short even if all are for
    assert not voting.motion_outcome({FOR: 7}, 20, TWO_THIRDS).quorum_met


@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200), st.integers(1, 600))
def test_motion_outcome_agrees_with_the_rule_stated_in_integers(yes, no, abstain, eligible):
    result = voting.motion_outcome({FOR: yes, AGAINST: no, ABSTAIN: abstain}, eligible, TWO_THIRDS)
    expected = (yes + no + abstain) * 100 >= 40 * eligible and 3 * yes >= 2 * (yes + no) and yes > no
    assert result.passed is expected


def test_election_picks_the_most_voted_for_the_seats():
    result = voting.election_outcome({"7": 5, "8": 3, "9": 4, ABSTAIN: 1}, 2, 20, Rules(Fraction(25), Fraction(0)))
    assert result.passed and result.winners == ("7", "9")


def test_election_tie_for_the_last_seat_fails():
    result = voting.election_outcome({"7": 5, "8": 4, "9": 4}, 2, 20, Rules(Fraction(25), Fraction(0)))
    assert not result.passed and "tie" in result.reason


def test_election_threshold_and_quorum():
    rules = Rules(Fraction(25), Fraction(50))
    assert not voting.election_outcome({"7": 3, "8": 3, "9": 1}, 1, 20, rules).passed  # nobody has half
    assert voting.election_outcome({"7": 4, "8": 3}, 1, 20, rules).winners == ("7",)
    assert not voting.election_outcome({"7": 4}, 1, 20, rules).quorum_met  # 4 < 25 % of 20


def test_election_without_votes_for_a_candidate_fails():
    result = voting.election_outcome({"7": 0, ABSTAIN: 10}, 1, 20, Rules(Fraction(25), Fraction(0)))
    assert not result.passed


def test_window_is_half_open():
    opened = datetime(2026, 3, 1, 12, tzinfo=UTC)
    closes = opened + timedelta(days=7)
    assert voting.voting_open(opened, opened, closes)
    assert voting.voting_open(closes - timedelta(microseconds=1), opened, closes)
    assert not voting.voting_open(closes, opened, closes)
    assert not voting.voting_open(opened - timedelta(seconds=1), opened, closes)


def test_add_months_clamps_to_the_end_of_the_month():
    assert voting.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert voting.add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert voting.add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)


def test_application_eligibility_at_the_boundaries():
    since = date(2026, 1, 10)
    on_time = voting.application_eligibility(6000, since, date(2026, 4, 10), 100, 3)
    assert on_time.eligible
    early = voting.application_eligibility(6000, since, date(2026, 4, 9), 100, 3)
    assert early.hours_met and not early.months_met and not early.eligible
    short = voting.application_eligibility(5999, since, date(2026, 5, 1), 100, 3)
    assert not short.hours_met and not short.eligible


def test_membership_transitions_are_a_table():
    assert voting.next_membership_status("probationary", "apply") == "applicant"
    assert voting.next_membership_status("applicant", "admit") == "member"
    assert voting.next_membership_status("member", "expel") == "expelled"
    with pytest.raises(voting.IllegalMembershipChange):
        voting.next_membership_status("expelled", "apply")
    with pytest.raises(voting.IllegalMembershipChange):
        voting.next_membership_status("probationary", "admit")


def test_secret_kinds_and_percent_text():
    assert voting.is_secret("election") and voting.is_secret("admission")
    assert not voting.is_secret("fee_change")
    assert voting.percent_text(Fraction(200, 3)) == "66.67"
    assert voting.percent_text(Fraction(25)) == "25"
    assert voting.percent_text(Fraction(1, 8)) == "0.13"
