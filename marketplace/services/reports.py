"""Financial reports straight from the ledger's postings, each one or two set-based SQL queries.

The database sums the postings (``GROUP BY`` account code, base account or month, over the entries'
``occurred_on`` dates); ``domain.reports`` lays the sums out as statements and renders their CSV.
Date ranges are inclusive. Nothing here writes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, case, extract, func, or_, select

from marketplace.domain import ledger as journal
from marketplace.domain.books import category_label
from marketplace.domain.reports import (
    BalanceSheet,
    EarningsLine,
    EarningsStatement,
    IncomeStatement,
    TrialBalance,
    balance_sheet_from_sums,
    income_statement_from_sums,
    trial_balance_from_sums,
)
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import JournalEntry, LedgerAccount, Posting, User

MAX_RANGE_DAYS = 366 * 20
PERSON_ACCOUNTS = (journal.CLIENT_RECEIVABLE, journal.WORKER_PAYABLE, journal.CAPITAL_ACCOUNT)


def check_range(start: date, end: date) -> None:
    """A report range runs forwards (start ≤ end) and spans at most twenty years."""
    if end < start:
        raise ValidationFailed({"end": "The end date is before the start date."})
    if (end - start).days > MAX_RANGE_DAYS:
        raise ValidationFailed({"start": "Choose a range of at most twenty years."})


def _in_range(start: date, end: date):
    return JournalEntry.occurred_on.between(start, end)


def _profit_and_loss_accounts():
    return or_(Posting.account_code.like("4%"), Posting.account_code.like("5%"))


def income_statement(start: date, end: date) -> IncomeStatement:
    """Member fees (4000), non-member fees (4010), other income (4500) and expenses by category
    (5000:<slug>) for entries dated in [start, end]; net margin = MF + NF + OI − X (DOMAIN.md §1)."""
    check_range(start, end)
    total = func.sum(Posting.amount_cents)
    stmt = (
        select(Posting.account_code, total)
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(_in_range(start, end), _profit_and_loss_accounts())
        .group_by(Posting.account_code)
    )
    return income_statement_from_sums(start, end, {code: int(cents) for code, cents in db.session.execute(stmt)})


def monthly_margin(start: date, end: date) -> list[tuple[str, int]]:
    """Net margin per calendar month in [start, end] as ("YYYY-MM", cents), months without entries left out."""
    check_range(start, end)
    year = extract("year", JournalEntry.occurred_on)
    month = extract("month", JournalEntry.occurred_on)
    stmt = (
        select(year, month, func.sum(Posting.amount_cents))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(_in_range(start, end), _profit_and_loss_accounts())
        .group_by(year, month)
        .order_by(year, month)
    )
    return [(f"{int(y):04d}-{int(m):02d}", -int(cents)) for y, m, cents in db.session.execute(stmt)]


def balance_sheet(as_of: date) -> BalanceSheet:
    """Every base account's balance on ``as_of`` (sub-ledgers such as 2100:<worker> summed into 2100);
    income and expenses to date appear as the surplus not yet allocated, so assets = liabilities + equity."""
    base = func.substr(Posting.account_code, 1, 4)
    stmt = (
        select(base, func.sum(Posting.amount_cents))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.occurred_on <= as_of)
        .group_by(base)
    )
    return balance_sheet_from_sums(as_of, {code: int(cents) for code, cents in db.session.execute(stmt)})


def _display_names(codes: list[str]) -> dict[str, str]:
    """Readable names for sub-ledger accounts: the person behind 1200/2100/3100:<id> (one query) and the label
    of an expense category."""
    people: dict[str, int] = {}
    for code in codes:
        base, _, sub = code.partition(":")
        if base in PERSON_ACCOUNTS and sub.isdigit():
            people[code] = int(sub)
    names: dict[int, str] = {}
    if people:
        names = dict(db.session.execute(select(User.id, User.name).where(User.id.in_(set(people.values())))).all())
    found = {code: names[user_id] for code, user_id in people.items() if user_id in names}
    found.update({code: category_label(code[5:]) for code in codes if code.startswith(journal.EXPENSE + ":")})
    return found


def trial_balance(as_of: date) -> TrialBalance:
    """Each account's net debit or credit from all entries dated on or before ``as_of``; debits equal credits."""
    stmt = (
        select(Posting.account_code, LedgerAccount.name, func.sum(Posting.amount_cents))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .outerjoin(LedgerAccount, LedgerAccount.code == Posting.account_code)
        .where(JournalEntry.occurred_on <= as_of)
        .group_by(Posting.account_code, LedgerAccount.name)
    )
    sums = [(code, name or code, int(cents)) for code, name, cents in db.session.execute(stmt)]
    extra = _display_names([code for code, _, cents in sums if cents])
    named = [(code, f"{name.partition(' · ')[0]} · {extra[code]}" if code in extra else name, cents)
             for code, name, cents in sums]
    return trial_balance_from_sums(as_of, named)


def worker_earnings_statement(worker_id: int, start: date, end: date) -> EarningsStatement:
    """A worker's earnings payable (2100:<worker>) over [start, end]: the opening balance, each entry's
    earnings (credits) and deductions (payouts, refunds: debits) with a running balance, and the closing balance."""
    check_range(start, end)
    worker = db.session.get(User, worker_id)
    if worker is None:
        raise NotFound("No such worker.")
    account = Posting.account_code == journal.worker_payable(worker_id)
    amount = Posting.amount_cents
    in_range = _in_range(start, end)
    totals = db.session.execute(
        select(
            func.coalesce(func.sum(case((JournalEntry.occurred_on < start, -amount), else_=0)), 0),
            func.coalesce(func.sum(case((and_(in_range, amount < 0), -amount), else_=0)), 0),
            func.coalesce(func.sum(case((and_(in_range, amount > 0), amount), else_=0)), 0),
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(account, JournalEntry.occurred_on <= end)
    ).one()
    opening, earned, deducted = (int(value) for value in totals)
    net = func.sum(amount)
    running = func.sum(-net).over(order_by=(JournalEntry.occurred_on, JournalEntry.id))
    rows = db.session.execute(
        select(
            JournalEntry.occurred_on, JournalEntry.id, JournalEntry.memo,
            func.sum(case((amount < 0, -amount), else_=0)), func.sum(case((amount > 0, amount), else_=0)), running,
        )
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(account, in_range)
        .group_by(JournalEntry.id, JournalEntry.occurred_on, JournalEntry.memo)
        .order_by(JournalEntry.occurred_on, JournalEntry.id)
    )
    lines = tuple(EarningsLine(on, entry_id, memo, int(credit), int(debit), opening + int(balance))
                  for on, entry_id, memo, credit, debit, balance in rows)
    return EarningsStatement(worker.id, worker.name, start, end, opening, earned, deducted, lines)
