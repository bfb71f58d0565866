"""Laying out ledger sums as statements, and their CSV form."""

import csv
import io
from datetime import date

from marketplace.domain.reports import (
    EarningsLine,
    EarningsStatement,
    ReportLine,
    balance_sheet_csv,
    balance_sheet_from_sums,
    code_order,
    earnings_statement_csv,
    income_statement_csv,
    income_statement_from_sums,
    trial_balance_csv,
    trial_balance_from_sums,
)

START, END = date(2026, 1, 1), date(2026, 12, 31)


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_income_statement_classifies_sums_and_nets_the_margin():
    sums = {"4000": -100_000, "4010": -25_050, "4500": -1_27, "5000:hosting": 60_000, "5000:insurance": 10_000,
            "5000:payment-processing": 3_01, "5000:training": 0}
    statement = income_statement_from_sums(START, END, sums)
    assert (statement.member_fees_cents, statement.nonmember_fees_cents, statement.other_income_cents) == (
        100_000, 25_050, 127)
    assert statement.expenses == (
        ReportLine("5000:hosting", "Hosting and software", 60_000),
        ReportLine("5000:insurance", "Insurance", 10_000),
        ReportLine("5000:payment-processing", "Payment processing", 301),
    )
    assert statement.net_margin_cents == 100_000 + 25_050 + 127 - 70_301
    table = rows(income_statement_csv(statement))
    assert table[0] == ["section", "account", "name", "amount"]
    assert table[1] == ["income", "4000", "Member fees", "1000.00"]
    assert table[-1] == ["total", "", "Net margin", "548.76"]
    assert ["expense", "5000:payment-processing", "Payment processing", "3.01"] in table


def test_a_loss_is_a_negative_margin():
    statement = income_statement_from_sums(START, END, {"4000": -500, "5000:hosting": 900})
    assert statement.net_margin_cents == -400
    assert rows(income_statement_csv(statement))[-1][-1] == "-4.00"


def test_balance_sheet_balances_with_the_unclosed_surplus_in_equity():
    # A gig charged and paid (client 10000, worker 9500, fee 500), an expense of 200, a payout of 9500:
    # the bank holds 10000 - 9500 - 200 = 300 and every other balance-sheet account is back at zero.
    sums = {"1000": 300, "1100": 0, "1200": 0, "2100": 0, "4000": -500, "5000": 200}
    sheet = balance_sheet_from_sums(END, sums)
    assert sheet.assets == (ReportLine("1000", "Bank", 300),)
    assert sheet.surplus_cents == 300
    assert sheet.balanced
    table = rows(balance_sheet_csv(sheet))
    assert ["equity", "", "Surplus not yet allocated", "3.00"] in table
    assert table[-1] == ["total", "", "Total equity", "3.00"]
    unbalanced = balance_sheet_from_sums(END, {"1000": 1, "2100": 0})
    assert not unbalanced.balanced


def test_trial_balance_puts_each_account_in_one_column_and_totals_agree():
    trial = trial_balance_from_sums(END, [("2100:4", "Worker 4", -900), ("1200:2", "Client 2", 1_000),
                                          ("4000", "Member fees", -100), ("1000", "Bank", 0)])
    assert [(line.code, line.debit_cents, line.credit_cents) for line in trial.lines] == [
        ("1200:2", 1_000, 0), ("2100:4", 0, 900), ("4000", 0, 100)]
    assert trial.total_debit_cents == trial.total_credit_cents == 1_000
    assert rows(trial_balance_csv(trial))[-1] == ["", "Total", "10.00", "10.00"]


def test_earnings_csv_runs_from_opening_to_closing_and_defuses_formulas():
    statement = EarningsStatement(
        worker_id=4, worker_name="Ana", start=START, end=END, opening_cents=1_000, earned_cents=9_500,
        deducted_cents=10_000,
        lines=(EarningsLine(date(2026, 3, 1), 1, "=HYPERLINK(\"x\")", 9_500, 0, 10_500),
               EarningsLine(date(2026, 3, 8), 2, "Payout batch 1", 0, 10_000, 500)),
    )
    assert statement.closing_cents == 500
    table = rows(earnings_statement_csv(statement))
    assert table[1] == ["2026-01-01", "Opening balance", "", "", "10.00"]
    assert table[2][1] == "'=HYPERLINK(\"x\")"
    assert table[-1] == ["2026-12-31", "Closing balance", "95.00", "100.00", "5.00"]


def test_account_codes_sort_by_base_then_numeric_sub_ledger():
    codes = ["2100:10", "5000:hosting", "2100:2", "1000", "2100:x", "1200:7"]
    assert sorted(codes, key=code_order) == ["1000", "1200:7", "2100:2", "2100:10", "2100:x", "5000:hosting"]
