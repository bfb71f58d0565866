"""Governance tasks through a real Celery worker: announcing a vote, closing it (several times) and applying
its effect exactly once."""

from __future__ import annotations

from datetime import timedelta

from governance_support import add_member, during
from sqlalchemy import func, select

from marketplace import dispatch
from marketplace.extensions import db as _db
from marketplace.models import AuditEvent, FeeRate, Notification, Proposal
from marketplace.models.base import utcnow
from marketplace.services import fees, governance, governance_ballots
from support import wait_until


def _count(model, *where) -> int:
    _db.session.expire_all()
    return _db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def test_tabling_announces_the_vote_through_the_worker(app, make_user, celery_worker):
    voters = [add_member(make_user) for _ in range(3)]
    proposal = governance.table_proposal(voters[0].id, "general", "Adopt a logo", "")
    wait_until(lambda: _count(Notification, Notification.kind == "vote.opened") == 3, timeout=60,
               message="the worker to announce the vote")
    assert _db.session.get(Proposal, proposal.id).announced_at is not None


def test_closing_task_run_three_times_applies_the_fee_once(app, make_user, celery_worker):
    voters = [add_member(make_user) for _ in range(2)]
    proposal = governance.table_proposal(voters[0].id, "fee_change", "Fee 4%", "", {
        "percent": "4", "effective_from": fees.local_date().isoformat()}, now=utcnow() - timedelta(days=20))
    for voter in voters:
        governance_ballots.cast_vote(proposal.id, voter.id, "for", now=during(proposal))
    celery = app.extensions["celery"]
    for _ in range(3):
        celery.send_task(dispatch.GOVERNANCE_CLOSE_DUE)
    wait_until(lambda: celery_worker.log_path.read_text().count("governance.close_due_proposals") >= 6,
               timeout=90, message="three closing tasks to finish")
    _db.session.expire_all()
    row = _db.session.get(Proposal, proposal.id)
    assert (row.status, row.effect_status) == ("passed", "applied")
    assert _count(FeeRate) == 1
    assert _count(AuditEvent, AuditEvent.action == "proposal.effect_applied") == 1
    assert _count(AuditEvent, AuditEvent.action == "proposal.closed") == 1
    assert fees.current_fee_rate().percent == 4
