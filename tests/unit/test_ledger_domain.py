import ast
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain import ledger
from marketplace.domain.ledger import (
    BANK,
    FEE_REVENUE_MEMBER,
    FEE_REVENUE_NONMEMBER,
    OTHER_INCOME,
    PAYMENT_CLEARING,
    JournalEntrySpec,
    Posting,
    UnbalancedEntry,
    account_kind,
    capital_account,
    client_receivable,
    entry_cancellation_charged,
    entry_expense,
    entry_gig_charged,
    entry_other_income,
    entry_payment_captured,
    entry_payout,
    entry_refund,
    entry_settlement,
    expense,
    is_balanced,
    normal_balance_sign,
    reversal_of,
    trial_balance,
    validate_entry,
    worker_payable,
)
from marketplace.domain.pricing import CancellationPolicy, FeeRate, cancellation_charge, price_gig

PROPS = settings(max_examples=200, deadline=None)
DAY = date(2024, 5, 1)
ids = st.integers(min_value=1, max_value=10**9)
positive = st.integers(min_value=1, max_value=10**9)


def spec(*amounts, key="k:1", codes=None):
    codes = codes or [f"{1000 + 100 * i}" for i in range(len(amounts))]
    return JournalEntrySpec(key, "memo", DAY, tuple(Posting(c, a) for c, a in zip(codes, amounts, strict=True)))


@st.composite
def gig_prices(draw):
    low = draw(st.none() | st.integers(0, 5000))
    rate = FeeRate(
        DAY,
        draw(st.fractions(0, 100, max_denominator=100)),
        low,
        draw(st.none() | st.integers(low or 0, 50_000)),
        draw(st.sampled_from(["on_top", "deducted"])),
    )
    return price_gig(draw(st.integers(0, 500_000)), draw(st.integers(0, 6000)), rate, draw(st.integers(0, 100_000)))


@st.composite
def balanced_specs(draw):
    debits = draw(st.lists(positive, min_size=1, max_size=5))
    credits = [-a for a in draw(st.lists(positive, min_size=1, max_size=5))]
    # Close the entry on a last line so debits equal credits exactly.
    gap = -(sum(debits) + sum(credits))
    amounts = debits + credits + ([gap] if gap else [])
    codes = draw(st.lists(st.sampled_from(["1000", "1100", "1200:7", "2100:3", "4000", "5000:rent"]),
                          min_size=len(amounts), max_size=len(amounts)))
    return JournalEntrySpec("orig", "m", DAY, tuple(Posting(c, a) for c, a in zip(codes, amounts, strict=True)))


# --- chart of accounts ------------------------------------------------------------------------------------


def test_account_codes_follow_the_chart():
    assert client_receivable(42) == "1200:42"
    assert worker_payable(7) == "2100:7"
    assert capital_account(3) == "3100:3"
    assert expense("hosting") == "5000:hosting"
    kinds = {"1000": "asset", "1200:4": "asset", "2100:1": "liability", "2300": "liability", "3000": "equity",
             "3100:9": "equity", "3200": "equity", "4000": "income", "4010": "income", "4500": "income",
             "5000:rent": "expense"}
    assert {code: account_kind(code) for code in kinds} == kinds


@pytest.mark.parametrize("code", ["", "0999", "6000", "100", "10000", "1200:", "1200:a b", "abcd", 1000])
def test_bad_account_codes_are_rejected(code):
    with pytest.raises(UnbalancedEntry):
        account_kind(code)


@pytest.mark.parametrize("bad", ["", "a b", "x:y", True])
def test_bad_sub_account_ids_are_rejected(bad):
    with pytest.raises(UnbalancedEntry):
        worker_payable(bad)


def test_normal_balance_signs():
    assert [normal_balance_sign(k) for k in ("asset", "expense")] == [1, 1]
    assert [normal_balance_sign(k) for k in ("liability", "equity", "income")] == [-1, -1, -1]
    with pytest.raises(ValueError):
        normal_balance_sign("revenue")


# --- validation -------------------------------------------------------------------------------------------


def test_a_balanced_entry_validates():
    validate_entry(spec(500, -300, -200))


