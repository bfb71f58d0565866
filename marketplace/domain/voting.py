"""Bylaw rules for membership and member votes: pure functions over exact numbers (issue 6).

Proposal kinds and what a ballot offers:

=============  ==============================================  ======  =======================
kind           what passing it does                            ballot  options
=============  ==============================================  ======  =======================
general        nothing automatic (a resolution on the record)  open    for / against / abstain
fee_change     a new dated co-op fee rate                      open    for / against / abstain
policy         approves a period's allocation policy version   open    for / against / abstain
dividend_run   approves the closed period's dividend run       open    for / against / abstain
admission      admits an applicant as a member                 secret  for / against / abstain
election       gives the winners an officer role               secret  one per candidate + abstain
=============  ==============================================  ======  =======================

Counting (every percentage is a bylaw setting, read as an exact ``Fraction``):

- **Quorum**: ballots cast (abstentions included) ≥ quorum% × members eligible when the vote opened.
  With nobody eligible there is no quorum.
- **Motions** (every kind but elections): abstentions count for quorum only. A motion passes when the
  votes for are at least threshold% of the votes for and against *and* outnumber the votes against, so a
  50% threshold means a strict majority (a tie fails) and 200/3 means at least two-thirds.
- **Elections**: the ``seats`` candidates with the most votes win, each needing at least threshold% of the
  votes cast for candidates (0 = plurality) and at least one vote. A tie for the last seat elects nobody
  for that seat: the election fails and must be held again.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction

GENERAL = "general"
FEE_CHANGE = "fee_change"
POLICY = "policy"
DIVIDEND_RUN = "dividend_run"
ADMISSION = "admission"
ELECTION = "election"

KIND_LABELS = {
    GENERAL: "General resolution",
    FEE_CHANGE: "Change of the co-op fee",
    POLICY: "Allocation policy of a period",
    DIVIDEND_RUN: "Approval of a dividend run",
    ADMISSION: "Admission of a member",
    ELECTION: "Election of officers",
}
KINDS = tuple(KIND_LABELS)
SECRET_KINDS = frozenset({ADMISSION, ELECTION})

FOR, AGAINST, ABSTAIN = "for", "against", "abstain"
MOTION_OPTIONS = ((FOR, "For"), (AGAINST, "Against"), (ABSTAIN, "Abstain"))

# Offices members elect, and the app role each one carries ("board" is the admin role of the app).
OFFICES = {"board": ("Board member", "admin"), "treasurer": ("Treasurer", "treasurer")}

# Membership: statuses and the transitions between them, as data.
PROBATIONARY, APPLICANT, MEMBER, LEFT, EXPELLED = "probationary", "applicant", "member", "left", "expelled"
MEMBERSHIP_STATUSES = (PROBATIONARY, APPLICANT, MEMBER, LEFT, EXPELLED)
MEMBERSHIP_TRANSITIONS: dict[tuple[str, str], str] = {
    (PROBATIONARY, "apply"): APPLICANT,
    (LEFT, "apply"): APPLICANT,
    (APPLICANT, "admit"): MEMBER,
    (APPLICANT, "decline"): PROBATIONARY,
    (APPLICANT, "withdraw"): PROBATIONARY,
    (MEMBER, "leave"): LEFT,
    (MEMBER, "expel"): EXPELLED,
}
SHARE_PLANS = ("lump", "instalments")


class IllegalMembershipChange(ValueError):
    """A membership action that the current status does not allow."""


def next_membership_status(status: str, action: str) -> str:
    """The status after ``action``; IllegalMembershipChange when the table has no such transition."""
    try:
        return MEMBERSHIP_TRANSITIONS[(status, action)]
    except KeyError as exc:
        raise IllegalMembershipChange(f"A membership that is {status} cannot {action}.") from exc


def is_secret(kind: str) -> bool:
    """Whether the kind votes by secret ballot (people questions: admissions and elections)."""
    return kind in SECRET_KINDS


@dataclass(frozen=True)
class Rules:
    """A kind's bylaw rules, frozen on the proposal when it opens."""

    quorum_percent: Fraction
    threshold_percent: Fraction


@dataclass(frozen=True)
class Outcome:
    passed: bool
    reason: str
    quorum_met: bool
    turnout: Fraction  # share of the eligible members who voted, 0..1
    winners: tuple[str, ...] = field(default_factory=tuple)


