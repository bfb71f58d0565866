"""The member share in the ledger: payments received in the bank and instalments taken from payouts (issue 6 §1).

Every payment debits the bank (1000) — or, for an instalment, the member's worker payable (2100:<id>), so
the next weekly payout pays that much less — and credits member share capital (3000). A membership row's
``share_paid_cents`` only grows with a conditional UPDATE that never passes ``share_amount_cents``, and
each payment has a deterministic ledger key, so a resubmitted form or a rerun weekly task records nothing
twice.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select, update

from marketplace.domain import ledger as chart
from marketplace.domain import voting
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Membership, SharePayment
from marketplace.services import audit, ledger
from marketplace.services.membership import get, require, today

PAYMENT_ROLES = ("admin", "treasurer")


def _reference(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9/_-]+", "-", (text or "").strip()).strip("-")
    if not 1 <= len(cleaned) <= 60:
        raise ValidationFailed({"reference": "Enter the bank's reference for this payment (1 to 60 characters)."})
    return cleaned


def record_share_payment(user_id: int, amount_cents: int, paid_on: date, actor_id: int,
                         reference: str) -> SharePayment:
    """Record a share payment received in the bank (treasurer or board): debit BANK, credit member share
    capital; at most what is still due. The bank's reference keys it: the same reference again (a form sent
    twice) returns the payment already recorded."""
    require(actor_id, PAYMENT_ROLES, "record share payments")
    key = f"share:{user_id}:bank:{_reference(reference)}"
    existing = db.session.scalar(select(SharePayment).where(SharePayment.ledger_key == key))
    if existing is not None:
        return existing
    row = get(user_id)
    if row is None or row.status != voting.MEMBER:
        raise Conflict("Share payments are recorded for members only.")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValidationFailed({"amount": "Enter an amount above zero."})
    if amount_cents > row.share_due_cents:
        raise ValidationFailed({"amount": f"Only {row.share_due_cents / 100:.2f} of the share is still due."})
    if not isinstance(paid_on, date) or paid_on > today():
        raise ValidationFailed({"paid_on": "Enter the date the money arrived (today or earlier)."})
    payment = _post_payment(row, amount_cents, paid_on, "bank", key, chart.BANK, actor_id)
    db.session.commit()
    return payment


def _post_payment(row: Membership, amount: int, on: date, method: str, key: str, debit: str,
                  actor_id: int | None) -> SharePayment:
    """Add ``amount`` to the share paid (a conditional UPDATE: never above the share, and it locks the row),
    then record the payment and post it — unless a payment with ``key`` exists (returned as it is)."""
    changed = db.session.execute(
        update(Membership).where(Membership.user_id == row.user_id,
                                 Membership.share_paid_cents + amount <= Membership.share_amount_cents)
        .values(share_paid_cents=Membership.share_paid_cents + amount)
        .execution_options(synchronize_session=False)).rowcount
    existing = db.session.scalar(select(SharePayment).where(SharePayment.ledger_key == key))
    if changed != 1 or existing is not None:
        db.session.rollback()
        if existing is not None:
            return existing
        raise Conflict("The share is already paid; nothing was recorded.")
    payment = SharePayment(user_id=row.user_id, amount_cents=amount, method=method, paid_on=on, ledger_key=key,
                           created_by_id=actor_id)
    db.session.add(payment)
    ledger.post(chart.JournalEntrySpec(key, f"Member share of member {row.member_number}", on,
                                       (chart.Posting(debit, amount),
                                        chart.Posting(chart.MEMBER_SHARE_CAPITAL, -amount))),
                source_type="share_payment", source_id=row.user_id)
    audit.record("membership.share_paid", actor_id=actor_id, subject=row.user, detail=f"{amount} cents by {method}")
    db.session.refresh(row)
    return payment


def collect_instalments(on: date | None = None) -> int:
    """Deduct this week's share instalment from the earnings of members paying by instalments (weekly task,
    before the payout batch): min(instalment, share due, earnings balance), once per member per week.
    Debits the worker's payable, credits member share capital. Returns how many were taken. Commits."""
    on = on or today()
    monday = on - timedelta(days=on.weekday())
    rows = db.session.scalars(select(Membership).where(
        Membership.status == voting.MEMBER, Membership.share_plan == "instalments",
        Membership.share_paid_cents < Membership.share_amount_cents)).all()
    taken = 0
    for row in rows:
        payable = chart.worker_payable(row.user_id)
        ledger.lock_accounts([payable])
        amount = min(row.instalment_cents, row.share_due_cents, -ledger.balance(payable))
        key = f"share:{row.user_id}:payout:{monday.isoformat()}"
        if amount > 0 and ledger.find_entry(key) is None:
            _post_payment(row, amount, on, "payout", key, payable, None)
            db.session.commit()
            taken += 1
    return taken


def share_payments(user_id: int) -> list[SharePayment]:
    """A member's share payments, oldest first."""
    return list(db.session.scalars(select(SharePayment).where(SharePayment.user_id == user_id)
                                   .order_by(SharePayment.paid_on, SharePayment.id)))
