import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.domain.payouts import (
    PayoutError,
    PayoutLine,
    bank_csv,
    batch_total,
    payout_reference,
    plan_payout_batch,
)

PROPS = settings(max_examples=200, deadline=None)


def test_only_balances_at_or_above_the_minimum_are_paid_in_full():
    balances = {7: 5000, 2: 2500, 9: 2499, 4: 0, 5: -300, 1: 100_000}
    assert plan_payout_batch(balances, 2500) == [(1, 100_000), (2, 2500), (7, 5000)]


def test_a_zero_minimum_still_never_pays_zero_or_negative_balances():
    assert plan_payout_batch({3: 0, 1: -1, 2: 1}, 0) == [(2, 1)]
    assert plan_payout_batch({}, 100) == []


@pytest.mark.parametrize("balances, minimum", [({1: 100}, -1), ({1: 100}, 1.5), ({1: 10.0}, 1), ({1: True}, 0)])
def test_plan_rejects_inexact_or_negative_inputs(balances, minimum):
    with pytest.raises(PayoutError):
        plan_payout_batch(balances, minimum)


@PROPS
@given(st.dictionaries(st.integers(1, 10**6), st.integers(-10**7, 10**7), max_size=40), st.integers(0, 10**6))
def test_plan_properties(balances, minimum):
    plan = plan_payout_batch(balances, minimum)
    paid_ids = [worker for worker, _ in plan]
    assert paid_ids == sorted(paid_ids)
    assert all(amount == balances[worker] and amount > 0 and amount >= minimum for worker, amount in plan)
    unpaid = set(balances) - set(paid_ids)
    assert all(balances[w] <= 0 or balances[w] < minimum for w in unpaid)


def test_bank_csv_renders_header_rows_and_two_decimal_amounts():
    lines = [
        PayoutLine("COOP-PAYOUT-3-7", "Ana Díaz", "****1234", 123_456),
        PayoutLine("COOP-PAYOUT-3-9", "Lee, Sam", "GB33BUKB20201555555555", 5),
    ]
    text = bank_csv(lines)
    assert text == (
        "reference,payee,account,amount\r\n"
        "COOP-PAYOUT-3-7,Ana Díaz,****1234,1234.56\r\n"
        'COOP-PAYOUT-3-9,"Lee, Sam",GB33BUKB20201555555555,0.05\r\n'
    )
    assert batch_total(lines) == 123_461


def test_empty_batch_is_just_the_header():
    assert bank_csv([]) == "reference,payee,account,amount\r\n"
    assert batch_total([]) == 0


def test_spreadsheet_formulas_in_payee_details_are_neutralised():
    text = bank_csv([PayoutLine("r1", '=HYPERLINK("http://x")', "+123", 100)])
    row = list(csv.reader(io.StringIO(text)))[1]
    assert row[1] == "'=HYPERLINK(\"http://x\")"
    assert row[2] == "'+123"


@pytest.mark.parametrize(
    "line",
    [PayoutLine("r", "p", "a", 0), PayoutLine("r", "p", "a", -1), PayoutLine("r", "p", "a", 1.5),
     PayoutLine("", "p", "a", 1), PayoutLine("r", " ", "a", 1), PayoutLine("r", "p", "", 1)],
)
def test_bank_csv_rejects_bad_lines(line):
    with pytest.raises(PayoutError):
        bank_csv([line])


def test_payout_reference_is_unique_per_batch_and_worker():
    assert payout_reference(3, 7) == "COOP-PAYOUT-3-7"
    assert payout_reference(3, 7) != payout_reference(37, 0)  # the separator keeps ids apart


def neutralised(text):
    return "'" + text if text[0] in "=+-@\t\r" else text


payee_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1).filter(
    str.strip
)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(payee_text, payee_text, st.integers(1, 10**10)), max_size=10))
def test_bank_csv_round_trips(rows):
    lines = [PayoutLine(f"ref-{i}", payee, account, amount) for i, (payee, account, amount) in enumerate(rows)]
    parsed = list(csv.reader(io.StringIO(bank_csv(lines), newline="")))
    assert parsed[0] == ["reference", "payee", "account", "amount"]
    assert len(parsed) == len(lines) + 1  # no total row
    for line, row in zip(lines, parsed[1:], strict=True):
        whole, frac = row[3].split(".")
        assert len(frac) == 2 and int(whole) * 100 + int(frac) == line.amount_cents
        assert row[1:3] == [neutralised(line.payee), neutralised(line.account)]
    assert sum(int(r[3].replace(".", "")) for r in parsed[1:]) == batch_total(lines)
