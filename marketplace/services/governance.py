"""Proposals: tabling, announcing, reminding, closing and counting (issue 6 §2, §4, §5).

Any member in good standing tables a proposal of one of the kinds in ``domain.voting``. It opens at once:
its quorum, threshold and voting window are read from the bylaw settings in force that day and frozen on
the proposal, and its electorate — the members in good standing at that moment — is written as
``participations`` rows with one set-based INSERT … SELECT. Members are told by a task after the commit.

Closing (``close_due_proposals``, a beat task) claims each due proposal with a conditional UPDATE
(open → closing), counts, decides with ``domain.voting`` and saves the result, the final counts and the
turnout in the same transaction, destroys a secret vote's ballot key, and tells the electorate. A passed
proposal's effect then applies exactly once (``governance_effects``). Running the task twice, or two
workers at once, closes and applies nothing twice.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import false, func, insert, literal, select, update

from marketplace import dispatch
from marketplace.domain import voting
from marketplace.errors import Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    Ballot,
    BallotKey,
    Membership,
    Participation,
    Proposal,
    ProposalComment,
    ProposalOption,
    User,
)
from marketplace.models.base import utcnow
from marketplace.services import (
    audit,
    fees,
    governance_ballots,
    governance_effects,
    governance_params,
    membership,
    notifications,
    settings,
)

VIEW_ROLES = ("member", "admin", "treasurer")


def proposal_url(proposal_id: int) -> str:
    """The proposal page's path (used in notifications and emails)."""
    return f"/governance/proposals/{proposal_id}"


