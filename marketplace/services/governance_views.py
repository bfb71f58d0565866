"""What members read about proposals: lists, one proposal with its counts and discussion, and the member's
governance dashboard (issue 6 §5–6). Read-only.

Counts are shown live for open ballots, and only after the close for secret ballots (a running secret tally
would reveal a choice the moment it moves). Open ballots list each member's vote.
"""

from __future__ import annotations

import json
from datetime import datetime
from fractions import Fraction

from sqlalchemy import func, select

from marketplace.domain import voting
from marketplace.extensions import db
from marketplace.models import Participation, Proposal, ProposalComment, ProposalOption, User
from marketplace.models.base import utcnow
from marketplace.services import governance, governance_params, member_register


def _voted_count(proposal_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Participation).where(
        Participation.proposal_id == proposal_id, Participation.voted.is_(True))) or 0


def summary(proposal: Proposal) -> dict:
    """The facts shown wherever a proposal is listed."""
    closed = proposal.status in ("passed", "failed")
    voted = proposal.voted_count if closed else _voted_count(proposal.id)
    return {
        "id": proposal.id, "kind": proposal.kind, "kind_label": voting.KIND_LABELS[proposal.kind],
        "title": proposal.title, "status": proposal.status, "secret": proposal.secret,
        "opened_at": proposal.opened_at, "closes_at": proposal.closes_at, "closed_at": proposal.closed_at,
        "eligible": proposal.eligible_count, "voted": voted,
        "turnout_percent": voting.percent_text(voting.turnout(voted, proposal.eligible_count) * 100),
        "result_note": proposal.result_note, "effect_status": proposal.effect_status,
        "effect_detail": proposal.effect_detail,
        "description": governance_params.describe(proposal.kind, json.loads(proposal.payload)),
    }


def _options(proposal: Proposal, show_counts: bool) -> list[dict]:
    counts, _ = governance.tally(proposal) if show_counts and proposal.status == "open" else ({}, 0)
    return [{"value": o.value, "label": o.label,
             "votes": (o.votes if proposal.status != "open" else counts.get(o.value, 0)) if show_counts else None}
            for o in proposal.options]


def _roll(proposal: Proposal) -> list[dict]:
    """Each member's vote on an open ballot (members who have not voted are listed without a choice)."""
    rows = db.session.execute(
        select(User.name, Participation.voted, ProposalOption.label)
        .join(User, User.id == Participation.member_id)
        .outerjoin(ProposalOption, ProposalOption.id == Participation.open_option_id)
        .where(Participation.proposal_id == proposal.id).order_by(User.name))
    return [{"name": name, "voted": voted, "choice": label if voted else None} for name, voted, label in rows]


def proposal_detail(proposal_id: int, viewer_id: int, now: datetime | None = None) -> dict:
    """Everything the proposal page and the API show to a member."""
    governance.require_viewer(viewer_id)
    proposal = governance.get_proposal(proposal_id)
    now = now or utcnow()
    seat = db.session.get(Participation, (proposal_id, viewer_id))
    show_counts = proposal.status != "open" or not proposal.secret
    comments = db.session.execute(
        select(ProposalComment, User.name).join(User, User.id == ProposalComment.author_id)
        .where(ProposalComment.proposal_id == proposal_id).order_by(ProposalComment.created_at, ProposalComment.id))
    proposer = db.session.get(User, proposal.proposer_id) if proposal.proposer_id else None
    return {
        **summary(proposal), "body": proposal.body, "payload": json.loads(proposal.payload),
        "proposer": proposer.name if proposer else "The co-op (automatic)",
        "quorum_percent": voting.percent_text(Fraction(proposal.quorum_percent)),
        "threshold_percent": voting.percent_text(Fraction(proposal.threshold_percent)),
        "voting_open": proposal.status == "open" and voting.voting_open(now, proposal.opened_at, proposal.closes_at),
        "options": _options(proposal, show_counts), "counts_visible": show_counts,
        "roll": [] if proposal.secret else _roll(proposal),
        "me": {"eligible": seat is not None, "voted": bool(seat and seat.voted),
               "choice": None if proposal.secret or seat is None else _choice(proposal, seat)},
        "comments": [{"author": name, "body": c.body, "created_at": c.created_at} for c, name in comments],
    }


def _choice(proposal: Proposal, seat: Participation) -> str | None:
    return next((o.value for o in proposal.options if o.id == seat.open_option_id), None)


def open_proposals(viewer_id: int) -> list[dict]:
    """Votes still open, closing soonest first, with whether the viewer may vote and has voted."""
    governance.require_viewer(viewer_id)
    proposals = db.session.scalars(select(Proposal).where(Proposal.status == "open").order_by(Proposal.closes_at))
    seats = {pid: voted for pid, voted in db.session.execute(
        select(Participation.proposal_id, Participation.voted).where(Participation.member_id == viewer_id))}
    return [{**summary(p), "can_vote": p.id in seats, "has_voted": seats.get(p.id, False)} for p in proposals]


def past_decisions(viewer_id: int, limit: int = 20) -> list[dict]:
    """Closed proposals, latest first, with result and turnout."""
    governance.require_viewer(viewer_id)
    proposals = db.session.scalars(select(Proposal).where(Proposal.status.in_(("passed", "failed")))
                                   .order_by(Proposal.closed_at.desc(), Proposal.id.desc()).limit(limit))
    return [summary(p) for p in proposals]


def dashboard(user_id: int) -> dict:
    """The member's governance page: my status and share, open votes, past decisions."""
    mine = member_register.my_membership(user_id)
    user = db.session.get(User, user_id)
    reader = governance.can_view(user)
    return {"membership": mine, "can_read": reader,
            "open": open_proposals(user_id) if reader else [],
            "past": past_decisions(user_id, 10) if reader else []}