@pytest.mark.parametrize(
    "entry, message",
    [
        (spec(100), "two postings"),
        (spec(), "two postings"),
        (spec(100, -99), "does not balance"),
        (spec(100, 0, -100), "zero posting"),
        (spec(100, -100, key=""), "idempotency key"),
        (spec(100, -100, key="   "), "idempotency key"),
        (spec(100, -100, key="x" * 201), "idempotency key"),
        (spec(100, -100, codes=["1000", "9999"]), "account code"),
        (spec(Fraction(1), -1), "int cents"),
        (spec(1.0, -1), "int cents"),
    ],
)
def test_invalid_entries_are_rejected(entry, message):
    with pytest.raises(UnbalancedEntry, match=message):
        validate_entry(entry)


def test_a_key_of_exactly_200_characters_is_allowed():
    validate_entry(spec(1, -1, key="x" * 200))


def test_postings_are_frozen_into_a_tuple():
    entry = JournalEntrySpec("k", "m", DAY, [Posting("1000", 1), Posting("1100", -1)])
    assert isinstance(entry.postings, tuple)


# --- builders ---------------------------------------------------------------------------------------------


def test_gig_charge_entry_for_a_member_gig():
    price = price_gig(4000, 120, FeeRate(DAY, Fraction(5)))
    entry = entry_gig_charged(42, 9, 3, price, member_gig=True, on=DAY)
    assert entry.idempotency_key == "gig:42:charge"
    assert trial_balance(entry.postings) == {"1200:9": 8000, "2100:3": -7600, FEE_REVENUE_MEMBER: -400}


def test_gig_charge_entry_for_a_non_member_gig_and_a_zero_fee():
    price = price_gig(4000, 60, FeeRate(DAY, Fraction(10), mode="on_top"))
    entry = entry_gig_charged(1, 2, 3, price, member_gig=False, on=DAY)
    assert trial_balance(entry.postings) == {"1200:2": 4400, "2100:3": -4000, FEE_REVENUE_NONMEMBER: -400}
    free = entry_gig_charged(1, 2, 3, price_gig(4000, 60, FeeRate(DAY, Fraction(0))), member_gig=True, on=DAY)
    assert len(free.postings) == 2  # a zero fee line is not posted


def test_a_free_gig_cannot_be_charged():
    with pytest.raises(UnbalancedEntry):
        entry_gig_charged(1, 2, 3, price_gig(0, 60, FeeRate(DAY, Fraction(5))), True, DAY)


def test_payment_payout_expense_income_and_settlement_entries():
    assert trial_balance(entry_payment_captured(5, 9, 8000, DAY).postings) == {PAYMENT_CLEARING: 8000, "1200:9": -8000}
    assert trial_balance(entry_payout(11, 3, 7600, DAY).postings) == {"2100:3": 7600, BANK: -7600}
    assert trial_balance(entry_expense(8, "hosting", 2500, DAY).postings) == {"5000:hosting": 2500, BANK: -2500}
    assert trial_balance(entry_other_income(4, 120, DAY).postings) == {BANK: 120, OTHER_INCOME: -120}
    settled = entry_settlement("s-1", 10_000, 320, DAY)
    assert trial_balance(settled.postings) == {BANK: 9680, PAYMENT_CLEARING: -10_000, "5000:payment-processing": 320}
    keys = [entry_payment_captured(5, 9, 1, DAY), entry_payout(11, 3, 1, DAY), entry_expense(8, "x", 1, DAY),
            entry_other_income(4, 1, DAY), settled]
    assert [e.idempotency_key for e in keys] == ["gig:5:capture", "payout:11:3", "expense:8", "income:4",
                                                 "settlement:s-1"]


@pytest.mark.parametrize("amount", [0, -5, 1.5, True])
def test_builders_reject_non_positive_or_inexact_amounts(amount):
    for build in (lambda: entry_payout(1, 1, amount, DAY), lambda: entry_expense(1, "x", amount, DAY),
                  lambda: entry_payment_captured(1, 1, amount, DAY), lambda: entry_other_income(1, amount, DAY)):
        with pytest.raises(UnbalancedEntry):
            build()


