from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain.pricing import (
    CancellationPolicy,
    FeeRate,
    PricingError,
    cancellation_charge,
    dispute_refund,
    gig_subtotal,
    labour_cents,
    price_gig,
    rate_in_force,
)

PROPS = settings(max_examples=200, deadline=None)

cents = st.integers(min_value=0, max_value=10_000_000)
minutes = st.integers(min_value=0, max_value=60 * 24 * 14)
percents = st.fractions(min_value=0, max_value=100, max_denominator=1000)
modes = st.sampled_from(["on_top", "deducted"])


@st.composite
def fee_rates(draw):
    low = draw(st.none() | st.integers(min_value=0, max_value=50_000))
    high = draw(st.none() | st.integers(min_value=low or 0, max_value=500_000))
    return FeeRate(date(2024, 1, 1), draw(percents), low, high, draw(modes))


def fee(percent, mode="deducted", low=None, high=None, on=date(2024, 1, 1)):
    return FeeRate(on, Fraction(percent), low, high, mode)


# --- subtotal ---------------------------------------------------------------------------------------------


def test_subtotal_is_rate_times_minutes_rounded_half_up_plus_materials():
    assert gig_subtotal(3000, 90) == 4500
    assert gig_subtotal(2501, 30) == 1251  # 1250.5 rounds half up
    assert gig_subtotal(2499, 30) == 1250  # 1249.5 rounds half up
    assert gig_subtotal(1000, 1) == 17  # 16.67
    assert gig_subtotal(1000, 0, materials_cents=1234) == 1234
    assert gig_subtotal(4000, 60, materials_cents=550) == 4550


@pytest.mark.parametrize(
    "args",
    [(-1, 60, 0), (1000, -1, 0), (1000, 60, -1), (10.5, 60, 0), (1000, 1.5, 0), (True, 60, 0), ("100", 60, 0)],
)
def test_subtotal_rejects_negative_or_inexact_inputs(args):
    with pytest.raises(PricingError):
        gig_subtotal(*args)


@PROPS
@given(cents, minutes)
def test_labour_is_within_half_a_cent_of_exact(rate, mins):
    exact = Fraction(rate * mins, 60)
    assert abs(labour_cents(rate, mins) - exact) <= Fraction(1, 2)


# --- fee rates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"percent": Fraction(-1)},
        {"percent": Fraction(101)},
        {"percent": 5.0},
        {"min_cents": -1},
        {"max_cents": -5},
        {"min_cents": 500, "max_cents": 499},
        {"mode": "split"},
        {"effective_from": "2024-01-01"},
    ],
)
def test_fee_rate_rejects_bad_settings(kwargs):
    base = {"effective_from": date(2024, 1, 1), "percent": Fraction(5), "mode": "deducted"}
    with pytest.raises(PricingError):
        FeeRate(**{**base, **kwargs})


def test_rate_in_force_picks_latest_on_or_before_the_date():
    old, new = fee(10, on=date(2024, 1, 1)), fee(5, on=date(2024, 7, 1))
    rates = [new, old]
    assert rate_in_force(rates, date(2024, 6, 30)) is old
    assert rate_in_force(rates, date(2024, 7, 1)) is new
    assert rate_in_force(rates, date(2030, 1, 1)) is new
    with pytest.raises(PricingError, match="no fee rate"):
        rate_in_force(rates, date(2023, 12, 31))
    with pytest.raises(PricingError):
        rate_in_force([], date(2024, 1, 1))


def test_rate_in_force_refuses_two_rates_on_the_same_day():
    with pytest.raises(PricingError, match="same day|start on"):
        rate_in_force([fee(5), fee(6)], date(2024, 2, 1))


def test_a_gig_keeps_the_rate_in_force_when_it_was_booked():
    rates = [fee(10, on=date(2024, 1, 1))]
    booked = rate_in_force(rates, date(2024, 3, 1))
    rates.append(fee(3, on=date(2024, 3, 2)))  # a later vote lowers the fee
    assert rate_in_force(rates, date(2024, 3, 1)) == booked
    assert price_gig(6000, 60, rate_in_force(rates, date(2024, 3, 1))).fee_cents == 600


@PROPS
@given(st.lists(st.integers(min_value=0, max_value=3000), min_size=1, max_size=12, unique=True), st.integers(0, 3100))
def test_rate_in_force_property(offsets, day):
    start = date(2020, 1, 1)
    rates = [fee(i % 100, on=start + timedelta(days=o)) for i, o in enumerate(offsets)]
    on = start + timedelta(days=day)
    eligible = [r for r in rates if r.effective_from <= on]
    if not eligible:
        with pytest.raises(PricingError):
            rate_in_force(rates, on)
        return
    chosen = rate_in_force(rates, on)
    assert chosen.effective_from <= on
    assert all(r.effective_from <= chosen.effective_from for r in eligible)


# --- price_gig --------------------------------------------------------------------------------------------


def test_deducted_fee_comes_out_of_the_worker_price():
    price = price_gig(4000, 120, fee(5), materials_cents=1000)
    assert (price.subtotal_cents, price.fee_cents) == (9000, 400)  # materials carry no fee
    assert price.client_total_cents == 9000
    assert price.worker_earnings_cents == 8600
    assert (price.labour_cents, price.materials_cents, price.mode) == (8000, 1000, "deducted")


