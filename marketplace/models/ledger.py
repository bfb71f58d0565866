"""Money: the double-entry ledger, dated fee rates, payments, invoices, payouts and workers' bank details.

Journal entries and postings are never edited or deleted: the database refuses it (triggers created by
migration 0003_ledger). A correction is a reversing entry. Amounts are integer cents in BigInteger
columns; a posting's sign says debit (positive) or credit (negative). See ``domain/ledger.py`` for the
chart of accounts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.domain.pricing import FEE_MODES
from marketplace.extensions import db
from marketplace.models.base import BigId, UTCDateTime, utcnow
from marketplace.models.users import User

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "expense")
PAYMENT_PROVIDERS = ("test_card", "bank_transfer")
PAYMENT_STATES = ("pending", "authorized", "capturing", "captured", "invoiced", "failed", "voided")
INVOICE_STATES = ("open", "paid", "void")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class LedgerAccount(db.Model):
    """An account of the chart; sub-ledger accounts (``2100:<worker>``) are created on first posting."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (CheckConstraint(_in("kind", ACCOUNT_KINDS), name="kind_known"),)

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class JournalEntry(db.Model):
    """One business event, posted once (its idempotency key is unique) and never changed."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_source", "source_type", "source_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    memo: Mapped[str] = mapped_column(Text, default="")
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    reverses_entry_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entries.id"))

    postings: Mapped[list[Posting]] = relationship(back_populates="entry", order_by="Posting.id")


class Posting(db.Model):
    """A line of an entry: positive debits ``account_code``, negative credits it."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="amount_not_zero"),
        Index("ix_postings_account_entry", "account_code", "entry_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entries.id"), index=True)
    account_code: Mapped[str] = mapped_column(ForeignKey("ledger_accounts.code"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")


class FeeRate(db.Model):
    """The co-op fee in force from ``effective_from``: a percent in integer basis points (500 = 5 %),
    clamped to [min, max] when set, added on top of the client's bill or deducted from the worker's."""

    __tablename__ = "fee_rates"
    __table_args__ = (
        CheckConstraint("percent_bp BETWEEN 0 AND 10000", name="percent_range"),
        CheckConstraint("min_cents IS NULL OR min_cents >= 0", name="min_not_negative"),
        CheckConstraint("max_cents IS NULL OR max_cents >= 0", name="max_not_negative"),
        CheckConstraint("min_cents IS NULL OR max_cents IS NULL OR min_cents <= max_cents", name="min_below_max"),
        CheckConstraint(_in("mode", FEE_MODES), name="mode_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    percent_bp: Mapped[int] = mapped_column(Integer)
    min_cents: Mapped[int | None] = mapped_column(BigInteger)
    max_cents: Mapped[int | None] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PaymentMethod(db.Model):
    """A client's card on file: only the last four digits and the provider's token, never the number."""

    __tablename__ = "payment_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str] = mapped_column(String(20))
    last4: Mapped[str] = mapped_column(String(4))
    token: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Payment(db.Model):
    """The client's payment for one gig: authorized at booking, captured at confirmation (one per gig)."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(_in("provider", PAYMENT_PROVIDERS), name="provider_known"),
        CheckConstraint(_in("status", PAYMENT_STATES), name="status_known"),
        CheckConstraint("authorized_cents >= 0 AND amount_cents >= 0 AND refunded_cents >= 0", name="not_negative"),
        CheckConstraint("refunded_cents <= amount_cents", name="refund_within_paid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    authorized_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    card_last4: Mapped[str | None] = mapped_column(String(4))
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    failure_message: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Invoice(db.Model):
    """A bank-transfer bill for a gig; an admin or the treasurer marks it paid when the money arrives."""

    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(_in("status", INVOICE_STATES), name="status_known"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        Index("ix_invoices_status", "status", "issued_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    client_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8), default="open")
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    marked_paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    client: Mapped[User] = relationship(foreign_keys=[client_id])

    @property
    def number(self) -> str:
        return f"INV-{self.id:06d}"


class PayoutAccount(db.Model):
    """Where a worker's earnings are sent; shown masked everywhere except the bank file."""

    __tablename__ = "payout_accounts"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    holder_name: Mapped[str] = mapped_column(String(120))
    account_number: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PayoutBatch(db.Model):
    """The payouts of one week (one batch per week, so a re-run of the weekly task pays nobody twice)."""

    __tablename__ = "payout_batches"
    __table_args__ = (CheckConstraint("total_cents >= 0 AND minimum_cents >= 0", name="not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    week_start: Mapped[date] = mapped_column(Date, unique=True)
    paid_on: Mapped[date] = mapped_column(Date)
    minimum_cents: Mapped[int] = mapped_column(BigInteger)
    total_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[PayoutLine]] = relationship(back_populates="batch", order_by="PayoutLine.worker_id")


class PayoutLine(db.Model):
    """One transfer of a batch, with the bank details as they were when the batch was made."""

    __tablename__ = "payout_lines"
    __table_args__ = (
        UniqueConstraint("batch_id", "worker_id"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(60))
    payee: Mapped[str] = mapped_column(String(120))
    account: Mapped[str] = mapped_column(String(40))
    journal_entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entries.id"))

    batch: Mapped[PayoutBatch] = relationship(back_populates="lines")
    worker: Mapped[User] = relationship()
