"""Worker earnings and weekly payouts (issue 4 §5).

A worker's earnings balance is the credit on their payable account (``2100:<worker>``): gig earnings
and cancellation compensation in, refunds and payouts out. Once a week a batch pays every worker whose
balance reached the minimum (a co-op setting) their whole balance, to the bank details they gave; each
line posts ``entry_payout``. A week has one batch, so a re-run of the weekly task pays nobody twice.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.domain import ledger as rules
from marketplace.domain import payouts as plan
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import PayoutAccount, PayoutBatch, PayoutLine
from marketplace.services import audit, fees, ledger, settings

_ACCOUNT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{3,38}[A-Za-z0-9]$")


def earnings_balance(worker_id: int, as_of: date | None = None) -> int:
    """What the co-op owes the worker now, in cents (their payable account's credit balance)."""
    return -ledger.balance(rules.worker_payable(worker_id), as_of)


def week_start(on: date) -> date:
    """The Monday of ``on``'s week: batches are keyed by it."""
    return on - timedelta(days=on.weekday())


def _worker_id(code: str) -> int | None:
    sub = code.partition(":")[2]
    return int(sub) if sub.isdigit() else None


def _existing_batch(monday: date) -> PayoutBatch | None:
    return db.session.scalar(select(PayoutBatch).where(PayoutBatch.week_start == monday))


def _claim_week(monday: date, on: date, minimum: int) -> PayoutBatch | None:
    """Insert the week's batch row; None when another run already made it (unique ``week_start``)."""
    batch = PayoutBatch(week_start=monday, paid_on=on, minimum_cents=minimum)
    try:
        with db.session.begin_nested():
            db.session.add(batch)
    except IntegrityError:
        return None
    return batch


def _payable_balances(on: date) -> dict[int, int]:
    """What each worker can be paid on ``on``: their balance as of that day, but never more than they are
    owed now (a later refund may have lowered it), so a payout never puts a worker in debit."""
    prefix = rules.WORKER_PAYABLE + ":"
    ledger.lock_accounts(ledger.balances(prefix))
    now, then = ledger.balances(prefix), ledger.balances(prefix, as_of=on)
    owed = {}
    for code, total in now.items():
        worker_id = _worker_id(code)
        if worker_id is not None:
            owed[worker_id] = min(-total, -then.get(code, 0))
    return owed


def settle_provider(on: date) -> None:
    """The card provider pays the captured money it holds into the bank (issue 4 §4), once per week;
    the offline test provider charges no processing fee. Commits."""
    key = f"settlement:{week_start(on).isoformat()}"
    gross = min(ledger.balance(rules.PAYMENT_CLEARING), ledger.balance(rules.PAYMENT_CLEARING, as_of=on))
    if gross > 0 and ledger.find_entry(key) is None:
        ledger.post(rules.entry_settlement(week_start(on).isoformat(), gross, 0, on), source_type="settlement")
        db.session.commit()


def create_payout_batch(on: date | None = None, minimum_cents: int | None = None) -> PayoutBatch | None:
    """Pay out the week of ``on`` (default: today): every worker with bank details whose earnings balance
    is at least the minimum gets it all; each line posts ``entry_payout`` (commits). The card provider's
    captured money is first settled into the bank.

    Idempotent per week: a second run returns the week's batch. Returns None when nobody is due (no batch
    row is kept, so a later run the same week can still pay). Workers without bank details wait.
    """
    on = on or fees.local_date()
    minimum = settings.get("payout_minimum_cents", on) if minimum_cents is None else minimum_cents
    if isinstance(minimum, bool) or not isinstance(minimum, int) or minimum < 0:
        raise ValidationFailed({"minimum_cents": "The minimum payout must be zero or more cents."})
    monday = week_start(on)
    existing = _existing_batch(monday)
    if existing is not None:
        return existing
    settle_provider(on)
    owed = _payable_balances(on)  # locks the payables: a concurrent run waits here, then finds the week's batch
    existing = _existing_batch(monday)
    accounts = {a.user_id: a for a in db.session.scalars(select(PayoutAccount))}
    due = plan.plan_payout_batch({w: amount for w, amount in owed.items() if w in accounts}, minimum)
    batch = None if existing or not due else _claim_week(monday, on, minimum)
    if batch is None:
        db.session.rollback()
        return _existing_batch(monday)
    db.session.flush()
    for worker_id, amount in due:
        entry = ledger.post(rules.entry_payout(batch.id, worker_id, amount, on), source_type="payout_batch",
                            source_id=batch.id)
        account = accounts[worker_id]
        db.session.add(PayoutLine(batch_id=batch.id, worker_id=worker_id, amount_cents=amount,
                                  reference=plan.payout_reference(batch.id, worker_id), payee=account.holder_name,
                                  account=account.account_number, journal_entry_id=entry.id))
    batch.total_cents, batch.line_count = sum(a for _, a in due), len(due)
    audit.record("payouts.batch_created", subject=batch, detail=f"{len(due)} workers, {batch.total_cents} cents")
    db.session.commit()
    return batch


def bank_csv_for(batch_id: int) -> str:
    """The batch as the bank's CSV file (``reference,payee,account,amount``; no total row)."""
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(f"Payout batch {batch_id} does not exist.")
    return plan.bank_csv(plan.PayoutLine(line.reference, line.payee, line.account, line.amount_cents)
                         for line in batch.lines)


def batches(limit: int = 52) -> list[PayoutBatch]:
    """The latest payout batches, newest first."""
    return list(db.session.scalars(select(PayoutBatch).order_by(PayoutBatch.week_start.desc()).limit(limit)))


def get_batch(batch_id: int) -> PayoutBatch:
    """One batch with its lines; NotFound when there is none."""
    batch = db.session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound(f"Payout batch {batch_id} does not exist.")
    return batch


def payout_history(worker_id: int) -> list[dict]:
    """The worker's payouts, newest first: date, amount, the bank reference and the masked account."""
    rows = db.session.execute(
        select(PayoutLine, PayoutBatch.paid_on).join(PayoutBatch, PayoutBatch.id == PayoutLine.batch_id)
        .where(PayoutLine.worker_id == worker_id).order_by(PayoutBatch.paid_on.desc(), PayoutLine.id.desc())).all()
    return [{"paid_on": paid_on, "amount_cents": line.amount_cents, "reference": line.reference,
             "account": mask_account(line.account), "batch_id": line.batch_id} for line, paid_on in rows]


def mask_account(number: str | None) -> str:
    """An account number as people see it: only the last four characters (``•••• 6789``)."""
    compact = (number or "").replace(" ", "").replace("-", "")
    return f"•••• {compact[-4:]}" if compact else ""


def payout_account(user_id: int) -> PayoutAccount | None:
    """The worker's bank details, if given."""
    return db.session.get(PayoutAccount, user_id)


def set_payout_account(user_id: int, holder_name: str, account_number: str) -> PayoutAccount:
    """Save where the worker's earnings go (commits): a holder name and an account number or IBAN of
    5–40 letters, digits, spaces or dashes. Later batches use the new details; past ones keep theirs."""
    holder = " ".join((holder_name or "").split())
    number = (account_number or "").strip()
    errors = {}
    if not 2 <= len(holder) <= 120:
        errors["holder_name"] = "Enter the account holder's name (2–120 characters)."
    if not _ACCOUNT_RE.match(number):
        errors["account_number"] = "Enter the account number or IBAN: 5–40 letters, digits, spaces or dashes."
    if errors:
        raise ValidationFailed(errors)
    account = payout_account(user_id) or PayoutAccount(user_id=user_id)
    account.holder_name, account.account_number = holder, number
    db.session.add(account)
    audit.record("payout_account.saved", actor_id=user_id, detail=mask_account(number))
    db.session.commit()
    return account
