"""Patronage dividends: from a period's income to each member's allocation, cash and retained part.

Implements DOMAIN.md §1–5 as pure functions over int cents and exact fractions. Percentages in a
policy are 0–100 values (``Fraction("15")`` means 15%), weights are non-negative fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from marketplace.domain.money import allocate_largest_remainder, format_cents, round_half_up, round_up

QUALIFIED_CASH_PERCENT = Fraction(20)
_HUNDRED = Fraction(100)


class PatronageInputError(ValueError):
    """Figures or policy settings that the patronage rules cannot work with."""


def _cents(name: str, value: object, *, allow_negative: bool = False) -> int:
    # bool is an int subclass and a float is never exact money: refuse both outright.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PatronageInputError(f"{name} must be whole cents (int), got {type(value).__name__}")
    if value < 0 and not allow_negative:
        raise PatronageInputError(f"{name} must not be negative, got {format_cents(value)}")
    return value


def _fraction(name: str, value: object, *, high: Fraction | None = None) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise PatronageInputError(f"{name} must be an exact number (int or Fraction), got {type(value).__name__}")
    value = Fraction(value)
    if value < 0:
        raise PatronageInputError(f"{name} must not be negative, got {value}")
    if high is not None and value > high:
        raise PatronageInputError(f"{name} must not be above {high}, got {value}")
    return value


@dataclass(frozen=True)
class IncomeFigures:
    """A closed period's income and expenses in cents (DOMAIN.md §1), all non-negative."""

    member_fees: int
    nonmember_fees: int
    other_income: int
    expenses: int

    def __post_init__(self) -> None:
        for name in ("member_fees", "nonmember_fees", "other_income", "expenses"):
            _cents(name.replace("_", " "), getattr(self, name))


@dataclass(frozen=True)
class IncomeSplit:
    """Where a period's income goes (DOMAIN.md §1): member surplus, non-member profit, other income."""

    net_margin: int
    fee_net: int
    member_surplus: int
    nonmember_surplus: int
    non_patronage: int


@dataclass(frozen=True)
class MemberPatronage:
    """One member's patronage in a period: decimal hours and earnings in cents (DOMAIN.md §2)."""

    member: str
    hours: Fraction
    earnings_cents: int

    def __post_init__(self) -> None:
        if not isinstance(self.member, str) or not self.member.strip():
            raise PatronageInputError("member must be a non-empty string")
        object.__setattr__(self, "hours", _fraction(f"hours of member {self.member!r}", self.hours))
        _cents(f"earnings of member {self.member!r}", self.earnings_cents)


@dataclass(frozen=True)
class AllocationPolicy:
    """The co-op's dividend settings: percents are 0–100 values, weights non-negative and not both zero."""

    reserve_percent: Fraction
    hours_weight: Fraction
    earnings_weight: Fraction
    cash_percent: Fraction
    small_allocation_threshold_cents: int = 0

    def __post_init__(self) -> None:
        for name in ("reserve_percent", "cash_percent"):
            label = name.replace("_", " ")
            object.__setattr__(self, name, _fraction(label, getattr(self, name), high=_HUNDRED))
        for name in ("hours_weight", "earnings_weight"):
            object.__setattr__(self, name, _fraction(name.replace("_", " "), getattr(self, name)))
        if self.hours_weight == 0 and self.earnings_weight == 0:
            raise PatronageInputError("hours weight and earnings weight must not both be zero")
        _cents("small allocation threshold", self.small_allocation_threshold_cents)


@dataclass(frozen=True)
class MemberAllocation:
    """One member's line: patronage, share, allocation and its cash / retained parts (DOMAIN.md §2–4)."""

    member: str
    hours: Fraction
    earnings_cents: int
    share: Fraction
    allocation: int
    cash: int
    retained: int


@dataclass(frozen=True)
class AllocationTotals:
    """Sums over all member lines."""

    allocation: int
    cash: int
    retained: int


@dataclass(frozen=True)
class AllocationResult:
    """A period's whole allocation; the income fields are None when only a member surplus was given."""

    net_margin: int | None
    member_surplus: int
    nonmember_surplus: int | None
    non_patronage: int | None
    reserve: int
    allocable: int
    collective: int
    is_loss_year: bool
    lines: tuple[MemberAllocation, ...]
    totals: AllocationTotals


def is_qualified_cash_percent(cash_percent: Fraction) -> bool:
    """DOMAIN.md §4: a notice of allocation is qualified only if at least 20% is paid in cash."""
    return Fraction(cash_percent) >= QUALIFIED_CASH_PERCENT


