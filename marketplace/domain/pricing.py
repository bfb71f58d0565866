"""Pricing of gigs: the worker's price, the co-op fee, cancellation charges and dispute refunds.

Amounts are ``int`` cents; percentages are exact ``Fraction`` values between 0 and 100 (a *percent*,
so ``Fraction(5)`` means 5 %). Every split this module returns sums exactly to its whole, because the
remainder is always obtained by subtraction or by largest remainder (DOMAIN.md §3), never by rounding
each part on its own.

Fee rates are dated settings voted by the members: a gig is priced with the rate in force on the day
it was booked, so a later vote never changes the price of a gig already agreed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

from marketplace.domain.money import allocate_largest_remainder, apply_rate, round_half_up

FeeMode = Literal["on_top", "deducted"]
FEE_MODES: tuple[str, ...] = ("on_top", "deducted")
MINUTES_PER_HOUR = 60
_HUNDRED = Fraction(100)


class PricingError(ValueError):
    """Inputs that cannot be priced: negative amounts, a percent outside 0–100, min above max."""


def _require_cents(name: str, value: object) -> int:
    # bool is an int subclass and a float slips through ``int`` arithmetic; both are bugs near money.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PricingError(f"{name} must be a whole number of cents, got {value!r}")
    if value < 0:
        raise PricingError(f"{name} must not be negative, got {value}")
    return value


def _require_percent(name: str, value: object) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise PricingError(f"{name} must be an exact Fraction percent, got {value!r}")
    if not 0 <= value <= 100:
        raise PricingError(f"{name} must be between 0 and 100, got {value}")
    return Fraction(value)


@dataclass(frozen=True)
class FeeRate:
    """A co-op fee setting in force from ``effective_from``.

    ``percent`` is a percent of the labour subtotal (0–100). ``min_cents``/``max_cents`` clamp the fee
    when set. ``mode`` says who pays it: ``"on_top"`` adds it to the client's bill, ``"deducted"``
    takes it out of the worker's price.
    """

    effective_from: date
    percent: Fraction
    min_cents: int | None = None
    max_cents: int | None = None
    mode: FeeMode = "deducted"

    def __post_init__(self) -> None:
        if not isinstance(self.effective_from, date):
            raise PricingError(f"effective_from must be a date, got {self.effective_from!r}")
        _require_percent("fee percent", self.percent)
        if self.min_cents is not None:
            _require_cents("minimum fee", self.min_cents)
        if self.max_cents is not None:
            _require_cents("maximum fee", self.max_cents)
        if self.min_cents is not None and self.max_cents is not None and self.min_cents > self.max_cents:
            raise PricingError(f"minimum fee {self.min_cents} is above maximum fee {self.max_cents}")
        if self.mode not in FEE_MODES:
            raise PricingError(f"fee mode must be one of {', '.join(FEE_MODES)}, got {self.mode!r}")


@dataclass(frozen=True)
class GigPrice:
    """What a gig costs and who gets what; ``client_total_cents == worker_earnings_cents + fee_cents``."""

    subtotal_cents: int
    fee_cents: int
    client_total_cents: int
    worker_earnings_cents: int
    mode: FeeMode
    labour_cents: int
    materials_cents: int


@dataclass(frozen=True)
class CancellationPolicy:
    """Late cancellation terms.

    ``late_fee_percent`` of the subtotal is charged when the client cancels inside the window;
    ``worker_share_percent`` of that charge compensates the worker and the rest is co-op fee.
    """

    late_fee_percent: Fraction
    worker_share_percent: Fraction

    def __post_init__(self) -> None:
        _require_percent("late fee percent", self.late_fee_percent)
        _require_percent("worker share percent", self.worker_share_percent)


@dataclass(frozen=True)
class CancellationCharge:
    """A cancellation charge and its exact split: ``charged_cents == worker_cents + coop_cents``."""

    charged_cents: int
    worker_cents: int
    coop_cents: int


@dataclass(frozen=True)
class RefundSplit:
    """A dispute outcome: ``refund_cents + kept_cents == paid_cents``."""

    refund_cents: int
    kept_cents: int


def rate_in_force(rates: Sequence[FeeRate], on: date) -> FeeRate:
    """The fee rate in force on ``on``: the one with the latest ``effective_from`` on or before that day.

    Two rates starting on the same day are ambiguous (a data error) and raise rather than pick one
    silently; a date before every rate raises too.
    """
    candidates = [rate for rate in rates if rate.effective_from <= on]
    if not candidates:
        raise PricingError(f"no fee rate is in force on {on.isoformat()}")
    latest = max(rate.effective_from for rate in candidates)
    chosen = [rate for rate in candidates if rate.effective_from == latest]
    if len(chosen) > 1:
        raise PricingError(f"{len(chosen)} fee rates start on {latest.isoformat()}; keep one per day")
    return chosen[0]


def labour_cents(rate_cents: int, minutes: int) -> int:
    """Hourly rate × confirmed minutes, computed exactly and rounded half up to the cent once."""
    _require_cents("hourly rate", rate_cents)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
        raise PricingError(f"minutes must be a whole, non-negative number, got {minutes!r}")
    return round_half_up(Fraction(rate_cents * minutes, MINUTES_PER_HOUR))


def gig_subtotal(rate_cents: int, minutes: int, materials_cents: int = 0) -> int:
    """The worker's price for a gig: labour (rate × time, rounded half up) plus approved materials."""
    return labour_cents(rate_cents, minutes) + _require_cents("materials", materials_cents)


