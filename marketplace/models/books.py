"""The treasurer's books: operating expenses, other (non-patronage) income and bank-file imports.

Each expense and income row is posted to the ledger once (``journal_entry_id``); the ledger, not these
rows, is what the reports add up. ``request_key`` makes recording idempotent: a form or API request
sent twice with the same key records one row. An import batch remembers the SHA-256 of its file so the
same file is never imported twice.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models.base import BigId, UTCDateTime, utcnow
from marketplace.models.users import User


class ImportBatch(db.Model):
    """One bank CSV imported in full (all rows or none)."""

    __tablename__ = "import_batches"
    __table_args__ = (CheckConstraint("row_count > 0", name="has_rows"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    row_count: Mapped[int] = mapped_column(Integer)
    expense_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    income_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()


class Expense(db.Model):
    """An operating expense paid from the bank, in a category (ledger account ``5000:<category>``)."""

    __tablename__ = "expenses"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_expenses_occurred_on", "occurred_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str] = mapped_column(String(40))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(200))
    receipt_path: Mapped[str | None] = mapped_column(String(80))
    receipt_name: Mapped[str | None] = mapped_column(String(255))
    request_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    journal_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    import_batch: Mapped[ImportBatch | None] = relationship()


class OtherIncome(db.Model):
    """Non-patronage income received in the bank (interest, rent…), posted to ledger account 4500."""

    __tablename__ = "other_income"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_other_income_occurred_on", "occurred_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(30))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(200))
    request_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"), index=True)
    journal_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    import_batch: Mapped[ImportBatch | None] = relationship()