def turnout(voted: int, eligible: int) -> Fraction:
    """Ballots cast as a share of the members eligible (0 when nobody was eligible)."""
    return Fraction(voted, eligible) if eligible > 0 else Fraction(0)


def quorum_met(voted: int, eligible: int, quorum_percent: Fraction) -> bool:
    """voted ≥ quorum% × eligible, exactly; an empty electorate never makes quorum."""
    if eligible <= 0:
        return False
    return voted * 100 >= quorum_percent * eligible


def threshold_met(votes_for: int, votes_against: int, threshold_percent: Fraction) -> bool:
    """for ≥ threshold% of (for + against) and for > against; no votes either way fails."""
    decided = votes_for + votes_against
    if decided == 0:
        return False
    return votes_for * 100 >= threshold_percent * decided and votes_for > votes_against


def motion_outcome(counts: Mapping[str, int], eligible: int, rules: Rules) -> Outcome:
    """The result of a for/against/abstain vote under ``rules`` (see the module docstring)."""
    votes_for, against, abstain = (int(counts.get(k, 0)) for k in (FOR, AGAINST, ABSTAIN))
    voted = votes_for + against + abstain
    share = turnout(voted, eligible)
    if not quorum_met(voted, eligible, rules.quorum_percent):
        return Outcome(False, f"No quorum: {voted} of {eligible} voted, {percent_text(rules.quorum_percent)}% "
                              "needed.", False, share)
    if not threshold_met(votes_for, against, rules.threshold_percent):
        return Outcome(False, f"Rejected: {votes_for} for, {against} against "
                              f"({percent_text(rules.threshold_percent)}% of the votes for or against needed).",
                       True, share)
    return Outcome(True, f"Carried: {votes_for} for, {against} against, {abstain} abstaining.", True, share)


def election_outcome(counts: Mapping[str, int], seats: int, eligible: int, rules: Rules) -> Outcome:
    """The winners of an election for ``seats`` seats (``counts`` maps candidate → votes, plus abstain)."""
    voted = sum(int(n) for n in counts.values())
    share = turnout(voted, eligible)
    if not quorum_met(voted, eligible, rules.quorum_percent):
        return Outcome(False, f"No quorum: {voted} of {eligible} voted, {percent_text(rules.quorum_percent)}% "
                              "needed.", False, share)
    candidates = {k: int(v) for k, v in counts.items() if k != ABSTAIN}
    valid = sum(candidates.values())
    ranked = sorted(candidates.items(), key=lambda item: (-item[1], item[0]))
    winners = [name for name, votes in ranked[:seats]
               if votes > 0 and votes * 100 >= rules.threshold_percent * valid]
    if len(winners) < seats:
        return Outcome(False, f"Not enough candidates reached {percent_text(rules.threshold_percent)}% of the "
                              f"votes to fill {seats} seat(s).", True, share)
    if len(ranked) > seats and ranked[seats][1] == ranked[seats - 1][1]:
        return Outcome(False, "A tie for the last seat: the election must be held again.", True, share)
    return Outcome(True, f"Elected with {', '.join(str(candidates[w]) for w in winners)} vote(s).", True, share,
                   tuple(winners))


def voting_open(now: datetime, opened_at: datetime, closes_at: datetime) -> bool:
    """A ballot counts only inside the half-open window [opened_at, closes_at)."""
    return opened_at <= now < closes_at


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


@dataclass(frozen=True)
class Eligibility:
    minutes_worked: int
    minutes_needed: int
    since: date
    eligible_from: date
    today: date

    @property
    def hours_met(self) -> bool:
        return self.minutes_worked >= self.minutes_needed

    @property
    def months_met(self) -> bool:
        return self.today >= self.eligible_from

    @property
    def eligible(self) -> bool:
        return self.hours_met and self.months_met


def application_eligibility(minutes_worked: int, since: date, today: date, min_hours: int,
                            min_months: int) -> Eligibility:
    """A worker may apply once they have worked ``min_hours`` (confirmed gigs) and been on the platform
    ``min_months`` calendar months since ``since`` (their sign-up date)."""
    return Eligibility(minutes_worked, min_hours * 60, since, add_months(since, min_months), today)


def percent_text(value: Fraction) -> str:
    """A percentage for people: whole or up to two decimals (200/3 → "66.67")."""
    if value.denominator == 1:
        return str(value.numerator)
    hundredths = math.floor(value * 100 + Fraction(1, 2))
    whole, frac = divmod(hundredths, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".")