def test_on_top_fee_is_added_to_the_client_bill():
    price = price_gig(4000, 120, fee(5, mode="on_top"), materials_cents=1000)
    assert price.fee_cents == 400
    assert price.client_total_cents == 9400
    assert price.worker_earnings_cents == 9000


def test_fee_is_rounded_half_up_then_clamped():
    assert price_gig(1010, 60, fee(5)).fee_cents == 51  # 50.5
    assert price_gig(1000, 60, fee(5, low=200)).fee_cents == 200
    assert price_gig(100_000, 60, fee(5, high=2500)).fee_cents == 2500


def test_deducted_minimum_fee_never_exceeds_the_labour():
    price = price_gig(1000, 6, fee(5, low=500), materials_cents=300)  # labour 100 cents
    assert price.fee_cents == 100
    assert price.worker_earnings_cents == 300  # materials are reimbursed in full


def test_on_top_minimum_fee_applies_even_to_a_small_gig():
    price = price_gig(1000, 6, fee(5, mode="on_top", low=500))
    assert (price.fee_cents, price.client_total_cents, price.worker_earnings_cents) == (500, 600, 100)


@PROPS
@given(cents, minutes, fee_rates(), cents)
def test_every_price_splits_exactly(rate, mins, fee_rate, materials):
    price = price_gig(rate, mins, fee_rate, materials_cents=materials)
    assert price.client_total_cents == price.worker_earnings_cents + price.fee_cents
    assert price.subtotal_cents == gig_subtotal(rate, mins, materials) == price.labour_cents + materials
    assert price.worker_earnings_cents >= 0
    assert price.fee_cents >= 0
    if fee_rate.mode == "on_top":
        assert price.worker_earnings_cents == price.subtotal_cents
    else:
        assert price.client_total_cents == price.subtotal_cents
        assert price.worker_earnings_cents >= materials


@PROPS
@given(cents, minutes, fee_rates())
def test_fee_stays_within_its_bounds(rate, mins, fee_rate):
    price = price_gig(rate, mins, fee_rate)
    capped_by_labour = fee_rate.mode == "deducted" and price.labour_cents < (fee_rate.min_cents or 0)
    if fee_rate.min_cents is not None and not capped_by_labour:
        assert price.fee_cents >= fee_rate.min_cents
    if capped_by_labour:
        assert price.fee_cents == price.labour_cents
    if fee_rate.max_cents is not None:
        assert price.fee_cents <= fee_rate.max_cents
    unclamped = Fraction(price.labour_cents) * fee_rate.percent / 100
    if fee_rate.min_cents is None and fee_rate.max_cents is None:
        assert abs(price.fee_cents - unclamped) <= Fraction(1, 2)


# --- cancellation and refunds -----------------------------------------------------------------------------


def test_early_cancellation_is_free():
    charge = cancellation_charge(10_000, late=False, policy=CancellationPolicy(Fraction(50), Fraction(80)))
    assert (charge.charged_cents, charge.worker_cents, charge.coop_cents) == (0, 0, 0)


def test_late_cancellation_charges_the_fee_and_shares_it():
    charge = cancellation_charge(10_001, late=True, policy=CancellationPolicy(Fraction(50), Fraction(80)))
    assert charge.charged_cents == 5001  # 5000.5 rounds half up
    assert (charge.worker_cents, charge.coop_cents) == (4001, 1000)  # 4000.8 / 1000.2


def test_cancellation_policy_rejects_bad_percents():
    with pytest.raises(PricingError):
        CancellationPolicy(Fraction(101), Fraction(50))
    with pytest.raises(PricingError):
        CancellationPolicy(Fraction(50), Fraction(-1))
    with pytest.raises(PricingError):
        cancellation_charge(-1, True, CancellationPolicy(Fraction(50), Fraction(50)))


@PROPS
@given(cents, st.booleans(), percents, percents)
def test_cancellation_split_sums_exactly(subtotal, late, late_pct, share_pct):
    charge = cancellation_charge(subtotal, late, CancellationPolicy(late_pct, share_pct))
    assert charge.worker_cents + charge.coop_cents == charge.charged_cents
    assert 0 <= charge.charged_cents <= subtotal
    assert charge.worker_cents >= 0 and charge.coop_cents >= 0
    if late:
        assert abs(charge.charged_cents - Fraction(subtotal) * late_pct / 100) <= Fraction(1, 2)
        assert abs(charge.worker_cents - Fraction(charge.charged_cents) * share_pct / 100) < 1
    else:
        assert charge.charged_cents == 0


def test_dispute_refund_rounds_in_the_clients_favour():
    split = dispute_refund(999, Fraction(50))
    assert (split.refund_cents, split.kept_cents) == (500, 499)
    assert dispute_refund(999, Fraction(100)).kept_cents == 0
    assert dispute_refund(999, Fraction(0)).refund_cents == 0
    with pytest.raises(PricingError):
        dispute_refund(999, Fraction(150))
    with pytest.raises(PricingError):
        dispute_refund(999, 0.5)


@PROPS
@given(cents, percents)
def test_refund_split_sums_exactly(paid, pct):
    split = dispute_refund(paid, pct)
    assert split.refund_cents + split.kept_cents == paid
    assert 0 <= split.refund_cents <= paid
    assert abs(split.refund_cents - Fraction(paid) * pct / 100) <= Fraction(1, 2)
