"""Governance tasks: close due votes and apply their effects, remind, announce, collect share instalments.

Each is idempotent: the services claim their work with conditional UPDATEs, so a second run (beat firing
twice, a redelivered message, two workers) does nothing twice.
"""

from celery import shared_task

from marketplace import dispatch
from marketplace.services import governance, member_shares


@shared_task(name=dispatch.GOVERNANCE_CLOSE_DUE)
def close_due_proposals() -> dict:
    """Close every vote whose window has ended; apply passed effects exactly once."""
    return governance.close_due_proposals()


@shared_task(name=dispatch.GOVERNANCE_REMINDERS)
def send_reminders() -> int:
    """Remind members who have not voted before a vote closes (once per proposal)."""
    return governance.send_reminders()


@shared_task(name=dispatch.GOVERNANCE_ANNOUNCE)
def announce(proposal_id: int) -> int:
    """Tell the electorate that a vote has opened (once)."""
    return governance.announce(proposal_id)


@shared_task(name=dispatch.GOVERNANCE_INSTALMENTS)
def collect_instalments() -> int:
    """Deduct this week's share instalments from members' earnings (once per member per week)."""
    return member_shares.collect_instalments()
