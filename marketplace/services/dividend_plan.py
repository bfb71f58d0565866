"""From a period's patronage and income to every member's line and the run's ledger entries.

The figures go through the domain engine (``domain.patronage``) unchanged, so a preview, a run and a
restarted run compute the same cents from the same snapshot. Ledger use (chart in ``domain.ledger``):

- profit year, per batch of members written together (key ``dividend:<run>:members:<first>-<last>``, positions
  in member-number order): debit 3900 (current-year surplus / income summary) with the batch's allocations,
  credit 2300 dividends payable with their cash parts and credit each ``3100:<member>`` (the member's
  internal capital account) with the member's retained part;
- loss year, the same batches: debit each member's ``3100:<member>`` with their loss, credit 3900;
- once per run (key ``dividend:<run>:collective``): debit 3900, credit 3200 collective reserve with the
  reserve + non-member surplus + non-patronage income (in a loss year: what is not debited to members).

So 3900 is debited with exactly the period's net margin and every entry balances on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from marketplace.domain import ledger as chart
from marketplace.domain.money import round_half_up
from marketplace.domain.patronage import (
    AllocationPolicy,
    AllocationResult,
    IncomeFigures,
    allocate_loss,
    compute_allocation,
)
from marketplace.services.patronage import PatronageRow

INCOME_SUMMARY = "3900"  # equity: current-year surplus, closed out by the dividend run


@dataclass(frozen=True)
class PlannedLine:
    """One member's computed line, in tie-break (member number) order."""

    position: int
    member_id: int
    minutes: int
    earnings_cents: int
    share: Fraction
    allocation_cents: int
    cash_cents: int
    retained_cents: int
    loss_debit_cents: int
    ica_before_cents: int

    @property
    def share_ppm(self) -> int:
        return round_half_up(self.share * 1_000_000)

    @property
    def share_exact(self) -> str:
        return f"{self.share.numerator}/{self.share.denominator}"

    @property
    def ica_after_cents(self) -> int:
        return self.ica_before_cents + self.retained_cents - self.loss_debit_cents


@dataclass(frozen=True)
class Plan:
    """A whole run computed in memory: the engine's result, the member lines and the reserve's credit."""

    result: AllocationResult
    lines: tuple[PlannedLine, ...]
    loss_debited_cents: int
    collective_cents: int


def plan(rows: list[PatronageRow], policy: AllocationPolicy, income: IncomeFigures,
         loss_reserve_percent: Fraction) -> Plan:
    """DOMAIN.md §1–5 for a period: allocations (profit year) or ICA debits capped at zero (loss year).

    Raises ``PatronageInputError`` when the figures cannot be allocated (e.g. a surplus but no patronage).
    """
    result = compute_allocation([row.as_domain() for row in rows], policy, income=income)
    debits = [0] * len(rows)
    if result.is_loss_year and result.member_surplus < 0:
        loss = allocate_loss(
            -result.member_surplus,
            Fraction(100) - Fraction(loss_reserve_percent),
            [(line.member, line.share) for line in result.lines],
            {str(row.member_id): row.ica_balance_cents for row in rows},
        )
        debits = [debit.debit for debit in loss.debits]
    lines = tuple(
        PlannedLine(
            position=i, member_id=row.member_id, minutes=row.minutes, earnings_cents=row.earnings_cents,
            share=line.share, allocation_cents=line.allocation, cash_cents=line.cash,
            retained_cents=line.retained, loss_debit_cents=debit, ica_before_cents=row.ica_balance_cents,
        )
        for i, (row, line, debit) in enumerate(zip(rows, result.lines, debits, strict=True))
    )
    debited = sum(debits)
    assert result.net_margin is not None  # noqa: S101 - income figures were given
    return Plan(result=result, lines=lines, loss_debited_cents=debited,
                collective_cents=result.net_margin - result.totals.allocation + debited)


def batch_entry(run_id: int, lines, on: date, period_name: str) -> chart.JournalEntrySpec | None:
    """One entry for a batch of members (consecutive positions); None when nothing moves for any of them.

    Profit year: debit 3900 with the batch's allocations, credit 2300 with their cash parts and each member's
    ``3100:<member>`` with their retained part. Loss year: debit each member's ICA, credit 3900.
    """
    if not lines:
        return None
    first, last = lines[0].position + 1, lines[-1].position + 1
    allocated = sum(line.allocation_cents for line in lines)
    debited = sum(line.loss_debit_cents for line in lines)
    cash = sum(line.cash_cents for line in lines)
    postings = [(INCOME_SUMMARY, allocated - debited), (chart.DIVIDENDS_PAYABLE, -cash)]
    postings += [(chart.capital_account(line.member_id), line.loss_debit_cents - line.retained_cents)
                 for line in lines]
    postings = tuple(chart.Posting(code, amount) for code, amount in postings if amount)
    if not postings:
        return None
    memo = f"{'Patronage dividends' if allocated else 'Loss allocated'} {period_name}, members {first}–{last}"
    return chart.JournalEntrySpec(f"dividend:{run_id}:members:{first}-{last}", memo, on, postings)


def collective_entry(run_id: int, collective_cents: int, on: date, period_name: str) -> chart.JournalEntrySpec | None:
    """The collective reserve's share of the period (reserve, non-member profit, other income); None if zero."""
    if not collective_cents:
        return None
    postings = (chart.Posting(INCOME_SUMMARY, collective_cents), chart.Posting(chart.COLLECTIVE_RESERVE,
                                                                                -collective_cents))
    return chart.JournalEntrySpec(f"dividend:{run_id}:collective", f"Collective share {period_name}", on, postings)
