"""Emailing the notices of allocation of a completed dividend run (issue 5 §6: members are emailed).

Each notice is mailed once: the outbox row and ``emailed_at`` are written in the same transaction, so a
retried or redelivered task skips what was already sent. Work goes in chunks, one commit per chunk.
"""

from __future__ import annotations

from fractions import Fraction

from flask import current_app
from sqlalchemy import select

from marketplace.domain.money import format_cents, round_half_up
from marketplace.domain.simulation import format_share
from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.base import utcnow
from marketplace.models.treasury import Allocation, AllocationNotice, DividendRun, FiscalPeriod
from marketplace.services import mail

CHUNK = 200


def _money(cents: int) -> str:
    return format_cents(cents, thousands=True, symbol="$")


def _pending(run_id: int):
    return (
        select(AllocationNotice, Allocation, User, FiscalPeriod)
        .join(Allocation, Allocation.id == AllocationNotice.allocation_id)
        .join(DividendRun, DividendRun.id == Allocation.run_id)
        .join(FiscalPeriod, FiscalPeriod.id == DividendRun.period_id)
        .join(User, User.id == Allocation.member_id)
        .where(Allocation.run_id == run_id, DividendRun.status == "completed", AllocationNotice.emailed_at.is_(None))
        .order_by(AllocationNotice.id)
        .limit(CHUNK)
    )


def email_notices(run_id: int) -> int:
    """Queue one email per not-yet-emailed notice of a completed run; returns how many were queued now."""
    sent = 0
    while True:
        rows = db.session.execute(_pending(run_id)).all()
        if not rows:
            return sent
        for notice, allocation, user, period in rows:
            mail.queue_email(
                user.email, f"Your notice of allocation for {period.name}", "allocation_notice",
                kind="allocation_notice", name=user.name, period_name=period.name,
                hours=format_cents(round_half_up(Fraction(allocation.minutes * 100, 60))),
                earnings=_money(allocation.earnings_cents),
                share=format_share(Fraction(allocation.share_exact)), allocation=_money(allocation.allocation_cents),
                cash=_money(allocation.cash_cents), retained=_money(allocation.retained_cents),
                ica_balance=_money(notice.ica_balance_cents), qualified=notice.qualified,
                consent_basis=notice.consent_basis, site_name=current_app.config["SITE_NAME"],
            )
            notice.emailed_at = utcnow()
        db.session.commit()
        sent += len(rows)
