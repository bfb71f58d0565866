"""Posting many journal entries at once (a dividend run posts one per member: thousands).

Same rules as ``services.ledger.post`` — every entry is validated by ``domain.ledger.validate_entry``,
accounts are created on first use, keys are unique in the database — but the rows go in with a few bulk
writes (COPY on PostgreSQL, executemany on SQLite) instead of one ORM flush per entry. It is meant for callers
that already guarantee each key is posted once (the dividend run writes a batch in the same transaction that
advances its fenced progress counter); a key posted twice anyway is refused by the unique index, so
nothing is ever doubled.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from marketplace.domain import ledger as rules
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models.base import utcnow
from marketplace.models.ledger import LedgerAccount
from marketplace.services import bulk_rows
from marketplace.services.ledger import ensure_accounts


def name_account(code: str, name: str) -> None:
    """Create an account under a chosen name unless it exists (the chart's generic name is used otherwise)."""
    dialect = db.session.get_bind().dialect.name
    insert_ = pg_insert if dialect == "postgresql" else sqlite_insert
    row = {"code": code, "name": name[:160], "kind": rules.account_kind(code)}
    db.session.execute(insert_(LedgerAccount).values([row]).on_conflict_do_nothing(index_elements=["code"]))


def post_many(specs: Sequence[rules.JournalEntrySpec], *, source_type: str, source_id: int | None,
              ensure: bool = True) -> list[int]:
    """Insert ``specs`` with their postings in the caller's transaction; returns the entry ids in order.

    Rule: each entry balances and has a unique idempotency key (domain.ledger); accounts appear on first use
    (``ensure=False`` when the caller has already created every account the entries touch).
    """
    if not specs:
        return []
    try:
        for spec in specs:
            rules.validate_entry(spec)
    except rules.UnbalancedEntry as exc:
        raise ValidationFailed({"entry": str(exc)}) from exc
    if ensure:
        ensure_accounts({p.account_code for spec in specs for p in spec.postings})
    now = utcnow()
    ids = bulk_rows.reserve_ids("journal_entries", len(specs))
    bulk_rows.write_rows(
        "journal_entries", ("id", "idempotency_key", "memo", "occurred_on", "posted_at", "source_type", "source_id"),
        [(entry_id, spec.idempotency_key, spec.memo, spec.occurred_on, now, source_type, source_id)
         for entry_id, spec in zip(ids, specs, strict=True)])
    bulk_rows.write_rows(
        "postings", ("entry_id", "account_code", "amount_cents"),
        [(entry_id, p.account_code, p.amount_cents) for entry_id, spec in zip(ids, specs, strict=True)
         for p in spec.postings])
    return ids
