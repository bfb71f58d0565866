"""Factories for the governance tests: members in good standing, applicants, and proposals at a known time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import Membership, Proposal

OPENED = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def add_member(make_user, *, name: str | None = None, joined: date = date(2025, 1, 6), paid: bool = True,
               plan: str = "lump", roles: tuple[str, ...] = ("worker", "member")):
    """A worker-owner with a membership row: status member, share paid (or not), a member number."""
    user = make_user(*roles, name=name)
    number = (db.session.scalar(select(func.max(Membership.member_number))) or 0) + 1
    db.session.add(Membership(user_id=user.id, member_number=number, status="member", joined_on=joined,
                              share_amount_cents=10000, share_paid_cents=10000 if paid else 0, share_plan=plan,
                              instalment_cents=2500))
    db.session.commit()
    return user


def add_applicant(make_user, *, name: str | None = None):
    """A worker who has applied for membership."""
    user = make_user("worker", name=name)
    db.session.add(Membership(user_id=user.id, status="applicant", applied_on=date(2026, 2, 1),
                              share_amount_cents=0, share_paid_cents=0, share_plan="lump", instalment_cents=0))
    db.session.commit()
    return user


def members(make_user, count: int) -> list:
    return [add_member(make_user) for _ in range(count)]


def during(proposal: Proposal, minutes: int = 5) -> datetime:
    """A moment inside the proposal's voting window."""
    return proposal.opened_at + timedelta(minutes=minutes)


def after(proposal: Proposal) -> datetime:
    """The first moment after the window."""
    return proposal.closes_at + timedelta(seconds=1)
