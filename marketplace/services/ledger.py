"""Posting to the double-entry ledger, reading balances, and checking the books.

Every entry goes through :func:`post`, which validates it with ``domain.ledger.validate_entry`` and
inserts it in the caller's transaction (the caller commits). The entry's idempotency key is unique in
the database, so a retried request or task, or two callers racing, post the event once: the loser gets
the winner's entry back. Posted rows are never changed (the database refuses UPDATE and DELETE);
a mistake is corrected by :func:`reverse`.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from marketplace.domain import ledger as rules
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import JournalEntry, LedgerAccount, Posting

_BASE_NAMES = {
    rules.BANK: "Bank",
    rules.PAYMENT_CLEARING: "Payment clearing (held by the payment provider)",
    rules.CLIENT_RECEIVABLE: "Client receivable",
    rules.WORKER_PAYABLE: "Worker earnings payable",
    rules.DIVIDENDS_PAYABLE: "Dividends payable",
    rules.MEMBER_SHARE_CAPITAL: "Member share capital",
    rules.CAPITAL_ACCOUNT: "Internal capital account",
    rules.COLLECTIVE_RESERVE: "Collective reserve",
    rules.FEE_REVENUE_MEMBER: "Co-op fees on members' gigs",
    rules.FEE_REVENUE_NONMEMBER: "Co-op fees on non-members' gigs",
    rules.OTHER_INCOME: "Other (non-patronage) income",
    rules.EXPENSE: "Operating expenses",
}
FEE_REVENUE_ACCOUNTS = (rules.FEE_REVENUE_MEMBER, rules.FEE_REVENUE_NONMEMBER)


def account_name(code: str) -> str:
    """A readable name for an account code: the chart's name, plus the sub-ledger id (``2100:17``)."""
    base, _, sub = code.partition(":")
    name = _BASE_NAMES.get(base, f"Account {base}")
    return f"{name} · {sub}" if sub else name


def _insert_ignoring_duplicates(rows: list[dict]):
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return insert(LedgerAccount).values(rows).on_conflict_do_nothing(index_elements=["code"])


def ensure_accounts(codes) -> None:
    """Create the accounts that do not exist yet (sub-ledger accounts appear on first use).

    ``INSERT … ON CONFLICT DO NOTHING`` makes two callers creating the same account at once both succeed;
    as a write it also opens the transaction on SQLite before the entry's savepoint.
    """
    rows = [{"code": code, "name": account_name(code), "kind": rules.account_kind(code)} for code in sorted(set(codes))]
    if rows:
        db.session.execute(_insert_ignoring_duplicates(rows))


def lock_accounts(codes) -> None:
    """Serialise money movements on these accounts until the caller commits (payouts against refunds).

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` on the account rows, in code order (so two lockers never
    deadlock, and inserting postings, which only takes a key-share lock, is not blocked). SQLite: creating
    the accounts is a write, which takes the database's single write lock.
    """
    codes = sorted(set(codes))
    ensure_accounts(codes)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(LedgerAccount.code).where(LedgerAccount.code.in_(codes))
                           .order_by(LedgerAccount.code).with_for_update(key_share=True)).all()


def find_entry(idempotency_key: str) -> JournalEntry | None:
    """The posted entry with this idempotency key, if any."""
    return db.session.scalar(select(JournalEntry).where(JournalEntry.idempotency_key == idempotency_key))


def entries_for(source_type: str, source_id: int) -> list[JournalEntry]:
    """The entries posted for one business object (a gig, a payout batch…), in posting order."""
    query = select(JournalEntry).where(JournalEntry.source_type == source_type, JournalEntry.source_id == source_id)
    return list(db.session.scalars(query.order_by(JournalEntry.id)))


def _same_postings(entry: JournalEntry, spec: rules.JournalEntrySpec) -> bool:
    posted = Counter((p.account_code, p.amount_cents) for p in entry.postings)
    return posted == Counter((p.account_code, p.amount_cents) for p in spec.postings)


def _existing(spec: rules.JournalEntrySpec) -> JournalEntry | None:
    entry = find_entry(spec.idempotency_key)
    if entry is not None and not _same_postings(entry, spec):
        raise Conflict(f"Entry '{spec.idempotency_key}' was already posted with different amounts; "
                       "post a reversal and a new entry to correct it.")
    return entry