def test_settlement_fee_must_be_below_the_gross():
    with pytest.raises(UnbalancedEntry):
        entry_settlement(1, 100, 100, DAY)
    with pytest.raises(UnbalancedEntry):
        entry_settlement(1, 100, -1, DAY)


def test_refund_is_shared_by_worker_and_coop_in_proportion():
    price = price_gig(6000, 60, FeeRate(DAY, Fraction(10)))  # total 6000, worker 5400, fee 600
    entry = entry_refund(42, 3, price, 3001, member_gig=True, on=DAY)
    assert entry.idempotency_key == "gig:42:refund"
    assert trial_balance(entry.postings) == {PAYMENT_CLEARING: -3001, "2100:3": 2701, FEE_REVENUE_MEMBER: 300}
    with pytest.raises(UnbalancedEntry, match="exceeds"):
        entry_refund(42, 3, price, 6001, True, DAY)


def test_cancellation_entry():
    charge = cancellation_charge(10_000, True, CancellationPolicy(Fraction(50), Fraction(80)))
    entry = entry_cancellation_charged(7, 2, 3, charge, member_gig=False, on=DAY)
    assert trial_balance(entry.postings) == {"1200:2": 5000, "2100:3": -4000, FEE_REVENUE_NONMEMBER: -1000}


@PROPS
@given(ids, ids, ids, gig_prices(), st.booleans())
def test_every_gig_builder_balances(gig, client, worker, price, member):
    if price.client_total_cents == 0:
        return
    charged = entry_gig_charged(gig, client, worker, price, member, DAY)
    captured = entry_payment_captured(gig, client, price.client_total_cents, DAY)
    refund = entry_refund(gig, worker, price, price.client_total_cents, member, DAY)
    for entry in (charged, captured, refund):
        validate_entry(entry)
        assert is_balanced(entry.postings)
    # A full refund after capture undoes the charge for the worker and the co-op and leaves nothing owed.
    book = trial_balance(charged.postings + captured.postings + refund.postings)
    assert set(book.values()) == {0}


@PROPS
@given(ids, ids, positive, st.integers(0, 10**6), st.text("abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20))
def test_every_cash_builder_balances(batch, worker, amount, fee, category):
    entries = [entry_payout(batch, worker, amount, DAY), entry_expense(batch, category, amount, DAY),
               entry_other_income(batch, amount, DAY), entry_settlement(batch, amount + fee + 1, fee, DAY)]
    for entry in entries:
        validate_entry(entry)
        assert all(p.amount_cents != 0 for p in entry.postings)


@PROPS
@given(balanced_specs())
def test_reversal_plus_original_is_zero_per_account(original):
    reversal = reversal_of(original, "orig:reversal", "undo", on=date(2024, 6, 1))
    validate_entry(reversal)
    assert reversal.occurred_on == date(2024, 6, 1)
    assert [p.account_code for p in reversal.postings] == [p.account_code for p in original.postings]
    assert set(trial_balance(original.postings + reversal.postings).values()) == {0}


def test_reversal_needs_a_new_key_and_keeps_the_date_by_default():
    original = spec(100, -100)
    assert reversal_of(original, "k:1:rev", "undo").occurred_on == DAY
    with pytest.raises(UnbalancedEntry):
        reversal_of(original, "k:1", "undo")


def test_trial_balance_and_is_balanced():
    postings = [Posting("1000", 500), Posting("4000", -500), Posting("1000", -200), Posting("5000:x", 200)]
    assert trial_balance(postings) == {"1000": 300, "4000": -500, "5000:x": 200}
    assert list(trial_balance(postings)) == ["1000", "4000", "5000:x"]
    assert is_balanced(postings)
    assert not is_balanced(postings[:3])
    assert trial_balance([]) == {} and is_balanced([])


def test_ledger_domain_imports_no_framework():
    tree = ast.parse(Path(ledger.__file__).read_text())
    modules = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    app_modules = {m for m in modules if m and m.split(".")[0] in {"marketplace", "flask", "sqlalchemy", "werkzeug"}}
    assert all(m.startswith("marketplace.domain.") for m in app_modules)
