"""Membership: applying, admission, the member share, leaving, and the member register (issue 6 §1).

Lifecycle (``domain.voting.MEMBERSHIP_TRANSITIONS``): a probationary worker applies once eligible (bylaw
settings ``membership_min_hours`` and ``membership_min_months``); the board admits them, or the members do
by a vote when ``admission_by_vote`` is 1; admission grants the ``member`` role, gives the next member
number and dates the join; the share (``member_share_cents``) is paid at once or in instalments taken from
weekly payouts, each payment posted to the ledger as member share capital (3000) by
``services.member_shares``. A member leaves or is
expelled with an effective date: the role is revoked, elected offices end, and the capital account
becomes payable (``services.capital.depart_member``). Every change adds a ``MembershipEvent``.

A member is *in good standing* while their status is ``member`` and their share is paid in full or being
paid by instalments. Only members in good standing when a vote opens may vote on it.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from marketplace.domain import voting
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Job, Membership, MembershipEvent, OfficerTerm, User
from marketplace.services import accounts, audit, fees, settings

BOARD_ROLES = ("admin",)
REGISTER_ROLES = ("admin", "treasurer")


def today() -> date:
    """The co-op's calendar date (its time zone decides when a day starts)."""
    return fees.local_date()


def require(actor_id: int | None, roles: tuple[str, ...], action: str) -> User:
    """The acting user, who must hold one of ``roles``; otherwise Forbidden."""
    user = db.session.get(User, actor_id) if actor_id is not None else None
    if user is None or not user.is_active_account or not user.has_role(*roles):
        raise Forbidden(f"Only the {' or '.join('board' if r == 'admin' else r for r in roles)} can {action}.")
    return user


def get(user_id: int) -> Membership | None:
    """The person's membership row, if they have one."""
    return db.session.get(Membership, user_id)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"Person {user_id} does not exist.")
    return user


def ensure(user_id: int) -> Membership:
    """The person's membership row, created as probationary for a worker who has none (caller commits)."""
    row = get(user_id)
    if row is None:
        _user(user_id)
        row = Membership(user_id=user_id, status=voting.PROBATIONARY, share_amount_cents=0, share_paid_cents=0,
                         share_plan="lump", instalment_cents=0)
        db.session.add(row)
        db.session.flush()
    return row


def good_standing_condition():
    """SQL: a membership in good standing (status member; share paid, or being paid by instalments)."""
    return and_(Membership.status == voting.MEMBER,
                or_(Membership.share_paid_cents >= Membership.share_amount_cents,
                    Membership.share_plan == "instalments"))


def in_good_standing(user_id: int) -> bool:
    """Whether the person is a member in good standing now."""
    return db.session.scalar(select(Membership.user_id).where(Membership.user_id == user_id,
                                                             good_standing_condition())) is not None


def members_between(start: date, end: date):
    """A SELECT of ``member_id``: everyone who was a member on any day of [start, end] (patronage eligibility,
    DOMAIN.md §2: membership dates decide it)."""
    return select(Membership.user_id.label("member_id")).where(
        Membership.joined_on.is_not(None), Membership.joined_on <= end,
        or_(Membership.left_on.is_(None), Membership.left_on >= start))


def eligibility(user_id: int, on: date | None = None) -> voting.Eligibility:
    """Hours of confirmed gigs and months since sign-up against the bylaw minimums."""
    user = _user(user_id)
    on = on or today()
    minutes = db.session.scalar(select(func.coalesce(func.sum(Job.actual_minutes), 0)).where(
        Job.worker_id == user_id, Job.confirmed_at.is_not(None))) or 0
    return voting.application_eligibility(int(minutes), fees.local_date(user.created_at), on,
                                          settings.get("membership_min_hours", on),
                                          settings.get("membership_min_months", on))