def post(spec: rules.JournalEntrySpec, *, source_type: str | None = None, source_id: int | None = None,
         reverses_entry_id: int | None = None) -> JournalEntry:
    """Post a balanced entry once per idempotency key, in the caller's transaction (the caller commits).

    Rules (DOMAIN ledger, issue 4 §1): two or more non-zero integer postings summing to zero; accounts are
    created on first use; an existing key returns the entry already posted, also when another caller wins
    a race for it (the unique violation is caught inside a savepoint); the same key with different
    postings is a ``Conflict``. An invalid entry is a ``ValidationFailed``.
    """
    try:
        rules.validate_entry(spec)
    except rules.UnbalancedEntry as exc:
        raise ValidationFailed({"entry": str(exc)}) from exc
    entry = _existing(spec)
    if entry is not None:
        return entry
    ensure_accounts(p.account_code for p in spec.postings)
    try:
        with db.session.begin_nested():
            entry = JournalEntry(idempotency_key=spec.idempotency_key, memo=spec.memo, occurred_on=spec.occurred_on,
                                 source_type=source_type, source_id=source_id, reverses_entry_id=reverses_entry_id)
            entry.postings = [Posting(account_code=p.account_code, amount_cents=p.amount_cents) for p in spec.postings]
            db.session.add(entry)
    except IntegrityError:
        winner = _existing(spec)
        if winner is None:
            raise
        return winner
    return entry


def spec_of(entry: JournalEntry) -> rules.JournalEntrySpec:
    """A posted entry as the domain's value object (for reversals and comparisons)."""
    postings = tuple(rules.Posting(p.account_code, p.amount_cents) for p in entry.postings)
    return rules.JournalEntrySpec(entry.idempotency_key, entry.memo, entry.occurred_on, postings)


def reverse(entry_id: int, key: str, memo: str, on: date | None = None) -> JournalEntry:
    """Correct a posted entry the only allowed way: post its exact negation under a new key.

    The original stays; original plus reversal leave every account as it was. Reversing twice with the
    same key returns the first reversal; an entry that is itself a reversal cannot be reversed again.
    """
    original = db.session.get(JournalEntry, entry_id)
    if original is None:
        raise NotFound(f"Journal entry {entry_id} does not exist.")
    if original.reverses_entry_id is not None:
        raise Conflict(f"Entry {entry_id} is a reversal; post a new entry instead of reversing it.")
    try:
        spec = rules.reversal_of(spec_of(original), key, memo, on)
    except rules.UnbalancedEntry as exc:
        raise ValidationFailed({"key": str(exc)}) from exc
    return post(spec, source_type=original.source_type, source_id=original.source_id, reverses_entry_id=entry_id)


def _sum_query(as_of: date | None):
    query = select(Posting.account_code, func.sum(Posting.amount_cents))
    if as_of is not None:
        query = query.join(JournalEntry, JournalEntry.id == Posting.entry_id).where(JournalEntry.occurred_on <= as_of)
    return query.group_by(Posting.account_code)


def balance(account_code: str, as_of: date | None = None) -> int:
    """Net debit (positive) or credit (negative) of one account, from entries dated on or before ``as_of``."""
    query = _sum_query(as_of).where(Posting.account_code == account_code)
    row = db.session.execute(query).first()
    return int(row[1]) if row else 0


def balances(prefix: str | None = None, as_of: date | None = None) -> dict[str, int]:
    """Net debit (positive) or credit (negative) per account whose code starts with ``prefix``
    (``"2100:"`` = every worker payable), in code order; accounts that net to zero are included."""
    query = _sum_query(as_of)
    if prefix:
        query = query.where(Posting.account_code.startswith(prefix, autoescape=True))
    rows = db.session.execute(query.order_by(Posting.account_code)).all()
    return {code: int(total) for code, total in rows}


def counts() -> tuple[int, int]:
    """How many entries and postings the ledger holds."""
    entries = db.session.scalar(select(func.count()).select_from(JournalEntry)) or 0
    postings = db.session.scalar(select(func.count()).select_from(Posting)) or 0
    return entries, postings


def verify() -> list[str]:
    """Every problem found in the books; an empty list means the ledger is sound (issue 4 §8).

    Checks: each entry balances and has two or more postings; no posting lacks its entry or account; no
    worker payable is in debit (a worker owing the co-op); fee revenue equals the fees of the confirmed
    gigs (see ``services.ledger_checks``).
    """
    from marketplace.services import ledger_checks

    return ledger_checks.structural_problems() + ledger_checks.fee_problems()
