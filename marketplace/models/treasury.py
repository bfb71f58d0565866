"""The treasury: fiscal periods, versioned allocation policies, dividend runs, allocations, notices
and capital-account redemptions (DOMAIN.md §1–5).

Percentages and weights are stored as exact decimal strings (``"15"``, ``"12.5"``), money as int cents.
A dividend run is one row per period with a state; its allocations are written under the run's id and
are only shown once the run is ``completed`` (readers never see a half-written run). The staging table
``dividend_patronage`` holds the run's patronage snapshot, so a restarted run computes exactly what the
first attempt would have.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import db
from marketplace.models.base import UTCDateTime, utcnow
from marketplace.models.users import User

PERIOD_STATES = ("open", "closing", "closed")
RUN_STATES = ("approved", "queued", "running", "completed", "failed")
REDEMPTION_KINDS = ("revolve", "departure")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class FiscalPeriod(db.Model):
    """A fiscal period (usually a calendar year): open while it accumulates, then closing, then closed."""

    __tablename__ = "fiscal_periods"
    __table_args__ = (
        CheckConstraint(_in("status", PERIOD_STATES), name="status_known"),
        CheckConstraint("start_date <= end_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AllocationPolicy(db.Model):
    """One version of a period's dividend policy; a change adds a version, the latest approved one applies."""

    __tablename__ = "allocation_policies"
    __table_args__ = (
        UniqueConstraint("period_id", "version"),
        CheckConstraint("small_allocation_threshold_cents >= 0", name="threshold_not_negative"),
        CheckConstraint("revolving_years BETWEEN 0 AND 30", name="revolving_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("fiscal_periods.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reserve_percent: Mapped[str] = mapped_column(String(20))
    hours_weight: Mapped[str] = mapped_column(String(20))
    earnings_weight: Mapped[str] = mapped_column(String(20))
    cash_percent: Mapped[str] = mapped_column(String(20))
    small_allocation_threshold_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    revolving_years: Mapped[int] = mapped_column(Integer, default=5)
    # Share (0–100) of a loss borne by the collective reserve; the rest is debited to members' ICAs.
    loss_reserve_percent: Mapped[str] = mapped_column(String(20), default="100")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    period: Mapped[FiscalPeriod] = relationship()


class DividendRun(db.Model):
    """The one dividend run of a period: approved → queued → running → completed (or failed).

    ``claim_token`` fences the worker that owns a running run; ``heartbeat_at`` lets a restarted worker take
    over a run whose owner died. The figures are written when the run snapshots the period.
    """

    __tablename__ = "dividend_runs"
    __table_args__ = (
        CheckConstraint(_in("status", RUN_STATES), name="status_known"),
        CheckConstraint("members_processed >= 0 AND members_processed <= members_total", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("fiscal_periods.id"), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("allocation_policies.id"))
    status: Mapped[str] = mapped_column(String(10), default="approved")
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    task_id: Mapped[str | None] = mapped_column(String(64))
    claim_token: Mapped[str | None] = mapped_column(String(36))
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    members_total: Mapped[int] = mapped_column(Integer, default=0)
    members_processed: Mapped[int] = mapped_column(Integer, default=0)
    member_fees_cents: Mapped[int | None] = mapped_column(BigInteger)
    nonmember_fees_cents: Mapped[int | None] = mapped_column(BigInteger)
    other_income_cents: Mapped[int | None] = mapped_column(BigInteger)
    expenses_cents: Mapped[int | None] = mapped_column(BigInteger)
    net_margin_cents: Mapped[int | None] = mapped_column(BigInteger)
    member_surplus_cents: Mapped[int | None] = mapped_column(BigInteger)
    nonmember_surplus_cents: Mapped[int | None] = mapped_column(BigInteger)
    reserve_cents: Mapped[int | None] = mapped_column(BigInteger)
    allocable_cents: Mapped[int | None] = mapped_column(BigInteger)
    collective_cents: Mapped[int | None] = mapped_column(BigInteger)
    allocated_cents: Mapped[int | None] = mapped_column(BigInteger)
    cash_cents: Mapped[int | None] = mapped_column(BigInteger)
    retained_cents: Mapped[int | None] = mapped_column(BigInteger)
    loss_debited_cents: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)

    period: Mapped[FiscalPeriod] = relationship()
    policy: Mapped[AllocationPolicy] = relationship()


class DividendPatronage(db.Model):
    """A run's patronage snapshot, one row per eligible member, written by one INSERT … SELECT … GROUP BY."""

    __tablename__ = "dividend_patronage"

    run_id: Mapped[int] = mapped_column(ForeignKey("dividend_runs.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    minutes: Mapped[int] = mapped_column(BigInteger, default=0)
    earnings_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    ica_balance_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class Allocation(db.Model):
    """One member's patronage dividend in a run: share (exact and in ppm), allocation, cash and retained parts.

    In a loss year ``loss_debit_cents`` is what was debited to the member's capital account.
    """

    __tablename__ = "allocations"
    __table_args__ = (
        UniqueConstraint("run_id", "member_id"),
        CheckConstraint("cash_cents + retained_cents = allocation_cents", name="parts_sum"),
        Index("ix_allocations_member", "member_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("dividend_runs.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer)
    minutes: Mapped[int] = mapped_column(BigInteger)
    earnings_cents: Mapped[int] = mapped_column(BigInteger)
    share_exact: Mapped[str] = mapped_column(Text)  # "numerator/denominator"
    share_ppm: Mapped[int] = mapped_column(Integer)  # the share rounded to parts per million, for display
    allocation_cents: Mapped[int] = mapped_column(BigInteger)
    cash_cents: Mapped[int] = mapped_column(BigInteger)
    retained_cents: Mapped[int] = mapped_column(BigInteger)
    loss_debit_cents: Mapped[int] = mapped_column(BigInteger, default=0)

    run: Mapped[DividendRun] = relationship()
    member: Mapped[User] = relationship()


class AllocationNotice(db.Model):
    """The written notice of allocation for one non-zero allocation (DOMAIN.md §4)."""

    __tablename__ = "allocation_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("allocations.id", ondelete="CASCADE"), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    qualified: Mapped[bool] = mapped_column()
    consent_basis: Mapped[str] = mapped_column(String(200))
    ica_balance_cents: Mapped[int] = mapped_column(BigInteger)  # the capital account after this allocation

    allocation: Mapped[Allocation] = relationship()


class CapitalRedemption(db.Model):
    """Capital paid back from a member's ICA: a revolved allocation, or the whole balance on departure.

    ``key`` is also the idempotency key of the ledger entry, so a redemption is posted exactly once.
    """

    __tablename__ = "capital_redemptions"
    __table_args__ = (
        CheckConstraint(_in("kind", REDEMPTION_KINDS), name="kind_known"),
        CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("allocations.id"))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    effective_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