def get_proposal(proposal_id: int) -> Proposal:
    """The proposal with this id, or NotFound."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        raise NotFound(f"Proposal {proposal_id} does not exist.")
    return proposal


def can_view(user: User | None) -> bool:
    """Members, the board and the treasurer read proposals, results and the discussion."""
    return user is not None and user.is_active_account and user.has_role(*VIEW_ROLES)


def require_viewer(user_id: int | None) -> User:
    """The reading user, who must be a member, board member or treasurer; otherwise Forbidden."""
    user = db.session.get(User, user_id) if user_id is not None else None
    if not can_view(user):
        raise Forbidden("Only members of the co-op can read its proposals.")
    return user


def rules_for(kind: str, on) -> tuple[voting.Rules, int]:
    """The bylaw quorum, threshold and window (days) of ``kind`` in force on ``on``."""
    return (voting.Rules(settings.get(f"vote_quorum_percent_{kind}", on),
                         settings.get(f"vote_threshold_percent_{kind}", on)),
            settings.get(f"vote_window_days_{kind}", on))


def _text_fields(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip()
    problems = {}
    if not 5 <= len(title) <= 160:
        problems["title"] = "Give the proposal a title of 5 to 160 characters."
    if len(body) > 20000:
        problems["body"] = "Keep the text under 20,000 characters."
    if problems:
        raise ValidationFailed(problems)
    return title, body


def table_proposal(proposer_id: int, kind: str, title: str, body: str = "", params: dict | None = None, *,
                   now: datetime | None = None) -> Proposal:
    """A member in good standing puts a question to the members; voting opens at once. Commits."""
    if not membership.in_good_standing(proposer_id):
        raise Forbidden("Only members in good standing can table proposals.")
    now = now or utcnow()
    title, body = _text_fields(title, body)
    payload, options = governance_params.prepare(kind, params, fees.local_date(now))
    proposal = _open(kind, title, body, payload, options, proposer_id, now)
    db.session.commit()
    return proposal


def table_admission(member_id: int, now: datetime | None = None) -> Proposal:
    """Put an application to the members (when admission is by vote); the caller commits."""
    now = now or utcnow()
    payload, options = governance_params.prepare(voting.ADMISSION, {"member_id": member_id}, fees.local_date(now))
    return _open(voting.ADMISSION, f"Admit {payload['name']} as a member", "", payload, options, None, now)


def _open(kind: str, title: str, body: str, payload: dict, options, proposer_id: int | None,
          now: datetime) -> Proposal:
    rules, days = rules_for(kind, fees.local_date(now))
    proposal = Proposal(kind=kind, title=title, body=body, payload=json.dumps(payload), secret=voting.is_secret(kind),
                        status="open", proposer_id=proposer_id, opened_at=now, closes_at=now + timedelta(days=days),
                        quorum_percent=str(rules.quorum_percent), threshold_percent=str(rules.threshold_percent),
                        eligible_count=0, result_note="", effect_status="none", effect_detail="")
    proposal.options = [ProposalOption(position=i, value=v, label=label) for i, (v, label) in enumerate(options)]
    db.session.add(proposal)
    db.session.flush()
    electorate = select(literal(proposal.id), Membership.user_id, false()).where(membership.good_standing_condition())
    db.session.execute(insert(Participation).from_select(["proposal_id", "member_id", "voted"], electorate))
    proposal.eligible_count = db.session.scalar(
        select(func.count()).select_from(Participation).where(Participation.proposal_id == proposal.id))
    if proposal.secret:
        db.session.add(BallotKey(proposal_id=proposal.id, secret=secrets.token_hex(32)))
    audit.record("proposal.tabled", actor_id=proposer_id, subject=proposal, detail=f"{kind}: {title}")
    dispatch.enqueue(dispatch.GOVERNANCE_ANNOUNCE, proposal.id)
    return proposal


def _electorate(proposal_id: int, *, not_voted_only: bool = False) -> list[int]:
    query = select(Participation.member_id).where(Participation.proposal_id == proposal_id)
    if not_voted_only:
        query = query.where(Participation.voted.is_(False))
    return list(db.session.scalars(query.order_by(Participation.member_id)))


def _tell(member_ids: list[int], proposal: Proposal, kind: str, text: str, template: str) -> None:
    summary = governance_params.describe(proposal.kind, json.loads(proposal.payload))
    for member_id in member_ids:
        notifications.notify(member_id, kind, text, proposal_url(proposal.id), email_subject=text,
                             email_template=template, proposal=proposal, summary=summary)


def _claim_once(proposal_id: int, column, *conditions) -> bool:
    changed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal_id, column.is_(None), *conditions)
        .values({column.key: utcnow()}).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
    return changed == 1


def announce(proposal_id: int) -> int:
    """Tell the electorate a vote has opened (in-app and by email), once. Returns how many were told."""
    if not _claim_once(proposal_id, Proposal.announced_at, Proposal.status == "open"):
        return 0
    proposal = get_proposal(proposal_id)
    members = _electorate(proposal_id)
    _tell(members, proposal, "vote.opened", f"Vote open: {proposal.title}", "governance_vote")
    db.session.commit()
    return len(members)


def send_reminders(now: datetime | None = None) -> int:
    """Remind members who have not voted, ``vote_reminder_hours`` before a vote closes; once per proposal."""
    now = now or utcnow()
    hours = settings.get("vote_reminder_hours", fees.local_date(now))
    due = list(db.session.scalars(select(Proposal.id).where(
        Proposal.status == "open", Proposal.reminded_at.is_(None), Proposal.closes_at > now,
        Proposal.closes_at <= now + timedelta(hours=hours))))
    told = 0
    for proposal_id in due:
        if _claim_once(proposal_id, Proposal.reminded_at, Proposal.status == "open"):
            proposal = get_proposal(proposal_id)
            members = _electorate(proposal_id, not_voted_only=True)
            _tell(members, proposal, "vote.reminder", f"Reminder: vote on “{proposal.title}” before it closes",
                  "governance_vote")
            db.session.commit()
            told += len(members)
    return told


def tally(proposal: Proposal) -> tuple[dict[str, int], int]:
    """(votes per option value, members who voted): from ballots if secret, else participation rows."""
    values = {o.id: o.value for o in proposal.options}
    if proposal.secret:
        rows = db.session.execute(select(Ballot.option_id, func.count()).where(Ballot.proposal_id == proposal.id)
                                  .group_by(Ballot.option_id))
    else:
        rows = db.session.execute(select(Participation.open_option_id, func.count())
                                  .where(Participation.proposal_id == proposal.id, Participation.voted.is_(True))
                                  .group_by(Participation.open_option_id))
    counts = Counter({values[option_id]: int(n) for option_id, n in rows if option_id in values})
    voted = db.session.scalar(select(func.count()).select_from(Participation).where(
        Participation.proposal_id == proposal.id, Participation.voted.is_(True))) or 0
    return {o.value: counts.get(o.value, 0) for o in proposal.options}, int(voted)


def outcome(proposal: Proposal, counts: dict[str, int]) -> voting.Outcome:
    """The result under the proposal's frozen rules."""
    rules = voting.Rules(Fraction(proposal.quorum_percent), Fraction(proposal.threshold_percent))
    if proposal.kind == voting.ELECTION:
        return voting.election_outcome(counts, json.loads(proposal.payload)["seats"], proposal.eligible_count, rules)
    return voting.motion_outcome(counts, proposal.eligible_count, rules)


