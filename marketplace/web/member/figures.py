"""Live figures for the member dashboard and who may see a member's private treasury records.

Reads only: the current period's patronage and income straight from the gigs and the ledger
(``services.patronage``), the policy in force, and the pure estimate (``member.estimate``).
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.models.treasury import AllocationPolicy, FiscalPeriod
from marketplace.services import periods, settings
from marketplace.services.patronage import PatronageRow, income_figures, member_patronage, patronage_rows
from marketplace.web.member.estimate import DividendEstimate, estimate_dividend

STAFF_ROLES = ("treasurer", "admin")


@dataclass(frozen=True)
class MemberFigures:
    """What the dashboard shows about the period in progress (``period`` None when no period covers today)."""

    period: FiscalPeriod | None
    patronage: PatronageRow | None
    policy: AllocationPolicy | None
    policy_is_this_periods: bool
    estimate: DividendEstimate | None


def policy_in_force(period: FiscalPeriod) -> tuple[AllocationPolicy | None, bool]:
    """The period's approved policy, else the latest approved policy of an earlier period (the co-op's
    current rules until a new one is approved); the flag says whether it is the period's own."""
    own = periods.current_policy(period.id)
    if own is not None:
        return own, True
    for other in periods.list_periods():
        if other.start_date < period.start_date:
            policy = periods.current_policy(other.id)
            if policy is not None:
                return policy, False
    return None, False


def member_figures(member_id: int, today) -> MemberFigures:
    """My patronage so far this period and my dividend if the period ended today (DOMAIN.md §1–4)."""
    period = periods.period_on(today)
    if period is None:
        return MemberFigures(None, None, None, False, None)
    mine = member_patronage(period, member_id)
    policy, own = policy_in_force(period)
    if policy is None:
        return MemberFigures(period, mine, None, False, None)
    rows = patronage_rows(period)
    estimate = estimate_dividend(str(member_id), [row.as_domain() for row in rows], periods.domain_policy(policy),
                                 income_figures(period))
    return MemberFigures(period, mine, policy, own, estimate)


def open_books_individual() -> bool:
    """The co-op setting "open_books_individual": may members see each other's allocations?"""
    return settings.get("open_books_individual") == 1


def may_see_member(viewer, member_id: int) -> bool:
    """A member's notices and capital account: their own, the treasurer's and the board's; other members'
    only when the co-op's open-books setting allows it (PRODUCT.md: object-level authorization)."""
    if viewer.id == member_id or viewer.has_role(*STAFF_ROLES):
        return True
    return viewer.has_role("member") and open_books_individual()


def may_read_books(viewer) -> bool:
    """The open books (income statement, aggregate allocation): every member, the treasurer and the board."""
    return viewer.has_role("member", *STAFF_ROLES)
