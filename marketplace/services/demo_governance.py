"""Demo governance: the member register, paid shares, a few past decisions and one vote still open.

Every demo user with the member role gets a membership record with a join date (spread over the last three
years, member numbers in join order) and a status history; most paid their share in the bank (posted to the
ledger through ``member_shares.record_share_payment``), a few pay by instalments from their payouts. One
probationary worker has applied. The decisions are made the way members make them — tabled, voted (open
and secret ballots) and closed through the services, with the clock moved back — so their results,
turnout and effects are real: a fee rise that failed, a code of conduct adopted, a treasurer elected.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from marketplace.domain import voting
from marketplace.extensions import db
from marketplace.models import Membership, MembershipEvent, User, UserRole
from marketplace.models.base import utcnow
from marketplace.services import fees, governance, governance_ballots, member_shares, membership

SHARE_CENTS = 10_000
PAST = (
    ("general", "Adopt the co-op's code of conduct",
     "Respect for clients and each other, and how disputes between members are handled.", {}, 0.85, 120),
    ("fee_change", "Raise the co-op fee to 8%", "To hire a part-time coordinator sooner.", "fee", 0.3, 75),
    ("election", "Elect the treasurer for this year", "One seat; the treasurer keeps the books and runs the "
     "year-end dividend.", "election", 0.8, 40),
)


def _members() -> list[User]:
    return list(db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                   .where(UserRole.role == "member").order_by(User.id)))


def _event(user_id: int, old: str, new: str, on: date) -> None:
    db.session.add(MembershipEvent(user_id=user_id, from_status=old, to_status=new, effective_on=on, note="demo"))


def _register(rng: random.Random, today: date) -> list[User]:
    people = _members()
    joins = sorted(today - timedelta(days=rng.randint(120, 1100)) for _ in people)
    for number, (user, joined) in enumerate(zip(people, joins, strict=True), start=1):
        plan = "instalments" if number % 7 == 0 else "lump"
        db.session.add(Membership(user_id=user.id, member_number=number, status=voting.MEMBER,
                                  applied_on=joined - timedelta(days=21), joined_on=joined,
                                  share_amount_cents=SHARE_CENTS, share_paid_cents=0, share_plan=plan,
                                  instalment_cents=2_500))
        _event(user.id, voting.PROBATIONARY, voting.APPLICANT, joined - timedelta(days=21))
        _event(user.id, voting.APPLICANT, voting.MEMBER, joined)
    db.session.commit()
    return people


def _pay_shares(people: list[User], treasurer_id: int) -> int:
    paid = 0
    for user in people:
        row = membership.get(user.id)
        if row.share_plan == "lump":
            member_shares.record_share_payment(user.id, SHARE_CENTS, row.joined_on + timedelta(days=7), treasurer_id,
                                               f"DEMO-SHARE-{row.member_number}")
            paid += 1
    return paid


def _probationary(today: date) -> int:
    workers = db.session.scalars(select(User).join(UserRole, UserRole.user_id == User.id)
                                 .where(UserRole.role == "worker").order_by(User.id)).all()
    count = 0
    for user in workers:
        if membership.get(user.id) is None:
            applied = user.email == "probation@demo.coop"
            db.session.add(Membership(user_id=user.id, status=voting.APPLICANT if applied else voting.PROBATIONARY,
                                      applied_on=today - timedelta(days=3) if applied else None,
                                      share_amount_cents=0, share_paid_cents=0, share_plan="lump",
                                      instalment_cents=0))
            if applied:
                _event(user.id, voting.PROBATIONARY, voting.APPLICANT, today - timedelta(days=3))
            count += 1
    db.session.commit()
    return count


def _params(kind_params, people: list[User], treasurer: User, today: date):
    if kind_params == "fee":
        return {"percent": "8", "effective_from": today.isoformat()}
    if kind_params == "election":
        rival = next(u for u in people if u.id != treasurer.id)
        return {"office": "treasurer", "seats": 1, "candidate_ids": [treasurer.id, rival.id]}
    return kind_params


def _decide(rng: random.Random, people: list[User], treasurer: User, days_ago: int, spec) -> None:
    kind, title, body, params, support, turnout_percent = spec
    opened = utcnow() - timedelta(days=days_ago)
    proposal = governance.table_proposal(people[0].id, kind, title, body,
                                         _params(params, people, treasurer, fees.local_date(opened)), now=opened)
    options = [o.value for o in proposal.options]
    for minutes, voter in enumerate(people, start=1):
        if rng.randrange(100) >= turnout_percent:
            continue
        choice = options[0] if rng.random() < support else options[1]
        governance_ballots.cast_vote(proposal.id, voter.id, choice, now=proposal.opened_at + timedelta(minutes=minutes))
    governance.close_proposal(proposal.id, proposal.closes_at + timedelta(minutes=1))


def seed_governance(today: date | None = None) -> dict[str, int]:
    """Create the register, shares, three past decisions and one open vote (run after ``demo.seed``)."""
    rng = random.Random(2026)
    today = today or fees.local_date()
    treasurer = db.session.scalar(select(User).where(User.email == "treasurer@demo.coop"))
    people = _register(rng, today)
    paid = _pay_shares(people, treasurer.id)
    others = _probationary(today)
    for days_ago, spec in zip((200, 120, 60), PAST, strict=True):
        _decide(rng, people, treasurer, days_ago, spec)
    opened = datetime.combine(today - timedelta(days=2), time(16), UTC)
    open_vote = governance.table_proposal(
        people[1].id, "general", "Buy shared deep-cleaning equipment",
        "A carpet cleaner and a steam mop the cleaners can book, paid from the collective reserve.", now=opened)
    for minutes, voter in enumerate(people[:len(people) // 3], start=1):
        governance_ballots.cast_vote(open_vote.id, voter.id, "for" if minutes % 4 else "against",
                                     now=opened + timedelta(minutes=minutes))
    return {"members": len(people), "shares paid": paid, "other workers": others, "decisions": len(PAST),
            "open votes": 1}
