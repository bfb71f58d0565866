"""The member register the board keeps and exports, and each member's own membership summary (issue 6 §1, §6).

The register lists everyone who has a membership row (applicants, members, former members): member number,
name, join date, share paid and due, status, and the dated status history.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from sqlalchemy import or_, select

from marketplace.domain import voting
from marketplace.domain.money import format_cents
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.models import Membership, MembershipEvent, User
from marketplace.services import member_shares, membership

CSV_COLUMNS = ("member_number", "name", "email", "status", "applied_on", "joined_on", "left_on",
               "share_amount", "share_paid", "share_plan", "status_history")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula (CSV injection): a name such as ``=HYPERLINK(…)``."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _histories(user_ids: list[int]) -> dict[int, list[MembershipEvent]]:
    found: dict[int, list[MembershipEvent]] = defaultdict(list)
    if user_ids:
        rows = db.session.scalars(select(MembershipEvent).where(MembershipEvent.user_id.in_(user_ids))
                                  .order_by(MembershipEvent.effective_on, MembershipEvent.id))
        for event in rows:
            found[event.user_id].append(event)
    return found


def history_text(events: list[MembershipEvent]) -> str:
    """A status history on one line: ``2026-01-05 applicant; 2026-02-01 member``."""
    return "; ".join(f"{e.effective_on.isoformat()} {e.to_status}" for e in events)


def register(search: str | None = None, status: str | None = None, actor_id: int | None = None) -> list[dict]:
    """The register (board and treasurer): members by number, then applicants and others by name."""
    membership.require(actor_id, membership.REGISTER_ROLES, "read the member register")
    query = select(Membership, User).join(User, User.id == Membership.user_id)
    if status in voting.MEMBERSHIP_STATUSES:
        query = query.where(Membership.status == status)
    if search and search.strip():
        pattern = f"%{search.strip()}%"
        query = query.where(or_(User.name.ilike(pattern), User.email.ilike(pattern)))
    rows = db.session.execute(query.order_by(Membership.member_number.is_(None), Membership.member_number,
                                             User.name)).all()
    histories = _histories([m.user_id for m, _ in rows])
    return [_entry(m, user, histories.get(m.user_id, [])) for m, user in rows]


def _entry(row: Membership, user: User, events: list[MembershipEvent]) -> dict:
    return {
        "user_id": user.id, "member_number": row.member_number, "name": user.name, "email": user.email,
        "status": row.status, "applied_on": row.applied_on, "joined_on": row.joined_on, "left_on": row.left_on,
        "share_amount_cents": row.share_amount_cents, "share_paid_cents": row.share_paid_cents,
        "share_due_cents": row.share_due_cents, "share_plan": row.share_plan, "history": events,
        "good_standing": row.status == voting.MEMBER and (row.share_due_cents <= 0 or row.share_plan == "instalments"),
    }


def register_csv(actor_id: int | None) -> str:
    """The register as CSV (UTF-8, one row per person, money as decimal dollars, dates ISO; names and emails
    that start like a formula get a leading apostrophe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in register(actor_id=actor_id):
        writer.writerow([
            item["member_number"] or "", _text_cell(item["name"]), _text_cell(item["email"]), item["status"],
            *(d.isoformat() if d else "" for d in (item["applied_on"], item["joined_on"], item["left_on"])),
            format_cents(item["share_amount_cents"]), format_cents(item["share_paid_cents"]), item["share_plan"],
            history_text(item["history"]),
        ])
    return out.getvalue()


def member_detail(user_id: int, actor_id: int | None) -> dict:
    """One person's register entry with their share payments (board and treasurer)."""
    membership.require(actor_id, membership.REGISTER_ROLES, "read the member register")
    row = membership.get(user_id)
    if row is None:
        raise NotFound(f"Person {user_id} has no membership record.")
    item = _entry(row, row.user, membership.history(user_id))
    item["payments"] = member_shares.share_payments(user_id)
    return item


def my_membership(user_id: int) -> dict:
    """What a person sees of their own membership: status, number, dates, share, history, and whether
    (and when) they may apply."""
    row = membership.get(user_id)
    user = db.session.get(User, user_id)
    item = _entry(row, user, membership.history(user_id)) if row else {
        "user_id": user_id, "member_number": None, "name": user.name, "email": user.email,
        "status": voting.PROBATIONARY if user.has_role("worker") else None, "applied_on": None,
        "joined_on": None, "left_on": None, "share_amount_cents": 0, "share_paid_cents": 0,
        "share_due_cents": 0, "share_plan": "lump", "history": [], "good_standing": False,
    }
    item["payments"] = member_shares.share_payments(user_id) if row else []
    can_apply = user.has_role("worker") and item["status"] in (voting.PROBATIONARY, voting.LEFT)
    item["eligibility"] = membership.eligibility(user_id) if can_apply else None
    item["can_apply"] = can_apply
    return item
