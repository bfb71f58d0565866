"""The run's plan and its ledger entries, without a database: DOMAIN.md example A, a loss year, balanced entries."""

from datetime import date
from fractions import Fraction

from marketplace.domain.ledger import validate_entry
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures
from marketplace.services import dividend_plan
from marketplace.services.bulk_rows import _copy_text
from marketplace.services.patronage import PatronageRow

ON = date(2026, 2, 1)
POLICY = AllocationPolicy(Fraction(15), Fraction(1), Fraction(1), Fraction(20))


def example_a():
    # Member surplus 2,345.67 = fees 3,000.00 − expenses 654.33 (DOMAIN.md §6 A).
    rows = [PatronageRow(11, 7200, 300_000), PatronageRow(12, 4800, 400_000), PatronageRow(13, 0, 0),
            PatronageRow(14, 2400, 100_000)]
    return dividend_plan.plan(rows, POLICY, IncomeFigures(300_000, 0, 0, 65_433), Fraction(100))


def test_example_a_lines_and_collective_share():
    planned = example_a()
    assert [(line.allocation_cents, line.cash_cents, line.retained_cents) for line in planned.lines] == [
        (87_230, 17_446, 69_784), (83_076, 16_616, 66_460), (0, 0, 0), (29_076, 5_816, 23_260)]
    assert [line.share_ppm for line in planned.lines] == [437_500, 416_667, 0, 145_833]
    assert planned.collective_cents == 35_185 == planned.result.reserve


def test_a_batch_entry_balances_and_skips_members_without_money():
    planned = example_a()
    spec = dividend_plan.batch_entry(7, planned.lines, ON, "FY 2025")
    validate_entry(spec)
    assert spec.idempotency_key == "dividend:7:members:1-4"
    assert {(p.account_code, p.amount_cents) for p in spec.postings} == {
        ("3900", 199_382), ("2300", -39_878), ("3100:11", -69_784), ("3100:12", -66_460), ("3100:14", -23_260)}
    assert dividend_plan.batch_entry(7, planned.lines[2:3], ON, "FY 2025") is None  # member 13: nothing moves
    collective = dividend_plan.collective_entry(7, planned.collective_cents, ON, "FY 2025")
    validate_entry(collective)
    assert {(p.account_code, p.amount_cents) for p in collective.postings} == {("3900", 35_185), ("3200", -35_185)}


def test_a_loss_is_debited_by_share_up_to_each_capital_account():
    rows = [PatronageRow(1, 600, 10_000, ica_balance_cents=3_000), PatronageRow(2, 600, 10_000, ica_balance_cents=0)]
    # Fees 100.00, expenses 300.00: a member loss of 200.00, all of it borne by members (reserve share 0 %).
    planned = dividend_plan.plan(rows, POLICY, IncomeFigures(10_000, 0, 0, 30_000), Fraction(0))
    assert [line.loss_debit_cents for line in planned.lines] == [3_000, 0]  # 100.00 each, capped at the ICA
    assert planned.loss_debited_cents == 3_000
    assert planned.collective_cents == -20_000 + 3_000  # the rest falls on the reserve
    spec = dividend_plan.batch_entry(3, planned.lines, ON, "FY 2025")
    validate_entry(spec)
    assert {(p.account_code, p.amount_cents) for p in spec.postings} == {("3100:1", 3_000), ("3900", -3_000)}
    assert planned.lines[0].ica_after_cents == 0


def test_copy_text_escapes_what_copy_would_misread():
    assert _copy_text("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert (_copy_text(None), _copy_text(True), _copy_text(-5), _copy_text(ON)) == ("\\N", "t", "-5", "2026-02-01")