def close_proposal(proposal_id: int, now: datetime | None = None) -> str:
    """Close a due proposal once and publish its result: 'passed', 'failed' or 'skipped'. Commits."""
    now = now or utcnow()
    claimed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.status == "open", Proposal.closes_at <= now)
        .values(status="closing").execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        return "skipped"
    proposal = get_proposal(proposal_id)
    db.session.refresh(proposal)
    counts, voted = tally(proposal)
    result = outcome(proposal, counts)
    for option in proposal.options:
        option.votes = counts[option.value]
    proposal.status = "passed" if result.passed else "failed"
    proposal.closed_at, proposal.voted_count, proposal.result_note = now, voted, result.reason
    proposal.effect_status = "pending" if result.passed and proposal.kind in governance_effects.HANDLERS else "none"
    if proposal.secret:
        db.session.execute(BallotKey.__table__.delete().where(BallotKey.proposal_id == proposal_id))
        governance_ballots.rewrite_ballots(proposal_id, [(o, None) for o, _ in _ballot_rows(proposal_id)])
    audit.record("proposal.closed", subject=proposal, detail=f"{proposal.status}: {result.reason}")
    word = "passed" if result.passed else "did not pass"
    _tell(_electorate(proposal_id), proposal, "vote.result", f"Result: “{proposal.title}” {word}",
          "governance_result")
    db.session.commit()
    if result.passed:
        governance_effects.apply_effect(proposal_id)
    return proposal.status


def _ballot_rows(proposal_id: int):
    return db.session.execute(select(Ballot.option_id, Ballot.token_mac).where(Ballot.proposal_id == proposal_id))


def close_due_proposals(now: datetime | None = None) -> dict:
    """Close every proposal whose window has ended and apply any passed effect still pending (beat task)."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Proposal.id).where(Proposal.status == "open", Proposal.closes_at <= now)
                                  .order_by(Proposal.closes_at)))
    closed = [pid for pid in due if close_proposal(pid, now) != "skipped"]
    pending = list(db.session.scalars(select(Proposal.id).where(Proposal.status == "passed",
                                                                Proposal.effect_status == "pending")))
    applied = [pid for pid in pending if governance_effects.apply_effect(pid) == "applied"]
    return {"closed": closed, "effects_applied": applied}


def add_comment(proposal_id: int, author_id: int, body: str) -> ProposalComment:
    """A member adds to the discussion of a proposal while its vote is open. Commits."""
    require_viewer(author_id)
    proposal = get_proposal(proposal_id)
    body = (body or "").strip()
    if proposal.status != "open":
        raise ValidationFailed({"body": "The vote has closed; the discussion is closed too."})
    if not 1 <= len(body) <= 5000:
        raise ValidationFailed({"body": "Write a comment of 1 to 5,000 characters."})
    comment = ProposalComment(proposal_id=proposal_id, author_id=author_id, body=body)
    db.session.add(comment)
    db.session.commit()
    return comment
