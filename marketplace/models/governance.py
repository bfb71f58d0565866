"""Membership and governance: the member register, shares, proposals, votes and discussion (issue 6).

Secret ballots (see ``marketplace/services/governance_ballots.py`` for the whole design): who voted is in
``participations`` (one row per member eligible when the vote opened, with a ``voted`` flag); how is in
``ballots``, which has no voter, no timestamp and no sequence: a random UUID key, the option chosen and an
HMAC of a token only the voter holds. Open ballots keep the choice on the participation row instead.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.domain.voting import KINDS, MEMBERSHIP_STATUSES, SHARE_PLANS
from marketplace.extensions import db
from marketplace.models.base import UTCDateTime, utcnow

PROPOSAL_STATES = ("open", "closing", "passed", "failed")
EFFECT_STATES = ("none", "pending", "applied", "failed")
SHARE_METHODS = ("bank", "payout")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Membership(db.Model):
    """A worker's standing in the co-op: one row per person who ever was a worker-owner or applied."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint(_in("status", MEMBERSHIP_STATUSES), name="status_known"),
        CheckConstraint(_in("share_plan", SHARE_PLANS), name="share_plan_known"),
        CheckConstraint("share_paid_cents >= 0 AND share_paid_cents <= share_amount_cents", name="share_paid_range"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    member_number: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(20), default="probationary")
    applied_on: Mapped[date | None] = mapped_column(Date)
    joined_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    share_amount_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    share_paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    share_plan: Mapped[str] = mapped_column(String(12), default="lump")
    instalment_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user = relationship("User")

    @property
    def share_due_cents(self) -> int:
        return self.share_amount_cents - self.share_paid_cents


class MembershipEvent(db.Model):
    """The status history: every change with the date it takes effect; rows are only ever added."""

    __tablename__ = "membership_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")


class SharePayment(db.Model):
    """One payment towards a member's share, posted to the ledger as share capital (account 3000)."""

    __tablename__ = "share_payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="amount_positive"),
        CheckConstraint(_in("method", SHARE_METHODS), name="method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(10))
    paid_on: Mapped[date] = mapped_column(Date)
    ledger_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Proposal(db.Model):
    """A question put to the members; its bylaw rules are frozen when it opens."""

    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint(_in("status", PROPOSAL_STATES), name="status_known"),
        CheckConstraint(_in("effect_status", EFFECT_STATES), name="effect_status_known"),
        CheckConstraint("closes_at > opened_at", name="window_positive"),
        Index("ix_proposals_status_closes_at", "status", "closes_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(160))
    body: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str] = mapped_column(Text, default="{}")  # kind-specific parameters, JSON
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")
    proposer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quorum_percent: Mapped[str] = mapped_column(String(20))
    threshold_percent: Mapped[str] = mapped_column(String(20))
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    voted_count: Mapped[int | None] = mapped_column(Integer)
    result_note: Mapped[str] = mapped_column(Text, default="")
    effect_status: Mapped[str] = mapped_column(String(10), default="none")
    effect_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    effect_detail: Mapped[str] = mapped_column(Text, default="")
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    proposer = relationship("User")
    options: Mapped[list[ProposalOption]] = relationship(order_by="ProposalOption.position", lazy="selectin",
                                                         cascade="all, delete-orphan")


class ProposalOption(db.Model):
    """One choice on the ballot ("for", "against", "abstain", or a candidate's user id)."""

    __tablename__ = "proposal_options"
    __table_args__ = (UniqueConstraint("proposal_id", "position"), UniqueConstraint("proposal_id", "value"))

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(160))
    votes: Mapped[int | None] = mapped_column(Integer)  # the final count, written when the vote closes


class Participation(db.Model):
    """The electorate of a proposal (members in good standing when it opened) and who has voted.

    ``open_option_id`` holds the choice for open ballots only; for secret ballots it is always NULL.
    """

    __tablename__ = "participations"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    voted: Mapped[bool] = mapped_column(Boolean, default=False)
    open_option_id: Mapped[int | None] = mapped_column(ForeignKey("proposal_options.id", ondelete="SET NULL"))


class Ballot(db.Model):
    """A secret ballot: the choice and nothing that names or orders the voter (see the module docstring)."""

    __tablename__ = "ballots"
    __table_args__ = (UniqueConstraint("proposal_id", "token_mac"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # a random UUID, renewed at every rewrite
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    option_id: Mapped[int] = mapped_column(ForeignKey("proposal_options.id", ondelete="CASCADE"))
    token_mac: Mapped[str | None] = mapped_column(String(64))  # HMAC(proposal key, voter's token); NULL once closed


class BallotKey(db.Model):
    """The per-proposal HMAC key for secret ballot tokens; deleted when the vote closes."""

    __tablename__ = "ballot_keys"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(64))


class ProposalComment(db.Model):
    """A member's contribution to the discussion of a proposal."""

    __tablename__ = "proposal_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author = relationship("User")


class OfficerTerm(db.Model):
    """An elected officer's term; a later election of the same office ends the terms of those not re-elected."""

    __tablename__ = "officer_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    office: Mapped[str] = mapped_column(String(20))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)

    member = relationship("User")
