""""If the year ended today": one member's estimated dividend, from live figures, with the domain engine.

Pure: takes plain figures (everyone's patronage so far, the period's income so far, the current policy)
and runs DOMAIN.md §1–4 exactly as the year-end run will, so the estimate and the real notice can only
differ because the figures change before the period closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from marketplace.domain.patronage import (
    AllocationPolicy,
    IncomeFigures,
    MemberPatronage,
    PatronageInputError,
    compute_allocation,
)


@dataclass(frozen=True)
class DividendEstimate:
    """One member's estimate and the co-op-wide figures it comes from (cents, exact share)."""

    hours: Fraction
    earnings_cents: int
    share: Fraction
    allocation_cents: int
    cash_cents: int
    retained_cents: int
    member_surplus_cents: int
    reserve_cents: int
    allocable_cents: int
    members_with_patronage: int
    is_loss_year: bool
    note: str


def _empty(member: MemberPatronage | None, note: str, *, surplus: int = 0, reserve: int = 0,
           loss: bool = False) -> DividendEstimate:
    return DividendEstimate(
        hours=member.hours if member else Fraction(0),
        earnings_cents=member.earnings_cents if member else 0,
        share=Fraction(0), allocation_cents=0, cash_cents=0, retained_cents=0,
        member_surplus_cents=surplus, reserve_cents=reserve, allocable_cents=0, members_with_patronage=0,
        is_loss_year=loss, note=note,
    )


def estimate_dividend(
    member: str,
    patronage: Sequence[MemberPatronage],
    policy: AllocationPolicy,
    income: IncomeFigures,
) -> DividendEstimate:
    """Member ``member``'s allocation, cash and retained part if the period closed now (DOMAIN.md §1–4).

    ``patronage`` lists every eligible member in the order the run uses (it decides leftover cents).
    A member without patronage so far, a loss year, or a period where nobody has patronage yet give
    a zero estimate with a note saying why; the estimate never raises for those ordinary cases.
    """
    mine = next((row for row in patronage if row.member == member), None)
    try:
        result = compute_allocation(patronage, policy, income=income)
    except PatronageInputError:
        # A surplus but no patronage at all: nothing can be allocated to anyone yet.
        return _empty(mine, "No member has recorded patronage in this period yet.")
    active = sum(1 for line in result.lines if line.share > 0)
    if result.is_loss_year:
        note = ("No member fees have been earned this period yet, so there is no surplus to share."
                if result.member_surplus == 0 else
                "So far this period the member fees do not cover their share of the expenses: "
                "no dividend would be allocated.")
        return _empty(mine, note, surplus=result.member_surplus, loss=True)
    line = next((line for line in result.lines if line.member == member), None)
    if line is None or line.share == 0:
        note = "You have no patronage in this period yet: confirmed gigs done as a member count."
        return DividendEstimate(
            hours=mine.hours if mine else Fraction(0), earnings_cents=mine.earnings_cents if mine else 0,
            share=Fraction(0), allocation_cents=0, cash_cents=0, retained_cents=0,
            member_surplus_cents=result.member_surplus, reserve_cents=result.reserve,
            allocable_cents=result.allocable, members_with_patronage=active, is_loss_year=False, note=note,
        )
    return DividendEstimate(
        hours=line.hours, earnings_cents=line.earnings_cents, share=line.share,
        allocation_cents=line.allocation, cash_cents=line.cash, retained_cents=line.retained,
        member_surplus_cents=result.member_surplus, reserve_cents=result.reserve,
        allocable_cents=result.allocable, members_with_patronage=active, is_loss_year=False,
        note="An estimate: the figures change until the period closes and the run is approved.",
    )
