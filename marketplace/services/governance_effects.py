"""What a passed proposal changes, applied exactly once (issue 6 §4).

``apply_effect(proposal_id)`` first claims the effect with a conditional ``UPDATE proposals SET
effect_status = 'applied' WHERE effect_status = 'pending' AND status = 'passed'`` and adds the audit row,
then carries the decision out through the owning service, in the same transaction: the fee service,
the treasury's policy and run services and ``services.accounts`` commit it together with the claim, so
either both are saved or neither. A second closing task (or a redelivered one) finds nothing pending and
does nothing. When the service refuses (say, a rate already starts that day), the claim is rolled back and
the proposal is marked ``failed`` with the reason; a failed proposal never reaches this module.

The treasury's services require an approving board member (role admin). A passed vote is the members'
authority, so the decision is carried out in the name of the longest-serving active board member, and the
audit row names the proposal.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from fractions import Fraction

from sqlalchemy import select, update

from marketplace.domain import voting
from marketplace.errors import AppError, Conflict
from marketplace.extensions import db
from marketplace.models import OfficerTerm, Proposal, User, UserRole
from marketplace.models.base import utcnow
from marketplace.services import accounts, audit, fees, membership

log = logging.getLogger(__name__)


def board_approver_id() -> int:
    """The board member (admin) who signs the members' decision: the earliest active admin."""
    found = db.session.scalar(
        select(User.id).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == "admin", User.is_active_account.is_(True)).order_by(User.id).limit(1))
    if found is None:
        raise Conflict("No board member (admin) holds office to carry out the members' decision.")
    return found


def _fee(proposal: Proposal, payload: dict, today: date) -> str:
    start = max(date.fromisoformat(payload["effective_from"]), today)
    fees.set_fee_rate(payload["percent"], start, payload.get("min_cents"), payload.get("max_cents"),
                      payload["mode"], None, note=f"Voted by the members: proposal #{proposal.id}")
    return f"Fee {payload['percent']}% ({payload['mode']}) from {start.isoformat()}."


def _policy(proposal: Proposal, payload: dict, today: date) -> str:
    from marketplace.services import periods

    periods.approve_policy(payload["policy_id"], board_approver_id())
    return f"Policy version {payload['version']} of {payload['period']} approved."


def _dividend_run(proposal: Proposal, payload: dict, today: date) -> str:
    from marketplace.services import dividends

    dividends.approve_run(payload["period_id"], board_approver_id())
    return f"Dividend run of {payload['period']} approved."


def _admission(proposal: Proposal, payload: dict, today: date) -> str:
    row = membership.admit_member(payload["member_id"], today, None, proposal_id=proposal.id)
    return f"{payload['name']} admitted as member no. {row.member_number}."


def election_winners(proposal: Proposal) -> tuple[str, ...]:
    """The winners of a closed election, from its final counts under the rules frozen when it opened."""
    counts = {o.value: o.votes or 0 for o in proposal.options}
    rules = voting.Rules(Fraction(proposal.quorum_percent), Fraction(proposal.threshold_percent))
    return voting.election_outcome(counts, json.loads(proposal.payload)["seats"], proposal.eligible_count,
                                   rules).winners


def _election(proposal: Proposal, payload: dict, today: date) -> str:
    office = payload["office"]
    role = voting.OFFICES[office][1]
    winners = [int(w) for w in election_winners(proposal)]
    current = db.session.scalars(select(OfficerTerm).where(OfficerTerm.office == office,
                                                           OfficerTerm.ended_on.is_(None))).all()
    for term in current:
        if term.member_id not in winners:
            term.ended_on = today
            accounts.revoke_role(term.member, role, actor_id=None)
    serving = {t.member_id for t in current}
    for member_id in winners:
        accounts.grant_role(db.session.get(User, member_id), role, actor_id=None)
        if member_id not in serving:
            db.session.add(OfficerTerm(office=office, member_id=member_id, proposal_id=proposal.id,
                                       started_on=today))
    names = ", ".join(db.session.get(User, w).name for w in winners)
    return f"Elected {voting.OFFICES[office][0].lower()}: {names}."


HANDLERS = {voting.FEE_CHANGE: _fee, voting.POLICY: _policy, voting.DIVIDEND_RUN: _dividend_run,
            voting.ADMISSION: _admission, voting.ELECTION: _election}


def apply_effect(proposal_id: int) -> str:
    """Carry out a passed proposal once: 'applied', 'failed' or 'skipped' (nothing pending). Commits."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.kind not in HANDLERS:
        return "skipped"
    claimed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.status == "passed",
                               Proposal.effect_status == "pending")
        .values(effect_status="applied", effect_applied_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:
        db.session.rollback()
        return "skipped"
    audit.record("proposal.effect_applied", subject=proposal, detail=proposal.kind)
    try:
        detail = HANDLERS[proposal.kind](proposal, json.loads(proposal.payload), fees.local_date())
        db.session.execute(update(Proposal).where(Proposal.id == proposal_id).values(effect_detail=detail)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        _record_failure(proposal_id, exc.message)
        return "failed"
    db.session.refresh(proposal)
    return "applied"


def _record_failure(proposal_id: int, reason: str) -> None:
    log.warning("proposal %s passed but its effect failed: %s", proposal_id, reason)
    db.session.execute(update(Proposal).where(Proposal.id == proposal_id, Proposal.effect_status == "pending")
                       .values(effect_status="failed", effect_detail=reason[:2000])
                       .execution_options(synchronize_session=False))
    audit.record("proposal.effect_failed", subject=db.session.get(Proposal, proposal_id), detail=reason[:500])
    db.session.commit()


def retry_effect(proposal_id: int, actor_id: int) -> str:
    """The board retries a failed effect once its cause is fixed (for example a board member now exists)."""
    membership.require(actor_id, membership.BOARD_ROLES, "retry a decision's effect")
    changed = db.session.execute(
        update(Proposal).where(Proposal.id == proposal_id, Proposal.status == "passed",
                               Proposal.effect_status == "failed")
        .values(effect_status="pending").execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict("Only a passed proposal whose effect failed can be retried.")
    audit.record("proposal.effect_retried", actor_id=actor_id, subject=db.session.get(Proposal, proposal_id))
    db.session.commit()
    return apply_effect(proposal_id)
