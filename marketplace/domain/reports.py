"""Financial statements from ledger sums, and their CSV form.

The database does the adding up (one ``GROUP BY`` per report); these pure functions only classify the
per-account sums by the chart of accounts (``domain.ledger``) and lay out the statements. Sums are the
net of postings (debit positive), so credit-normal accounts (liabilities, equity, income) are negated
for display.

- Income statement (DOMAIN.md §1): member fees ``4000``, non-member fees ``4010``, other income (every
  other ``4xxx``, i.e. ``4500``), expenses by category (``5000:<slug>``);
  net margin = MF + NF + OI − X.
- Balance sheet: assets = liabilities + equity, where equity includes the surplus not yet closed
  (income − expenses to date), so the sheet always balances when the ledger does.
- Trial balance: every account's net debit or credit; debits equal credits.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from marketplace.domain.books import category_label
from marketplace.domain.ledger import (
    EXPENSE,
    FEE_REVENUE_MEMBER,
    FEE_REVENUE_NONMEMBER,
)
from marketplace.domain.money import format_cents

BASE_LABELS = {
    "1000": "Bank",
    "1100": "Payment clearing",
    "1200": "Client receivables",
    "2100": "Worker earnings payable",
    "2300": "Dividends payable",
    "3000": "Member share capital",
    "3100": "Members' internal capital accounts",
    "3200": "Collective reserve",
    "4000": "Fees on members' gigs",
    "4010": "Fees on non-members' gigs",
    "4500": "Other income",
    "5000": "Operating expenses",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ReportLine:
    """One line of a statement: an account (or an account group) and its amount in cents."""

    code: str
    label: str
    cents: int


@dataclass(frozen=True)
class IncomeStatement:
    start: date
    end: date
    member_fees_cents: int
    nonmember_fees_cents: int
    other_income_cents: int
    expenses: tuple[ReportLine, ...]

    @property
    def fees_cents(self) -> int:
        return self.member_fees_cents + self.nonmember_fees_cents

    @property
    def total_income_cents(self) -> int:
        return self.fees_cents + self.other_income_cents

    @property
    def total_expenses_cents(self) -> int:
        return sum(line.cents for line in self.expenses)

    @property
    def net_margin_cents(self) -> int:
        """MF + NF + OI − X (DOMAIN.md §1)."""
        return self.total_income_cents - self.total_expenses_cents


@dataclass(frozen=True)
class BalanceSheet:
    as_of: date
    assets: tuple[ReportLine, ...]
    liabilities: tuple[ReportLine, ...]
    equity: tuple[ReportLine, ...]
    surplus_cents: int

    @property
    def total_assets_cents(self) -> int:
        return sum(line.cents for line in self.assets)

    @property
    def total_liabilities_cents(self) -> int:
        return sum(line.cents for line in self.liabilities)

    @property
    def total_equity_cents(self) -> int:
        return sum(line.cents for line in self.equity) + self.surplus_cents

    @property
    def balanced(self) -> bool:
        return self.total_assets_cents == self.total_liabilities_cents + self.total_equity_cents


@dataclass(frozen=True)
class TrialBalanceLine:
    code: str
    name: str
    debit_cents: int
    credit_cents: int


@dataclass(frozen=True)
class TrialBalance:
    as_of: date
    lines: tuple[TrialBalanceLine, ...]

    @property
    def total_debit_cents(self) -> int:
        return sum(line.debit_cents for line in self.lines)

    @property
    def total_credit_cents(self) -> int:
        return sum(line.credit_cents for line in self.lines)


@dataclass(frozen=True)
class EarningsLine:
    occurred_on: date
    entry_id: int
    memo: str
    earned_cents: int
    deducted_cents: int
    balance_cents: int


@dataclass(frozen=True)
class EarningsStatement:
    worker_id: int
    worker_name: str
    start: date
    end: date
    opening_cents: int
    earned_cents: int
    deducted_cents: int
    lines: tuple[EarningsLine, ...]

    @property
    def closing_cents(self) -> int:
        return self.opening_cents + self.earned_cents - self.deducted_cents


def base_code(code: str) -> str:
    """The four-digit account without its sub-ledger id: ``"2100:7"`` → ``"2100"``."""
    return code.split(":", 1)[0]


def code_order(code: str) -> tuple:
    """Sort key for account codes: by base account, then sub-ledger ids numerically (2100:2 before 2100:10)."""
    base, _, sub = code.partition(":")
    return (base, (0, int(sub), "") if sub.isdigit() else (1, 0, sub))


def income_statement_from_sums(start: date, end: date, sums: Mapping[str, int]) -> IncomeStatement:
    """Classify net posting sums per 4xxx/5xxx account into the income statement (income is credit, so negated)."""
    income = {code: -cents for code, cents in sums.items() if code.startswith("4")}
    expenses = [
        ReportLine(code, category_label(code.partition(":")[2] or "uncategorised"), cents)
        for code, cents in sorted(sums.items()) if base_code(code) == EXPENSE and cents
    ]
    member = income.pop(FEE_REVENUE_MEMBER, 0)
    nonmember = income.pop(FEE_REVENUE_NONMEMBER, 0)
    return IncomeStatement(start, end, member, nonmember, sum(income.values()),
                           tuple(sorted(expenses, key=lambda line: (-line.cents, line.code))))


def balance_sheet_from_sums(as_of: date, sums: Mapping[str, int]) -> BalanceSheet:
    """Lay out net sums per base account (``"1200"``, ``"2100"``…) as a balance sheet."""
    def lines(digit: str, sign: int) -> tuple[ReportLine, ...]:
        return tuple(ReportLine(code, BASE_LABELS.get(code, code), sign * cents)
                     for code, cents in sorted(sums.items()) if code.startswith(digit) and cents)

    surplus = -sum(cents for code, cents in sums.items() if code[:1] in ("4", "5"))
    return BalanceSheet(as_of, lines("1", 1), lines("2", -1), lines("3", -1), surplus)


def trial_balance_from_sums(as_of: date, rows: Iterable[tuple[str, str, int]]) -> TrialBalance:
    """(code, name, net sum) per account → debit and credit columns; zero-balance accounts are left out."""
    lines = tuple(
        TrialBalanceLine(code, name, max(cents, 0), max(-cents, 0))
        for code, name, cents in sorted(rows, key=lambda row: code_order(row[0])) if cents
    )
    return TrialBalance(as_of, lines)


def _money(cents: int) -> str:
    return format_cents(cents)


def _text(value: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv(rows: Iterable[Iterable[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(rows)
    return out.getvalue()


def income_statement_csv(statement: IncomeStatement) -> str:
    """``section,account,name,amount``: income lines, expense lines by category, totals and net margin."""
    rows: list[tuple[str, str, str, str]] = [("section", "account", "name", "amount")]
    rows += [
        ("income", FEE_REVENUE_MEMBER, "Member fees", _money(statement.member_fees_cents)),
        ("income", FEE_REVENUE_NONMEMBER, "Non-member fees", _money(statement.nonmember_fees_cents)),
        ("income", "4500", "Other income", _money(statement.other_income_cents)),
        ("total", "", "Total income", _money(statement.total_income_cents)),
    ]
    rows += [("expense", line.code, _text(line.label), _money(line.cents)) for line in statement.expenses]
    rows += [
        ("total", "", "Total expenses", _money(statement.total_expenses_cents)),
        ("total", "", "Net margin", _money(statement.net_margin_cents)),
    ]
    return _csv(rows)


def balance_sheet_csv(sheet: BalanceSheet) -> str:
    """``section,account,name,amount`` for assets, liabilities and equity, with totals."""
    rows: list[tuple[str, str, str, str]] = [("section", "account", "name", "amount")]
    for section, lines, total in (("asset", sheet.assets, sheet.total_assets_cents),
                                  ("liability", sheet.liabilities, sheet.total_liabilities_cents)):
        rows += [(section, line.code, line.label, _money(line.cents)) for line in lines]
        rows.append(("total", "", f"Total {section} accounts", _money(total)))
    rows += [("equity", line.code, line.label, _money(line.cents)) for line in sheet.equity]
    rows.append(("equity", "", "Surplus not yet allocated", _money(sheet.surplus_cents)))
    rows.append(("total", "", "Total equity", _money(sheet.total_equity_cents)))
    return _csv(rows)


def trial_balance_csv(trial: TrialBalance) -> str:
    """``account,name,debit,credit``, one row per account, then the totals (which are equal)."""
    rows: list[tuple[str, str, str, str]] = [("account", "name", "debit", "credit")]
    rows += [(line.code, _text(line.name), _money(line.debit_cents), _money(line.credit_cents))
             for line in trial.lines]
    rows.append(("", "Total", _money(trial.total_debit_cents), _money(trial.total_credit_cents)))
    return _csv(rows)


def earnings_statement_csv(statement: EarningsStatement) -> str:
    """``date,description,earned,deducted,balance`` from the opening to the closing balance."""
    rows: list[tuple[str, str, str, str, str]] = [("date", "description", "earned", "deducted", "balance")]
    rows.append((statement.start.isoformat(), "Opening balance", "", "", _money(statement.opening_cents)))
    rows += [(line.occurred_on.isoformat(), _text(line.memo), _money(line.earned_cents),
              _money(line.deducted_cents), _money(line.balance_cents)) for line in statement.lines]
    rows.append((statement.end.isoformat(), "Closing balance", _money(statement.earned_cents),
                 _money(statement.deducted_cents), _money(statement.closing_cents)))
    return _csv(rows)
