"""CSV exports of a dividend run: pure functions over plain rows, no database and no Flask.

* ``allocations_csv`` — one line per member of a completed run (DOMAIN.md §2–4).
* ``patr_records`` / ``patr_csv`` — the data a treasurer needs to file Form 1099-PATR for a calendar
  year (DOMAIN.md §4): every person paid $10 or more that year; box 1 is the cash paid plus the stated
  amount of qualified written notices of allocation, box 5 the redemptions of nonqualified notices.
  Reported by the year paid (the year the notice was issued or the redemption paid), not the year earned.

Money is written with two decimals and no thousands separator; text cells that a spreadsheet would
read as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from marketplace.domain.money import format_cents

PATR_THRESHOLD_CENTS = 1000  # $10: Form 1099-PATR is due for each person paid this much or more in a year

ALLOCATION_HEADER = ["member_id", "name", "hours", "earnings", "share", "allocation", "cash", "retained", "qualified"]
PATR_HEADER = ["tax_year", "recipient_id", "recipient_name", "recipient_email", "box1_patronage_dividends",
               "box5_redemption_nonqualified", "cash_paid", "qualified_notices_stated_amount", "total_reportable"]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: object) -> str:
    """A text cell that cannot run as a spreadsheet formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def decimal_text(value: Fraction | int | str, places: int) -> str:
    """An exact number with a fixed number of decimals, rounded half up (no floats)."""
    number = Fraction(value)
    scaled = number * 10**places
    sign = "-" if scaled < 0 else ""
    scaled = abs(scaled)
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    digits = str(whole).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}" if places else f"{sign}{digits}"


def hours_text(minutes: int) -> str:
    """Minutes as decimal hours with two decimals (90 → "1.50")."""
    return decimal_text(Fraction(int(minutes), 60), 2)


def _write(header: list[str], rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def allocations_csv(rows: Iterable[Mapping]) -> str:
    """One CSV line per allocation. Each row: member_id, name, hours_minutes, earnings_cents, share
    (Fraction or exact text), allocation_cents, cash_cents, retained_cents, qualified (bool)."""
    return _write(ALLOCATION_HEADER, (
        [
            str(row["member_id"]),
            safe_text(row["name"]),
            hours_text(row["hours_minutes"]),
            format_cents(row["earnings_cents"]),
            decimal_text(row["share"], 6),
            format_cents(row["allocation_cents"]),
            format_cents(row["cash_cents"]),
            format_cents(row["retained_cents"]),
            "yes" if row["qualified"] else "no",
        ]
        for row in rows
    ))


@dataclass(frozen=True)
class PatrRecord:
    """One recipient's 1099-PATR figures for a tax year, in cents."""

    tax_year: int
    recipient_id: int
    name: str
    email: str
    cash_cents: int
    qualified_notice_cents: int
    nonqualified_redemption_cents: int

    @property
    def box1_cents(self) -> int:
        """Box 1, patronage dividends: cash paid plus the stated amount of qualified written notices."""
        return self.cash_cents + self.qualified_notice_cents

    @property
    def total_cents(self) -> int:
        return self.box1_cents + self.nonqualified_redemption_cents


def _year_of(value: date | str) -> int:
    return value.year if isinstance(value, date) else date.fromisoformat(str(value)[:10]).year


def patr_records(payments: Iterable[Mapping], year: int) -> list[PatrRecord]:
    """Aggregate payments by recipient for ``year`` and keep those paid $10 or more (DOMAIN.md §4).

    Each payment row: member_id, name, email, paid_on (date), cash_cents, qualified_notice_cents
    (the retained amount a qualified notice states; 0 for a nonqualified one) and, optionally,
    nonqualified_redemption_cents. Rows paid in another year are ignored. Sorted by recipient id.
    """
    totals: dict[int, dict] = {}
    for payment in payments:
        if _year_of(payment["paid_on"]) != year:
            continue
        entry = totals.setdefault(int(payment["member_id"]), {
            "name": payment["name"], "email": payment.get("email", ""), "cash": 0, "qualified": 0, "redeemed": 0,
        })
        entry["cash"] += int(payment.get("cash_cents", 0))
        entry["qualified"] += int(payment.get("qualified_notice_cents", 0))
        entry["redeemed"] += int(payment.get("nonqualified_redemption_cents", 0))
    records = [
        PatrRecord(year, member_id, e["name"], e["email"], e["cash"], e["qualified"], e["redeemed"])
        for member_id, e in sorted(totals.items())
    ]
    return [record for record in records if record.total_cents >= PATR_THRESHOLD_CENTS]


def patr_csv(records: Iterable[PatrRecord]) -> str:
    """The 1099-PATR data file: one line per recipient, box amounts with two decimals."""
    return _write(PATR_HEADER, (
        [
            str(r.tax_year),
            str(r.recipient_id),
            safe_text(r.name),
            safe_text(r.email),
            format_cents(r.box1_cents),
            format_cents(r.nonqualified_redemption_cents),
            format_cents(r.cash_cents),
            format_cents(r.qualified_notice_cents),
            format_cents(r.total_cents),
        ]
        for r in records
    ))