def fee_for(labour: int, fee: FeeRate) -> int:
    """The co-op fee on a labour subtotal: percent rounded half up, then clamped to [min, max].

    In deducted mode the fee is further capped at the labour subtotal, so the worker never owes
    the co-op for a gig; materials carry no fee and are always reimbursed in full.
    """
    _require_cents("labour subtotal", labour)
    amount = round_half_up(apply_rate(labour, fee.percent / _HUNDRED))
    if fee.min_cents is not None:
        amount = max(amount, fee.min_cents)
    if fee.max_cents is not None:
        amount = min(amount, fee.max_cents)
    if fee.mode == "deducted":
        amount = min(amount, labour)
    return amount


def price_gig(rate_cents: int, minutes: int, fee: FeeRate, materials_cents: int = 0) -> GigPrice:
    """Price a gig with the given fee rate.

    On top: the client pays subtotal + fee and the worker earns the subtotal. Deducted: the client
    pays the subtotal and the worker earns subtotal − fee. Either way client total = earnings + fee.
    """
    labour = labour_cents(rate_cents, minutes)
    materials = _require_cents("materials", materials_cents)
    subtotal = labour + materials
    fee_cents = fee_for(labour, fee)
    if fee.mode == "on_top":
        client_total, earnings = subtotal + fee_cents, subtotal
    else:
        client_total, earnings = subtotal, subtotal - fee_cents
    return GigPrice(
        subtotal_cents=subtotal,
        fee_cents=fee_cents,
        client_total_cents=client_total,
        worker_earnings_cents=earnings,
        mode=fee.mode,
        labour_cents=labour,
        materials_cents=materials,
    )


def cancellation_charge(price_subtotal_cents: int, late: bool, policy: CancellationPolicy) -> CancellationCharge:
    """What a cancelling client pays and how it is shared.

    Cancelling before the window is free. Inside it the client pays late_fee_percent of the subtotal
    (rounded half up); the worker's share and the co-op's part are split by largest remainder
    (DOMAIN.md §3), so they always sum to the charge.
    """
    subtotal = _require_cents("subtotal", price_subtotal_cents)
    if not late:
        return CancellationCharge(charged_cents=0, worker_cents=0, coop_cents=0)
    charged = round_half_up(apply_rate(subtotal, policy.late_fee_percent / _HUNDRED))
    share = policy.worker_share_percent
    worker, _ = allocate_largest_remainder(charged, [share, _HUNDRED - share])
    return CancellationCharge(charged_cents=charged, worker_cents=worker, coop_cents=charged - worker)


def dispute_refund(paid_cents: int, refund_percent: Fraction) -> RefundSplit:
    """Refund ``refund_percent`` of what the client paid, rounded half up in the client's favour.

    The kept part is the exact remainder, so refund + kept == paid.
    """
    paid = _require_cents("amount paid", paid_cents)
    share = _require_percent("refund percent", refund_percent)
    refund = round_half_up(apply_rate(paid, share / _HUNDRED))
    return RefundSplit(refund_cents=refund, kept_cents=paid - refund)