def split_income(income: IncomeFigures) -> IncomeSplit:
    """DOMAIN.md §1: split fee-activity net (MF + NF − X) in proportion MF : NF by largest remainder.

    Other income is non-patronage. When there were no fees at all (MF + NF = 0) no member business
    happened, so the member surplus is zero and the whole fee-activity net (then −X, a loss) stays
    with the collective as non-member profit. A tie MF = NF gives an odd cent to the member side
    (§3: earlier position).
    """
    fee_income = income.member_fees + income.nonmember_fees
    fee_net = fee_income - income.expenses
    if fee_income == 0:
        member_surplus, nonmember_surplus = 0, fee_net
    else:
        member_surplus, nonmember_surplus = allocate_largest_remainder(
            fee_net, [income.member_fees, income.nonmember_fees]
        )
    return IncomeSplit(
        net_margin=fee_net + income.other_income,
        fee_net=fee_net,
        member_surplus=member_surplus,
        nonmember_surplus=nonmember_surplus,
        non_patronage=income.other_income,
    )


def reserve_for(member_surplus: int, reserve_percent: Fraction) -> int:
    """DOMAIN.md §2: reserve = reserve% × member surplus rounded half up; nothing in a loss year."""
    if member_surplus <= 0:
        return 0
    return round_half_up(Fraction(member_surplus) * Fraction(reserve_percent) / _HUNDRED)


def patronage_shares(
    members: Sequence[MemberPatronage], hours_weight: Fraction, earnings_weight: Fraction
) -> list[Fraction]:
    """DOMAIN.md §2: share_i = (Wh·h_i/Σh + We·e_i/Σe) / (Wh + We), exactly.

    A measure whose total is zero drops out with its weight. If no weighted measure is left
    (no hours and no earnings, or only zero-weighted ones) nobody has a share: all shares are 0.
    """
    total_hours = sum((m.hours for m in members), Fraction(0))
    total_earnings = sum(m.earnings_cents for m in members)
    measures: list[tuple[Fraction, list[Fraction]]] = []
    if total_hours and hours_weight:
        measures.append((Fraction(hours_weight), [m.hours / total_hours for m in members]))
    if total_earnings and earnings_weight:
        measures.append((Fraction(earnings_weight), [Fraction(m.earnings_cents, total_earnings) for m in members]))
    weight_sum = sum((weight for weight, _ in measures), Fraction(0))
    if weight_sum == 0:
        return [Fraction(0) for _ in members]
    return [sum((w * parts[i] for w, parts in measures), Fraction(0)) / weight_sum for i in range(len(members))]


def allocate_surplus(allocable: int, shares: Sequence[Fraction]) -> list[int]:
    """DOMAIN.md §2–3: split allocable cents by share with largest remainder (ties: larger share, earlier row).

    Raises PatronageInputError when there is something to allocate but no member has a share.
    """
    if allocable and not any(shares):
        raise PatronageInputError(
            f"no member has any patronage (all hours and earnings are zero), "
            f"so {format_cents(allocable)} cannot be allocated"
        )
    return allocate_largest_remainder(allocable, list(shares))


def split_cash(allocation: int, cash_percent: Fraction, small_allocation_threshold_cents: int = 0) -> tuple[int, int]:
    """DOMAIN.md §4: cash = cash% × allocation rounded up; retained = the rest.

    An allocation below the policy's small-allocation threshold is paid wholly in cash.
    Returns (cash, retained), which always sum to the allocation.
    """
    if allocation < small_allocation_threshold_cents:
        return allocation, 0
    cash = round_up(Fraction(allocation) * Fraction(cash_percent) / _HUNDRED)
    return cash, allocation - cash


def _member_surplus_source(income: IncomeFigures | None, member_surplus: int | None) -> tuple[int, IncomeSplit | None]:
    if (income is None) == (member_surplus is None):
        raise PatronageInputError("give either the income figures or the member surplus, not both or neither")
    if income is not None:
        split = split_income(income)
        return split.member_surplus, split
    return _cents("member surplus", member_surplus, allow_negative=True), None


def _check_unique(members: Sequence[MemberPatronage]) -> None:
    seen: set[str] = set()
    for patronage in members:
        if not isinstance(patronage, MemberPatronage):
            raise PatronageInputError(f"expected MemberPatronage, got {type(patronage).__name__}")
        if patronage.member in seen:
            raise PatronageInputError(f"member {patronage.member!r} appears more than once")
        seen.add(patronage.member)