def _change(row: Membership, action: str, effective_on: date, actor_id: int | None, note: str = "",
            proposal_id: int | None = None, **values) -> None:
    """Apply a lifecycle transition with a conditional UPDATE and record it (the caller commits)."""
    try:
        target = voting.next_membership_status(row.status, action)
    except voting.IllegalMembershipChange as exc:
        raise Conflict(str(exc)) from exc
    changed = db.session.execute(
        update(Membership).where(Membership.user_id == row.user_id, Membership.status == row.status)
        .values(status=target, **values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict("The membership changed meanwhile; reload and try again.")
    db.session.add(MembershipEvent(user_id=row.user_id, from_status=row.status, to_status=target,
                                   effective_on=effective_on, actor_id=actor_id, proposal_id=proposal_id,
                                   note=(note or "")[:2000]))
    audit.record(f"membership.{action}", actor_id=actor_id, subject=row.user,
                 detail=f"{row.status} → {target} on {effective_on.isoformat()}")
    db.session.refresh(row)


def apply(user_id: int, note: str = "", *, on: date | None = None) -> Membership:
    """A worker applies for membership once eligible; with ``admission_by_vote`` the application is put to
    the members at once (an admission proposal). Commits."""
    user = _user(user_id)
    if not user.has_role("worker"):
        raise Forbidden("Only workers can apply for membership.")
    on = on or today()
    check = eligibility(user_id, on)
    if not check.eligible:
        raise ValidationFailed({"__all__": _not_yet(check)})
    row = ensure(user_id)
    _change(row, "apply", on, user_id, note, applied_on=on)
    if settings.get("admission_by_vote", on) == 1:
        from marketplace.services import governance

        governance.table_admission(user_id)
    db.session.commit()
    return row


def _not_yet(check: voting.Eligibility) -> str:
    parts = []
    if not check.hours_met:
        parts.append(f"{check.minutes_worked // 60} of {check.minutes_needed // 60} hours of confirmed gigs")
    if not check.months_met:
        parts.append(f"on the platform until {check.eligible_from.isoformat()}")
    return "You can apply once you have worked enough with the co-op: " + "; ".join(parts) + "."


def withdraw_application(user_id: int) -> Membership:
    """An applicant withdraws their application. Commits."""
    row = ensure(user_id)
    _change(row, "withdraw", today(), user_id)
    db.session.commit()
    return row


def _parse_plan(share_plan: str) -> str:
    if share_plan not in voting.SHARE_PLANS:
        raise ValidationFailed({"share_plan": "Choose to pay the share at once or in instalments from payouts."})
    return share_plan


def admit_member(user_id: int, effective_on: date, actor_id: int | None, *, share_plan: str = "lump",
                 proposal_id: int | None = None) -> Membership:
    """Admit an applicant (the caller commits): member number, join date, share due, the member role."""
    row = ensure(user_id)
    share_plan = _parse_plan(share_plan)
    if row.applied_on and effective_on < row.applied_on:
        raise ValidationFailed({"effective_on": "Admission cannot take effect before the application."})
    number = (db.session.scalar(select(func.max(Membership.member_number))) or 0) + 1
    amount = settings.get("member_share_cents", effective_on)
    _change(row, "admit", effective_on, actor_id, proposal_id=proposal_id, member_number=number,
            joined_on=effective_on, left_on=None, share_amount_cents=row.share_paid_cents + amount,
            share_plan=share_plan, instalment_cents=settings.get("share_instalment_cents", effective_on))
    accounts.grant_role(row.user, "member", actor_id=actor_id)
    return row


def admit(user_id: int, actor_id: int, *, effective_on: date | None = None, share_plan: str = "lump") -> Membership:
    """The board admits an applicant (when admission is by the board). Commits."""
    require(actor_id, BOARD_ROLES, "admit members")
    on = effective_on or today()
    if on > today():
        raise ValidationFailed({"effective_on": "An admission takes effect today or on an earlier date."})
    row = admit_member(user_id, on, actor_id, share_plan=share_plan)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("Another admission took the same member number; try again.") from exc
    return row


def decline(user_id: int, actor_id: int, reason: str = "") -> Membership:
    """The board declines an application; the worker stays probationary and may apply again. Commits."""
    require(actor_id, BOARD_ROLES, "decline applications")
    row = ensure(user_id)
    _change(row, "decline", today(), actor_id, reason)
    db.session.commit()
    return row


def depart(user_id: int, actor_id: int, *, expel: bool = False, effective_on: date | None = None,
           reason: str = "") -> Membership:
    """A member leaves (themselves or recorded by the board) or is expelled (board only), with an effective
    date no later than today: the member role and elected offices end, the capital account becomes payable."""
    if expel or actor_id != user_id:
        require(actor_id, BOARD_ROLES, "expel members or record a departure")
    row = ensure(user_id)
    on = effective_on or today()
    if on > today() or (row.joined_on and on < row.joined_on):
        raise ValidationFailed({"effective_on": "The date must be between the join date and today."})
    _change(row, "expel" if expel else "leave", on, actor_id, reason, left_on=on)
    accounts.revoke_role(row.user, "member", actor_id=actor_id)
    end_offices(user_id, on, actor_id)
    db.session.commit()
    from marketplace.services import capital

    capital.depart_member(user_id, on)  # idempotent per member; commits the settlement of the capital account
    return row


def end_offices(member_id: int, on: date, actor_id: int | None, *, office: str | None = None) -> None:
    """End a member's open officer terms (all, or one office) and revoke the roles they carried."""
    terms = db.session.scalars(select(OfficerTerm).where(OfficerTerm.member_id == member_id,
                                                         OfficerTerm.ended_on.is_(None))).all()
    for term in terms:
        if office is None or term.office == office:
            term.ended_on = on
            accounts.revoke_role(term.member, voting.OFFICES[term.office][1], actor_id=actor_id)


def history(user_id: int) -> list[MembershipEvent]:
    """A person's membership events, oldest first."""
    return list(db.session.scalars(select(MembershipEvent).where(MembershipEvent.user_id == user_id)
                                   .order_by(MembershipEvent.effective_on, MembershipEvent.id)))
