"""A period's patronage and income, read from the gigs and the ledger with set-based SQL (no ORM loops).

- Eligible members (``eligible_members``): users who held the member role at any time in the period. Until
  membership history exists (governance issue) that is: granted the member role before the period ended, or
  did a gig as a member (``jobs.worker_was_member``) confirmed in the period — so a member who left during
  the period is still included. Swap this one function when the history arrives.
- Patronage per member (DOMAIN.md §2): minutes = SUM(jobs.actual_minutes) and earnings = SUM of the credit to
  the worker's payable ``2100:<worker>`` in the gig's charge entry (key ``gig:<id>:charge``), over gigs
  confirmed in the period while the worker was a member. Zero patronage gives zero.
- Income figures (DOMAIN.md §1) from postings of entries dated in the period: MF = net credits to 4000,
  NF = net credits to 4010, OI = net credits to 4500, X = net debits to 5000:*.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlalchemy import String, and_, cast, func, literal, or_, select, text, union
from sqlalchemy.sql import Select

from marketplace.domain import ledger as chart
from marketplace.domain.patronage import IncomeFigures, MemberPatronage
from marketplace.extensions import db
from marketplace.models import Job, UserRole
from marketplace.models.ledger import JournalEntry, LedgerAccount, Posting
from marketplace.models.treasury import FiscalPeriod
from marketplace.services.periods import period_bounds


@dataclass(frozen=True)
class PatronageRow:
    """One eligible member's patronage in a period, plus their capital-account balance (credit positive)."""

    member_id: int
    minutes: int
    earnings_cents: int
    ica_balance_cents: int = 0

    def as_domain(self) -> MemberPatronage:
        """The engine's input: member number as text, hours as an exact fraction of minutes."""
        return MemberPatronage(str(self.member_id), Fraction(self.minutes, 60), self.earnings_cents)


def _member_gigs(period: FiscalPeriod):
    start, end = period_bounds(period)
    return and_(Job.worker_was_member.is_(True), Job.confirmed_at >= start, Job.confirmed_at < end,
                Job.worker_id.is_not(None))


def eligible_members(period: FiscalPeriod, worked=None) -> Select:
    """A SELECT of ``member_id``: everyone who held the member role at any time in ``period`` (see module doc).

    ``worked`` may be a selectable with a ``member_id`` column of members with gigs in the period (the
    patronage CTE), so the gigs are scanned once.
    """
    _, end = period_bounds(period)
    by_role = select(UserRole.user_id.label("member_id")).where(UserRole.role == "member", UserRole.granted_at < end)
    by_gigs = (select(worked.c.member_id) if worked is not None
               else select(Job.worker_id.label("member_id")).where(_member_gigs(period)))
    return union(by_role, by_gigs)


def charge_key(job_id_column):
    """SQL for a gig's charge-entry key, as ``domain.ledger.entry_gig_charged`` writes it: ``gig:<id>:charge``."""
    return literal("gig:") + cast(job_id_column, String) + literal(":charge")


def gig_patronage(period: FiscalPeriod) -> Select:
    """Per worker: ``member_id, minutes, earnings`` over gigs confirmed in the period while a member (GROUP BY)."""
    payable = literal(chart.WORKER_PAYABLE + ":") + cast(Job.worker_id, String)
    return (
        select(
            Job.worker_id.label("member_id"),
            func.sum(Job.actual_minutes).label("minutes"),
            func.coalesce(func.sum(-Posting.amount_cents), 0).label("earnings"),
        )
        .select_from(Job)
        .outerjoin(JournalEntry, JournalEntry.idempotency_key == charge_key(Job.id))
        .outerjoin(Posting, and_(Posting.entry_id == JournalEntry.id, Posting.account_code == payable,
                                 Posting.amount_cents < 0))
        .where(_member_gigs(period))
        .group_by(Job.worker_id)
    )


def capital_balance_of(member_id_column):
    """Correlated SQL: the member's capital-account balance (credit positive; one index probe per member)."""
    code = literal(chart.CAPITAL_ACCOUNT + ":") + cast(member_id_column, String)
    return (select(func.coalesce(func.sum(-Posting.amount_cents), 0)).where(Posting.account_code == code)
            .scalar_subquery())


def capital_balances() -> Select:
    """Per capital account ``3100:<id>``: ``account_code, balance`` (credit balance as a positive number)."""
    return (
        select(Posting.account_code.label("account_code"), func.sum(-Posting.amount_cents).label("balance"))
        .where(Posting.account_code.like(chart.CAPITAL_ACCOUNT + ":%"))
        .group_by(Posting.account_code)
    )


def patronage_select(period: FiscalPeriod) -> Select:
    """Every eligible member with ``minutes, earnings, ica_balance`` (zeros when none), ordered by member number.

    One statement: the gigs are aggregated once (a materialised CTE) and also feed the eligible members.
    """
    gigs = gig_patronage(period).cte("gigs").prefix_with("MATERIALIZED")
    members = eligible_members(period, worked=gigs).subquery("eligible")
    return (
        select(
            members.c.member_id,
            func.coalesce(gigs.c.minutes, 0).label("minutes"),
            func.coalesce(gigs.c.earnings, 0).label("earnings"),
            capital_balance_of(members.c.member_id).label("ica_balance"),
        )
        .select_from(members)
        .outerjoin(gigs, gigs.c.member_id == members.c.member_id)
        .order_by(members.c.member_id)
    )


def plan_for_aggregates() -> None:
    """PostgreSQL: no JIT for the rest of this transaction. The patronage statement's correlated capital lookup
    inflates the planner's cost estimate, and compiling it with JIT costs seconds while saving nothing."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))


def patronage_rows(period: FiscalPeriod) -> list[PatronageRow]:
    """The period's patronage, read live (preview, member dashboard); ordered by member number (the tie-break)."""
    plan_for_aggregates()
    rows = db.session.execute(patronage_select(period))
    return [PatronageRow(int(m), int(minutes), int(e), int(b)) for m, minutes, e, b in rows]


def member_patronage(period: FiscalPeriod, member_id: int) -> PatronageRow:
    """One member's patronage so far in a period (zeros if none)."""
    row = db.session.execute(gig_patronage(period).where(Job.worker_id == member_id)).first()
    if row is None:
        return PatronageRow(member_id, 0, 0)
    return PatronageRow(member_id, int(row.minutes or 0), int(row.earnings or 0))


def income_figures(period: FiscalPeriod) -> IncomeFigures:
    """MF, NF, OI and X (DOMAIN.md §1) from the postings of entries dated within the period.

    The expense accounts are listed first (a small table), so the sum is one GROUP BY over an exact list of
    account codes: both databases then read only those accounts' postings through the account index.
    """
    expense_codes = list(db.session.scalars(select(LedgerAccount.code).where(
        or_(LedgerAccount.code == chart.EXPENSE, LedgerAccount.code.like(chart.EXPENSE + ":%")))))
    income_codes = [chart.FEE_REVENUE_MEMBER, chart.FEE_REVENUE_NONMEMBER, chart.OTHER_INCOME]
    totals = dict(db.session.execute(
        select(Posting.account_code, func.sum(Posting.amount_cents))
        .join(JournalEntry, JournalEntry.id == Posting.entry_id)
        .where(JournalEntry.occurred_on >= period.start_date, JournalEntry.occurred_on <= period.end_date,
               Posting.account_code.in_(income_codes + expense_codes))
        .group_by(Posting.account_code)
    ).all())
    credits = [-int(totals.get(code, 0)) for code in income_codes]
    return IncomeFigures(*credits, sum(int(totals.get(code, 0)) for code in expense_codes))