def _member_lines(
    members: Sequence[MemberPatronage], shares: list[Fraction], allocations: list[int], policy: AllocationPolicy
) -> tuple[MemberAllocation, ...]:
    lines = []
    for patronage, share, allocation in zip(members, shares, allocations, strict=True):
        cash, retained = split_cash(allocation, policy.cash_percent, policy.small_allocation_threshold_cents)
        lines.append(
            MemberAllocation(
                patronage.member, patronage.hours, patronage.earnings_cents, share, allocation, cash, retained
            )
        )
    return tuple(lines)


def compute_allocation(
    members: Sequence[MemberPatronage],
    policy: AllocationPolicy,
    income: IncomeFigures | None = None,
    member_surplus: int | None = None,
) -> AllocationResult:
    """DOMAIN.md §1–4 end to end: member surplus → reserve → allocable → shares → allocations → cash/retained.

    Give either the period's income figures or the member surplus directly. A member surplus of
    zero or less is a loss year: no reserve, nothing allocated (shares are still reported, since
    §5 debits a loss by them). Collective = reserve + non-member surplus + non-patronage income.
    Members keep their input order, which decides ties (§3).
    """
    _check_unique(members)
    surplus, split = _member_surplus_source(income, member_surplus)
    is_loss_year = surplus <= 0
    reserve = reserve_for(surplus, policy.reserve_percent)
    allocable = 0 if is_loss_year else surplus - reserve
    shares = patronage_shares(members, policy.hours_weight, policy.earnings_weight)
    allocations = allocate_surplus(allocable, shares)
    lines = _member_lines(members, shares, allocations, policy)
    totals = AllocationTotals(
        *(sum(getattr(line, name) for line in lines) for name in ("allocation", "cash", "retained"))
    )
    return AllocationResult(
        net_margin=split.net_margin if split else None,
        member_surplus=surplus,
        nonmember_surplus=split.nonmember_surplus if split else None,
        non_patronage=split.non_patronage if split else None,
        reserve=reserve,
        allocable=allocable,
        collective=reserve + (split.nonmember_surplus + split.non_patronage if split else 0),
        is_loss_year=is_loss_year,
        lines=lines,
        totals=totals,
    )


@dataclass(frozen=True)
class MemberDebit:
    """One member's part of a loss: what the shares assign and what is actually debited to the ICA."""

    member: str
    share: Fraction
    assigned: int
    debit: int


@dataclass(frozen=True)
class LossAllocation:
    """A loss split (DOMAIN.md §5): member debits plus the reserve's part; they sum exactly to the loss."""

    loss: int
    members_part: int
    reserve_part: int
    fallback: int
    debits: tuple[MemberDebit, ...]


def allocate_loss(
    loss_cents: int,
    member_percent: Fraction,
    shares: Sequence[tuple[str, Fraction]],
    ica_balances: Mapping[str, int],
    *,
    allow_negative: bool = False,
) -> LossAllocation:
    """DOMAIN.md §5: split a loss between members' ICAs and the collective reserve.

    ``member_percent`` (0–100) of the loss goes to members, split from the reserve's part by largest
    remainder; the members' part is split by patronage share (largest remainder, input order breaks
    ties). Each debit is capped at the member's ICA balance unless ``allow_negative``; whatever cannot
    be debited (also the whole members' part when nobody has a share) falls back on the reserve.
    Every member in ``shares`` needs a balance in ``ica_balances``.
    """
    loss = _cents("loss", loss_cents)
    if len({member for member, _ in shares}) != len(shares):
        raise PatronageInputError("a member appears more than once in the loss shares")
    fraction = _fraction("member percent", member_percent, high=_HUNDRED) / _HUNDRED
    members_part, _ = allocate_largest_remainder(loss, [fraction, 1 - fraction]) if loss else (0, 0)
    share_values = [_fraction(f"share of member {member!r}", share) for member, share in shares]
    assigned = allocate_largest_remainder(members_part, share_values) if any(share_values) else [0] * len(shares)
    debits = []
    for (member, _share), share, part in zip(shares, share_values, assigned, strict=True):
        if member not in ica_balances:
            raise PatronageInputError(f"no ICA balance given for member {member!r}")
        balance = _cents(f"ICA balance of member {member!r}", ica_balances[member], allow_negative=True)
        debit = part if allow_negative else min(part, max(balance, 0))
        debits.append(MemberDebit(member, share, part, debit))
    debited = sum(d.debit for d in debits)
    return LossAllocation(
        loss=loss,
        members_part=members_part,
        reserve_part=loss - debited,
        fallback=members_part - debited,
        debits=tuple(debits),
    )
